"""End to end: synthetic calls written as real pcap files (scapy), read back with
``analyzer.read_capture``, then measured."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analyzer import api
from analyzer.metrics.quality import capture_quality
from analyzer.streams.model import Stream
from tests.metrics.synth import DST, SRC, voice, write_pcap

SSRC_A, SSRC_B = 0x11110001, 0x22220002
LOST = {10, 11, 12, 40, *range(70, 80)}


@pytest.fixture(scope="module")
def call_pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-way G.711 call: A (5004 -> 6004) loses 14 packets in three runs and stops
    after 10 s; B (the reverse) has 2 s of silence (DTX) and goes on to 20 s."""
    a = voice(10.0, seq0=1000, drop=[1000 + k for k in LOST])
    b = voice(20.0, seq0=30000, ts0=777, silence=[(6.0, 8.0)])
    path = tmp_path_factory.mktemp("pcap") / "call.pcap"
    return write_pcap(path, [(a, (SRC, 5004, DST, 6004), SSRC_A),
                             (b, (DST, 6004, SRC, 5004), SSRC_B)])


def _by_ssrc(cap: api.Capture, ssrc: int) -> Stream:
    (s,) = [s for s in cap.streams if s.ssrc == ssrc]
    return s


def test_roundtrip_loss_dtx_cutoff(call_pcap: Path) -> None:
    cap = api.read_capture(call_pcap)
    a, b = _by_ssrc(cap, SSRC_A), _by_ssrc(cap, SSRC_B)
    assert a.clock_rate_hz == 8000 and a.codec == "PCMU"
    q = capture_quality(cap.streams, cap.calls)
    qa, qb = q[a.index], q[b.index]
    da, db = qa.to_dict(), qb.to_dict()
    json.dumps([da, db], allow_nan=False)
    # A: the losses exactly (see test_losspattern for the arithmetic)
    assert da["loss"]["lost"] == 14 and da["loss"]["expected"] == 500
    assert da["max_loss_run"] == 10
    assert da["loss_run_histogram"] == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "6": 0,
                                        "7": 0, "8": 0, "9": 0, "10+": 1}
    # bursts 10-12 and 70-79 (13 packets, all lost); the other 487 hold one loss
    assert da["burst_density"] == 1.0 and da["gap_density"] == pytest.approx(1 / 487)
    assert da["frame_interval_ms"] == pytest.approx(20.0)
    # A stops at 11.01 s (capture time 10.0 s: the capture starts at the first arrival,
    # 1.03 s); B goes on to 21.01 s: 500 packets missing
    t0 = 1.03
    assert da["cutoff"]["at_s"] == pytest.approx(11.01 - t0, abs=2e-6)
    assert da["cutoff"]["missing_packets"] == 500
    assert da["cutoff"]["basis"] == "reverse_media"
    # B: silence is not loss, not a gap, not a cut-off
    assert db["loss"]["lost"] == 0 and db["max_loss_run"] == 0
    assert db["dtx"]["periods"] == 1 and db["gaps"]["count"] == 0
    assert db["cutoff"] is None
    # windows of B show the silence as zero packets, not as loss
    ws = qb.windows
    silent = (ws.start_s >= 7.0 - t0 + 0.03) & (ws.start_s < 8.0 - t0 - 0.03)
    assert silent.any() and (ws.packets[silent] == 0).all() and (ws.lost[silent] == 0).all()


def test_tshark_blind_to_the_cutoff(call_pcap: Path) -> None:
    """The stream statistics TShark's way report 14 lost for A and nothing about the
    500 packets after it stopped; the quality layer reports both."""
    cap = api.read_capture(call_pcap)
    a = _by_ssrc(cap, SSRC_A)
    assert a.stats.lost == 14
    q = capture_quality(cap.streams, cap.calls)[a.index]
    assert q.cutoff is not None and q.cutoff.missing_packets == 500


@pytest.fixture(scope="module")
def ptime_pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One direction switching from 20 ms to 60 ms packets (dynamic PT 111, 48 kHz)."""
    a = voice(6.0, frame_s=0.02, clock_hz=48000, payload_type=111, size_bytes=80)
    b = voice(6.0, frame_s=0.06, clock_hz=48000, payload_type=111, size_bytes=200,
              start_s=8.0, seq0=1000 + len(a), ts0=5000 + 7 * 48000)
    both = type(a)(send_s=np.concatenate((a.send_s, b.send_s)),
                   seq=np.concatenate((a.seq, b.seq)),
                   rtp_ts=np.concatenate((a.rtp_ts, b.rtp_ts)),
                   arrival_s=np.concatenate((a.arrival_s, b.arrival_s)),
                   size_bytes=np.concatenate((a.size_bytes, b.size_bytes)),
                   payload_type=np.concatenate((a.payload_type, b.payload_type)),
                   marker=np.concatenate((a.marker, b.marker)))
    path = tmp_path_factory.mktemp("pcap") / "ptime.pcap"
    return write_pcap(path, [(both, (SRC, 40000, DST, 40002), SSRC_A)])


def test_roundtrip_ptime_change(ptime_pcap: Path) -> None:
    cap = api.read_capture(ptime_pcap)
    s = _by_ssrc(cap, SSRC_A)
    assert s.clock_rate_hz == 48000
    d = capture_quality(cap.streams, cap.calls)[s.index].to_dict()
    assert d["frame_intervals_ms"] == pytest.approx([20.0, 60.0])
    assert d["loss"]["lost"] == 0 and d["gaps"]["count"] == 0
    # the 1 s pause between the two parts is silence (the timestamp jumps with it)
    assert d["dtx"]["periods"] == 1
