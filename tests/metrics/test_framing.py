"""Frame interval, packet-time segments and silence: never mistaken for loss."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.metrics.framing import (
    FrameTiming,
    estimate_interval_from_arrivals,
    frame_timing,
    snap_interval,
)
from analyzer.metrics.losspattern import loss_pattern
from analyzer.metrics.quality import stream_quality
from tests.metrics.synth import Voice, opaque_stream, series, stream, voice, voice_stream


def _timing(v: Voice) -> FrameTiming:
    return frame_timing(v.arrival_s, v.size_bytes, seq=v.seq, rtp_ts=v.rtp_ts,
                        clock_rate_hz=8000, payload_type=v.payload_type)


@pytest.mark.parametrize("frame_s", [0.01, 0.02, 0.03, 0.04, 0.06])
def test_frame_interval_from_timestamps(frame_s: float) -> None:
    rng = np.random.default_rng(7)
    n = round(10.0 / frame_s)
    v = voice(10.0, frame_s=frame_s, delay_s=np.abs(rng.normal(0, 0.004, n)))
    tm = _timing(v)
    assert tm.source == "rtp_timestamp"
    assert tm.frame_interval_s == pytest.approx(frame_s, abs=1e-9)
    assert len(tm.segments) == 1
    assert tm.dtx_periods == 0


def test_dtx_silence_is_not_loss_and_not_a_gap() -> None:
    # the sender stops for 2 s twice: no sequence numbers used, the timestamp jumps
    v = voice(20.0, silence=[(5.0, 7.0), (12.0, 14.5)])
    tm = _timing(v)
    assert tm.frame_interval_s == pytest.approx(0.02)
    assert tm.dtx_periods == 2
    assert tm.dtx_start_s[0] == pytest.approx(5.0 - 0.02 + 0.03)  # last packet before
    assert tm.dtx_total_s == pytest.approx((2.0 + 0.02) + (2.5 + 0.02))
    lp = loss_pattern(v.seq, v.arrival_s, frame_interval_s=tm.frame_interval_s)
    assert lp.lost == 0 and lp.max_run == 0
    q = stream_quality(voice_stream(v))
    assert q.gaps.count == 0  # the 2-s silences are explained by the timestamps
    assert q.to_dict()["loss"]["lost"] == 0
    assert q.mos["fixed_50ms"] == pytest.approx(q.emodel["fixed_50ms"].mos)
    assert q.buffers["fixed_50ms"].concealed_frames == 0


def test_comfort_noise_payload_type() -> None:
    # speech, then 2 s of silence carried by comfort noise (PT 13, 100 ms apart), speech
    sp1 = np.arange(0, 100) * 0.02
    cn = 2.0 + np.arange(0, 20) * 0.1
    sp2 = 4.0 + np.arange(0, 100) * 0.02
    t = np.concatenate((sp1, cn, sp2)) + 1.0
    pt = np.concatenate((np.zeros(100), np.full(20, 13), np.zeros(100))).astype(np.int16)
    ts = np.rint((t - 1.0) * 8000).astype(np.int64)
    seq = np.arange(t.size)
    size = np.where(pt == 13, 13, 172)
    tm = frame_timing(t, size, seq=seq, rtp_ts=ts, clock_rate_hz=8000, payload_type=pt)
    assert tm.frame_interval_s == pytest.approx(0.02)
    assert tm.comfort_noise_packets == 20
    assert tm.dtx_periods == 1
    # from the first comfort-noise packet to the first speech packet after it
    assert tm.dtx_start_s[0] == pytest.approx(t[100]) and tm.dtx_end_s[0] == pytest.approx(t[120])
    q = stream_quality(stream(series(t, seq=seq, rtp_ts=ts, size_bytes=size, payload_type=pt)))
    assert q.loss is not None and q.loss.lost == 0
    assert q.gaps.count == 0


def test_ptime_change_20_to_60_ms() -> None:
    a = voice(10.0, frame_s=0.02, start_s=1.0, seq0=100, ts0=0)
    b = voice(10.0, frame_s=0.06, start_s=11.0, seq0=100 + len(a), ts0=80000)
    t = np.concatenate((a.arrival_s, b.arrival_s))
    seq = np.concatenate((a.seq, b.seq))
    ts = np.concatenate((a.rtp_ts, b.rtp_ts))
    tm = frame_timing(t, np.full(t.size, 172), seq=seq, rtp_ts=ts, clock_rate_hz=8000)
    assert [s.frame_interval_s for s in tm.segments] == pytest.approx([0.02, 0.06])
    assert tm.segments[1].first_packet == len(a)
    assert tm.frame_interval_s == pytest.approx(0.02)  # 500 packets at 20 ms vs 167 at 60
    assert tm.dtx_periods == 0
    q = stream_quality(stream(series(t, seq=seq, rtp_ts=ts)))
    assert q.loss is not None and q.loss.lost == 0
    assert q.gaps.count == 0  # 60 ms spacing is no gap in the 60 ms segment
    assert q.to_dict()["frame_intervals_ms"] == pytest.approx([20.0, 60.0])


def test_telegram_like_60ms_without_rtp() -> None:
    rng = np.random.default_rng(3)
    t = 5.0 + np.arange(600) * 0.06 + rng.normal(0, 0.004, 600)
    t.sort()
    q = stream_quality(opaque_stream(t, size_bytes=200, kind="telegram"))
    assert q.timing.source == "arrival"
    assert q.timing.frame_interval_s == pytest.approx(0.06)
    assert q.loss is None
    assert q.mos == {"fixed_50ms": None, "fixed_200ms": None, "adaptive_500ms": None}
    assert q.to_dict()["mos_note"].startswith("no RTP")


def test_bunched_delivery_does_not_fool_the_arrival_estimate() -> None:
    # 20 ms frames delivered in bursts of 25 every 0.5 s (packets 1 ms apart)
    t = np.concatenate([k * 0.5 + np.arange(25) * 0.001 for k in range(40)])
    assert estimate_interval_from_arrivals(t) == pytest.approx(0.02)


def test_tiny_packets_at_the_frame_rate_are_speech() -> None:
    # a low-rate codec: every frame 24 bytes, 20 ms apart - not comfort noise
    v = voice(5.0, size_bytes=24)
    tm = _timing(v)
    assert tm.comfort_noise_packets == 0 and tm.dtx_periods == 0


def test_snap_interval() -> None:
    assert snap_interval(0.0193) == 0.02
    assert snap_interval(0.0585) == 0.06
    assert snap_interval(0.0265) == pytest.approx(0.0265)  # nothing close


def test_single_packet_and_empty() -> None:
    tm = frame_timing(np.array([1.0]), np.array([100]))
    assert tm.frame_interval_s is None and tm.segments == ()
    q = stream_quality(opaque_stream(np.array([1.0])))
    assert q.to_dict()["frame_interval_ms"] is None
