"""PDV, running jitter, inter-arrival summary and two-capture pairing."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.metrics.delay import interarrival, pair_captures, pdv, rfc3550_jitter_s, summarize
from tests.metrics.synth import series, voice


def test_pdv_known_delays() -> None:
    # transit = 30 ms + a repeating 0 / 5 / 10 / 20 ms pattern: PDV is that pattern
    extra = np.tile([0.0, 0.005, 0.010, 0.020], 100)
    v = voice(8.0, delay_s=extra)
    p = pdv(v.arrival_s, v.rtp_ts, 8000)
    d = p.distribution
    assert d.count == 400 and d.min_s == pytest.approx(0.0, abs=1e-9)
    assert d.max_s == pytest.approx(0.020)
    assert d.mean_s == pytest.approx((0 + 0.005 + 0.010 + 0.020) / 4)
    # sorted: 100 x 0, 100 x 5 ms, 100 x 10 ms, 100 x 20 ms; median between #199 and #200
    assert d.p50_s == pytest.approx(0.0075)
    assert d.p95_s == pytest.approx(0.020)
    assert p.clock_skew_ppm is None  # an 8-s stream is too short to say


def test_pdv_ignores_duplicates_and_reports_skew() -> None:
    v = voice(30.0)
    t = v.send_s * (1 + 50e-6) + 0.03  # the capture clock runs 50 ppm fast
    seq = np.append(v.seq, v.seq[-1])
    ts = np.append(v.rtp_ts, v.rtp_ts[-1])
    t = np.append(t, t[-1] + 0.5)  # a duplicate, half a second late
    dup = np.zeros(t.size, dtype=bool)
    dup[-1] = True
    p = pdv(t, ts, 8000, duplicate=dup)
    assert p.distribution.count == seq.size - 1
    assert p.clock_skew_ppm == pytest.approx(50.0, rel=1e-3)
    assert p.distribution.max_s == pytest.approx(50e-6 * (v.send_s[-1] - v.send_s[0]))


def test_rfc3550_jitter_matches_the_recursion() -> None:
    rng = np.random.default_rng(5)
    v = voice(4.0, delay_s=np.abs(rng.normal(0, 0.01, 200)))
    j = rfc3550_jitter_s(v.arrival_s, v.rtp_ts, 8000)
    ref, jj = [0.0], 0.0
    for i in range(1, len(v)):
        d = (v.arrival_s[i] - v.arrival_s[i - 1]) - (v.rtp_ts[i] - v.rtp_ts[i - 1]) / 8000
        jj += (abs(d) - jj) / 16
        ref.append(jj)
    assert j == pytest.approx(ref, abs=1e-12)


def test_interarrival_summary() -> None:
    t = np.cumsum(np.tile([0.01, 0.02, 0.03], 10))
    d = interarrival(t)
    assert d.count == 29 and d.min_s == pytest.approx(0.01) and d.max_s == pytest.approx(0.03)
    assert summarize(np.zeros(0)).to_dict()["p50_s"] is None


def test_pair_captures_exact_loss_and_delay() -> None:
    rng = np.random.default_rng(11)
    sent = voice(10.0, base_delay_s=0.0)  # capture at the sender: arrival = send time
    delays = 0.040 + np.abs(rng.normal(0, 0.005, 500))
    drop = [1003, 1004, 1250, 1499]
    recv = voice(10.0, base_delay_s=0.0, delay_s=delays, drop=drop)
    r_series = series(recv.arrival_s + 5.0, seq=recv.seq, rtp_ts=recv.rtp_ts)  # clock +5 s
    res = pair_captures(series(sent.arrival_s, seq=sent.seq, rtp_ts=sent.rtp_ts), r_series,
                        receiver_start_s=5.5, receiver_end_s=float(r_series.arrival_s[-1]) + 1)
    assert res.lost_seq.tolist() == drop and res.lost == 4
    assert (res.sent, res.received) == (500, 496)
    kept = np.isin(sent.seq, drop, invert=True)
    assert res.offset_s == pytest.approx(5.0 + delays[kept].min())
    assert res.delay_relative.max_s == pytest.approx(delays[kept].max() - delays[kept].min())
    assert res.delay_raw is None
    # without the receiver's capture end, the last packet (never received) is not counted
    res2 = pair_captures(series(sent.arrival_s, seq=sent.seq), r_series)
    assert res2.lost_seq.tolist() == drop[:-1]
    sync = pair_captures(series(sent.arrival_s, seq=sent.seq),
                         series(recv.arrival_s, seq=recv.seq), clocks_synchronised=True)
    assert sync.delay_raw is not None
    assert sync.delay_raw.min_s == pytest.approx(delays[kept].min())


def test_pair_captures_across_a_wrap() -> None:
    # the sender capture starts before seq 65535 wraps, the receiver's after it: their
    # extended numbers differ by 65536
    sent = voice(2.0, seq0=65500, base_delay_s=0.0)
    recv_seq = sent.seq[50:] - 65536  # the receiver first saw raw seq 14 (unwrapped: 14)
    res = pair_captures(series(sent.arrival_s, seq=sent.seq),
                        series(sent.arrival_s[50:] + 0.05, seq=recv_seq))
    assert res.received == 50 and res.lost == 0 and res.unmatched_received == 0
    assert res.offset_s == pytest.approx(0.05)
