"""RTP streams built from crafted packets with known ground truth: sequence and timestamp
wrap, reordering, duplicates, loss, SSRC change, CSRC/extension/padding, TURN ChannelData.
Each case is also checked against TShark itself when it is installed."""

from __future__ import annotations

import itertools
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from analyzer import read_capture
from tests.support.craft import write_rtp_capture
from tests.support.tshark_ref import parse_rtp_streams

SSRC = 0x11223344
FRAME_NS = 20_000_000
T0 = 1_700_000_000 * 1_000_000_000


def rtp(seq: int, ts: int, ssrc: int = SSRC, *, pt: int = 0, marker: bool = False,
        csrc: int = 0, ext_words: int = 0, pad: int = 0, payload: bytes = b"\xd5" * 160
        ) -> bytes:
    """RTP with optional CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1)."""
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext_words else 0) | csrc
    b1 = (0x80 if marker else 0) | pt
    hdr = struct.pack("!BBHII", b0, b1, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
    hdr += b"".join(struct.pack("!I", 0x1000 + i) for i in range(csrc))
    if ext_words:
        hdr += struct.pack("!HH", 0xBEDE, ext_words) + b"\x00" * 4 * ext_words
    body = payload + (b"\x00" * (pad - 1) + bytes([pad]) if pad else b"")
    return hdr + body


def jitter_ns(i: int) -> int:
    return ((i * 7919) % 11 - 5) * 200_000  # deterministic ±1 ms


def stream(n: int, *, seq0: int = 1000, ts0: int = 5000, drop: frozenset[int] = frozenset(),
           **kw: object) -> list[tuple[int, bytes]]:
    return [(T0 + i * FRAME_NS + jitter_ns(i), rtp(seq0 + i, ts0 + 160 * i, **kw))
            for i in range(n) if i not in drop]


CASES: dict[str, tuple[list[tuple[int, bytes]], dict]] = {
    "plain": (stream(50), {"packets": 50, "lost": 0}),
    "seq_wrap": (stream(60, seq0=65510), {"packets": 60, "lost": 0}),
    "ts_wrap": (stream(60, ts0=(1 << 32) - 160 * 20), {"packets": 60, "lost": 0}),
    "loss": (stream(60, drop=frozenset({10, 11, 12, 40})), {"packets": 56, "lost": 4}),
    "csrc_ext_pad": (stream(40, csrc=2, ext_words=1, pad=4), {"packets": 40, "lost": 0}),
}


def _reordered() -> list[tuple[int, bytes]]:
    s = stream(50)
    s[20], s[21] = (s[20][0], s[21][1]), (s[21][0], s[20][1])  # packets 20/21 swap places
    return s


def _duplicated() -> list[tuple[int, bytes]]:
    s = stream(50)
    return [*s[:30], (s[29][0] + 50_000, s[29][1]), *s[30:]]


CASES["reorder"] = (_reordered(), {"packets": 50, "lost": 0, "reordered": 1})
CASES["duplicate"] = (_duplicated(), {"packets": 51, "lost": -1, "duplicates": 1})


@pytest.mark.parametrize("name", sorted(CASES))
def test_crafted_stream(name: str, tmp_path: Path) -> None:
    packets, want = CASES[name]
    cap = read_capture(write_rtp_capture(tmp_path / f"{name}.pcap", packets))
    (s,) = [x for x in cap.streams if x.kind == "rtp"]
    assert s.ssrc == SSRC and s.clock_rate_hz == 8000 and s.clock_source == "static"
    for k, v in want.items():
        assert getattr(s.stats, k) == v, k
    assert s.stats.max_delta_ms == pytest.approx(max(
        (b - a) / 1e6 for (a, _), (b, _) in itertools.pairwise(packets)), abs=0.5)
    assert 0 < s.stats.mean_jitter_ms < 2
    # the extended sequence is monotone apart from the one reordered/duplicated packet
    assert (s.series.seq[1:] <= s.series.seq[:-1]).sum() <= 1


@pytest.mark.skipif(not shutil.which("tshark"), reason="tshark not installed")
@pytest.mark.parametrize("name", sorted(CASES))
def test_crafted_stream_equals_tshark(name: str, tmp_path: Path) -> None:
    path = write_rtp_capture(tmp_path / f"{name}.pcap", CASES[name][0])
    out = subprocess.run(["tshark", "-r", str(path), "-q", "-o", "rtp.heuristic_rtp:TRUE",
                          "-z", "rtp,streams"], capture_output=True, text=True, check=True)
    (ref,) = parse_rtp_streams(out.stdout)
    (s,) = [x for x in read_capture(path).streams if x.kind == "rtp"]
    assert (s.stats.packets, s.stats.lost) == (ref.packets, ref.lost)
    assert s.stats.max_delta_ms == pytest.approx(ref.max_delta_ms, abs=0.01)
    assert s.stats.max_jitter_ms == pytest.approx(ref.max_jitter_ms, abs=0.01)
    assert s.stats.mean_jitter_ms == pytest.approx(ref.mean_jitter_ms, abs=0.01)


def test_ssrc_change_makes_two_streams(tmp_path: Path) -> None:
    packets = stream(30) + [(T0 + (30 + i) * FRAME_NS, rtp(7000 + i, 90000 + 160 * i,
                                                           ssrc=0x55667788))
                            for i in range(30)]
    cap = read_capture(write_rtp_capture(tmp_path / "ssrc.pcap", packets))
    rtps = sorted((s.ssrc, s.stats.packets, s.stats.lost) for s in cap.streams
                  if s.kind == "rtp")
    assert rtps == [(SSRC, 30, 0), (0x55667788, 30, 0)]
    assert len(cap.calls) == 1  # same 5-tuple: one call


def test_turn_channeldata_is_unwrapped(tmp_path: Path) -> None:
    def chan(payload: bytes) -> bytes:
        return struct.pack("!HH", 0x4001, len(payload)) + payload
    packets = [(t, chan(p)) for t, p in stream(40, pt=111, payload=b"\x01" * 80)]
    cap = read_capture(write_rtp_capture(tmp_path / "turn.pcap", packets, dport=3478))
    (s,) = [x for x in cap.streams if x.kind == "rtp"]
    assert (s.ssrc, s.stats.packets, s.stats.lost) == (SSRC, 40, 0)
    assert s.transport == "turn-udp"
    assert s.series.size_bytes[0] == 12 + 80  # the RTP packet, not the ChannelData frame


def test_random_udp_is_not_rtp(tmp_path: Path) -> None:
    import numpy as np
    rng = np.random.default_rng(3)
    packets = [(T0 + i * FRAME_NS, bytes([0x80]) + rng.bytes(100)) for i in range(100)]
    cap = read_capture(write_rtp_capture(tmp_path / "junk.pcap", packets))
    assert not [s for s in cap.streams if s.kind == "rtp"]
    assert [s.kind for s in cap.streams] == ["opaque"]  # regular small datagrams


def test_many_tiny_flows_are_counted_not_listed(tmp_path: Path) -> None:
    """A scan or DNS chatter: thousands of 1-2 packet flows must not each become a stream."""
    from tests.support.craft import Rec, frame, pcap_bytes, udp4
    recs = [Rec(T0 + i * 1_000_000, frame(1, udp4(10000 + i, 53, b"\x12\x34" + b"q" * 30)))
            for i in range(3000)]
    path = tmp_path / "scan.pcap"
    path.write_bytes(pcap_bytes(recs))
    cap = read_capture(path)
    assert cap.streams == () and cap.small_other_flows == 3000
    assert cap.summary()["small_other_flows"] == 3000


@pytest.mark.parametrize("n_flows", [50, 3_000_000])
def test_rows_per_flow_equals_a_bincount(n_flows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-flow counts a chunk at a time, by offset bincount (nearby ids) or by unique
    (ids spread over millions of flows), equal one plain bincount."""
    import numpy as np

    from analyzer.streams import build

    monkeypatch.setattr(build, "COUNT_CHUNK_ROWS", 1000)
    rng = np.random.default_rng(4)
    flow = rng.integers(0, n_flows, 20_000).astype(np.int32)
    mask = rng.random(flow.size) < 0.7
    want = np.bincount(flow[mask], minlength=n_flows)
    got = build._rows_per_flow(flow, mask, n_flows)
    assert got.dtype == np.int32 and np.array_equal(got, want)
