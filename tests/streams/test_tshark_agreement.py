"""Our stream statistics against TShark 4.0.17 on the 62 public captures.

Default mode (SDP-signalled or static RTP): every stream must agree (packets and lost
equal; max/mean jitter and max delta within 0.01 ms). Heuristic mode (any UDP): every
stream tshark lists with at least 5 packets must agree, except the few listed in
HEURISTIC_DIFFERENCES, each with the reason we differ on purpose.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import pytest

from analyzer import read_capture
from analyzer.crosscheck.tshark import stream_differences
from tests.support.paths import PUBLIC, public_captures
from tests.support.tshark_ref import RefStream, load_reference

MIN_HEURISTIC_PACKETS = 5

#: (capture name, ssrc, source port) -> why our numbers differ from tshark's heuristic mode.
HEURISTIC_DIFFERENCES = {
    ("stun_google_meet.pcapng", 0x0, 19305): "tshark's heuristic RTP dissector rejects some "
    "packets of this SSRC-0 stream (shown as plain UDP) that carry consecutive sequence "
    "numbers; we "
    "count them, so our packet count is higher and lost lower",
    ("stun_signal.pcapng", 0x7DD, 61498): "frame 407 carries sequence number 28365 of this stream "
    "but tshark's heuristic leaves it as UDP and reports it lost; we count it",
    ("whatsappCall.pcapng", 0x381C9F32, 45945): "tshark's heuristic misses one packet of this "
    "stream, which changes which inter-arrival gap it sees as the maximum",
}

#: Streams tshark's heuristic "finds" in encrypted non-RTP traffic; we must not call them RTP.
HEURISTIC_JUNK = {
    ("imo.pcap", 0x00010000): "8 packets, lost -7: sequence numbers jump around (imo's own "
    "encrypted protocol)",
    ("imo.pcap", 0xF3C66C5A): "6 packets over 3 s, lost -5: not a sequence",
}

pytestmark = pytest.mark.skipif(not PUBLIC.is_dir(), reason="../shared/captures-public absent")


@cache
def _ours(path: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = read_capture(path)
    return {(s.src, s.sport, s.dst, s.dport, s.ssrc): (s, cap.timeline)
            for s in cap.streams if s.kind == "rtp"}


def _refs(mode: str) -> list[tuple[Path, RefStream]]:
    out = []
    for cap in public_captures():
        ref = cap.with_name(cap.name + ".tshark-rtp.txt")
        if ref.exists():
            out.extend((cap, r) for r in load_reference(ref)[mode])
    return out


def _differences(cap: Path, r: RefStream) -> list[str]:
    found = _ours(cap).get(r.key)
    return ["stream not found"] if found is None else stream_differences(found[0], r, found[1])


DEFAULT = _refs("default")
HEURISTIC = [x for x in _refs("heuristic") if x[1].packets >= MIN_HEURISTIC_PACKETS]


def _id(x: tuple[Path, RefStream]) -> str:
    return f"{x[0].name}:{x[1].ssrc:#010x}:{x[1].sport}-{x[1].dport}"


def test_reference_set_is_complete() -> None:
    assert len(public_captures()) == 62
    assert len(DEFAULT) == 22


@pytest.mark.parametrize("case", DEFAULT, ids=_id)
def test_default_mode_stream_agrees(case: tuple[Path, RefStream]) -> None:
    assert _differences(*case) == []


@pytest.mark.parametrize("case", HEURISTIC, ids=_id)
def test_heuristic_mode_stream_agrees(case: tuple[Path, RefStream]) -> None:
    cap, r = case
    junk = HEURISTIC_JUNK.get((cap.name, r.ssrc))
    if junk:
        assert r.key not in _ours(cap), f"junk stream called RTP: {junk}"
        return
    probs = _differences(cap, r)
    reason = HEURISTIC_DIFFERENCES.get((cap.name, r.ssrc, r.sport))
    if reason:
        assert probs, f"listed as differing ({reason}) but now agrees: remove it"
        pytest.xfail(reason)
    assert probs == []
