"""Captures made through the real Linux kernel (captures/lab: GStreamer Opus/RTP through
network namespaces, nftables drops, a tbf shaper; both ends captured).

Our stream statistics must equal TShark's on the receiver captures (heuristic mode, and
default mode where SIP/SDP signals the call), and our packet counts must equal the truth
computed from the two ends.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from analyzer import read_capture
from tests.support.tshark_ref import RefStream, parse_rtp_streams

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"
SCENARIOS = ("clean", "clean60", "loss5", "cutoff", "periodic", "ratecap", "sdp")
TOL_MS = 0.01


def _streams(path: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = read_capture(path)
    return {(s.src, s.sport, s.dst, s.dport, s.ssrc): s for s in cap.streams if s.kind == "rtp"}


def _cases() -> list[tuple[str, str, RefStream]]:
    out = []
    for sc in SCENARIOS:
        for mode, suffix in (("heuristic", "receiver.tshark-rtp.txt"),
                             ("default", "receiver.tshark-rtp-noheur.txt")):
            f = LAB / f"{sc}.{suffix}"
            if f.exists():
                out.extend((sc, mode, r) for r in parse_rtp_streams(f.read_text()))
    return out


CASES = _cases()


def test_every_scenario_has_references() -> None:
    assert {c[0] for c in CASES} == set(SCENARIOS)
    assert any(c[1] == "default" for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2].ssrc:#x}")
def test_receiver_stream_equals_tshark(case: tuple[str, str, RefStream]) -> None:
    sc, mode, r = case
    s = _streams(LAB / f"{sc}-receiver.pcap")[r.key]
    st = s.stats
    assert (st.packets, st.lost) == (r.packets, r.lost)
    assert st.max_delta_ms == pytest.approx(r.max_delta_ms, abs=TOL_MS)
    assert st.mean_delta_ms == pytest.approx(r.mean_delta_ms, abs=TOL_MS)
    assert st.start_s == pytest.approx(r.start_s, abs=2e-6)
    if mode == "default":  # SDP maps PT 111 to opus/48000: TShark measures jitter too
        assert s.clock_source == "sdp"
        assert st.max_jitter_ms == pytest.approx(r.max_jitter_ms, abs=TOL_MS)
        assert st.mean_jitter_ms == pytest.approx(r.mean_jitter_ms, abs=TOL_MS)
    else:  # no SDP: TShark prints jitter 0; we infer the 48 kHz clock and measure it
        assert s.clock_rate_hz == 48000
        assert st.max_jitter_ms is not None and st.max_jitter_ms > 0


@pytest.mark.parametrize("sc", SCENARIOS)
def test_received_counts_equal_truth(sc: str) -> None:
    truth = json.loads((LAB / f"{sc}.truth.json").read_text())
    ours = _streams(LAB / f"{sc}-receiver.pcap")
    for t in truth["streams"]:
        s = ours[(t["src"], t["sport"], t["dst"], t["dport"], t["ssrc"])]
        assert s.stats.packets == t["received"]
        # losses between the first and last arrival are what a receiver can see
        assert s.stats.lost == t["lost_within_received_span"]


def test_sdp_default_mode_matches_with_jitter() -> None:
    refs = [c for c in CASES if c[0] == "sdp" and c[1] == "default"]
    assert len(refs) == 2 and all(c[2].max_jitter_ms > 0 for c in refs)
