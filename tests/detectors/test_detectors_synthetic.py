"""Each detector on seeded synthetic streams (bare arrays), with the answer known."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.detectors.burst import BurstLossDetector
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.features import features_from_arrays
from analyzer.detectors.jitter import JitterDetector
from analyzer.detectors.loss import LossDetector
from analyzer.detectors.metallic import MetallicRiskDetector
from analyzer.detectors.onset import OnsetDetector
from analyzer.detectors.periodic import PeriodicDropDetector, spacing_pvalue
from analyzer.detectors.ratecap import RateCapDetector
from analyzer.detectors.reference import reference_from_features
from analyzer.detectors.shift import distribution_shift

CLOCK = 48000
#: No baseline, no onset, seed 0.
CTX = DetectionContext()
FRAME = 0.02


def rtp_stream(n: int = 3000, *, seed: int = 1, jitter_s: float = 0.002,
               drop: np.ndarray | None = None, extra_delay: np.ndarray | None = None,
               size: np.ndarray | None = None) -> dict:
    """An RTP stream: 20 ms frames, sizes 60-120 B + 12, per-packet drop / extra delay."""
    r = np.random.default_rng(seed)
    send = 0.5 + np.arange(n) * FRAME
    arrival = send + 0.04 + np.abs(r.normal(0, jitter_s, n))
    if extra_delay is not None:
        arrival = arrival + extra_delay
    sizes = size if size is not None else r.integers(60, 121, n) + 12
    keep = np.ones(n, dtype=bool) if drop is None else ~drop
    order = np.argsort(arrival[keep], kind="stable")
    seq = (1000 + np.arange(n))[keep][order]
    ts = (np.arange(n) * int(CLOCK * FRAME))[keep][order]
    return {"arrival_s": arrival[keep][order], "size_bytes": sizes[keep][order], "seq": seq,
            "rtp_ts": ts, "clock_rate_hz": CLOCK}


def feats(d: dict):
    return features_from_arrays(d["arrival_s"], d["size_bytes"], seq=d["seq"],
                                rtp_ts=d["rtp_ts"], clock_rate_hz=d["clock_rate_hz"])


def token_bucket(send: np.ndarray, size_ip: np.ndarray, rate_bps: float, bucket: float,
                 start_s: float) -> np.ndarray:
    drop = np.zeros(send.size, dtype=bool)
    tokens, last = bucket, None
    for i, (t, s) in enumerate(zip(send, size_ip, strict=True)):
        if t < start_s:
            continue
        if last is not None:
            tokens = min(bucket, tokens + (t - last) * rate_bps / 8)
        last = t
        if s <= tokens:
            tokens -= s
        else:
            drop[i] = True
    return drop


def fifo_shaper(send: np.ndarray, size_ip: np.ndarray, rate_bps: float, queue: float,
                start_s: float) -> tuple[np.ndarray, np.ndarray]:
    drop = np.zeros(send.size, dtype=bool)
    delay = np.zeros(send.size)
    busy = -np.inf
    for i, (t, s) in enumerate(zip(send, size_ip, strict=True)):
        if t < start_s:
            continue
        backlog = max(0.0, busy - t) * rate_bps / 8
        if backlog + s > queue:
            drop[i] = True
            continue
        busy = max(t, busy) + s * 8 / rate_bps
        delay[i] = busy - t
    return drop, delay


@pytest.fixture(scope="module")
def capped():
    r = np.random.default_rng(3)
    n = 3000
    send = 0.5 + np.arange(n) * FRAME
    sizes = r.integers(60, 121, n) + 12
    ip = sizes + 28.0
    policed = feats(rtp_stream(n, drop=token_bucket(send, ip, 32000, 3000, 20.0), size=sizes))
    drop, delay = fifo_shaper(send, ip, 40000, 6000, 20.0)
    shaped = feats(rtp_stream(n, drop=drop, extra_delay=delay, size=sizes))
    return policed, shaped


def test_rate_cap_estimate_and_policing(capped) -> None:
    policed, _ = capped
    d = RateCapDetector().detect(policed, CTX)
    assert d.detected and d.pvalue < 1e-6
    assert d.estimate.rate_bps == pytest.approx(32000, rel=0.05)
    assert d.interval[0] <= d.estimate.rate_bps <= d.interval[1]
    assert d.estimate.mode == "policing"


def test_rate_cap_shaping_shows_queue_delay(capped) -> None:
    _, shaped = capped
    d = RateCapDetector().detect(shaped, CTX)
    assert d.detected and d.estimate.mode == "shaping"
    assert d.estimate.rate_bps == pytest.approx(40000, rel=0.05)
    assert d.estimate.queue_delay_s > 0.5  # 6000 B at 40 kbit/s = 1.2 s of queue


def test_random_loss_is_not_a_rate_cap() -> None:
    drop = np.random.default_rng(4).random(3000) < 0.25
    d = RateCapDetector().detect(feats(rtp_stream(drop=drop)), CTX)
    assert not d.detected and d.statistic > 0.5


def test_loss_detector_and_its_null() -> None:
    drop = np.zeros(3000, dtype=bool)
    drop[1000:] = np.random.default_rng(5).random(2000) < 0.04
    f = feats(rtp_stream(drop=drop))
    d = LossDetector().detect(f, CTX)
    assert d.detected and d.estimate.tail_loss_fraction == pytest.approx(0.04, abs=0.015)
    clean = LossDetector().detect(feats(rtp_stream()), CTX)
    assert not clean.detected and clean.pvalue > 0.5
    # 0.5 % loss is below the reportable excess over a clean baseline
    tiny = np.random.default_rng(6).random(3000) < 0.005
    assert not LossDetector().detect(feats(rtp_stream(drop=tiny)), CTX).detected


def test_burst_loss_against_bernoulli() -> None:
    r = np.random.default_rng(7)
    drop = np.zeros(3000, dtype=bool)
    for s in r.choice(np.arange(100, 2900), 40, replace=False):
        drop[s:s + 4] = True
    assert BurstLossDetector().detect(feats(rtp_stream(drop=drop)), CTX).detected
    bern = r.random(3000) < 0.05
    assert not BurstLossDetector().detect(feats(rtp_stream(drop=bern)), CTX).detected


def test_periodic_period_and_share() -> None:
    t = 0.5 + np.arange(3000) * FRAME
    drop = (t >= 20) & (np.mod(t - 20, 2.5) < 0.3)
    d = PeriodicDropDetector().detect(feats(rtp_stream(drop=drop)), CTX)
    assert d.detected and d.pvalue < 1e-6
    assert d.estimate.period_s == pytest.approx(2.5, rel=0.01)
    assert d.interval[0] <= 2.5 <= d.interval[1]
    assert d.estimate.drop_s == pytest.approx(0.3, abs=0.06)


def test_random_bursts_are_not_periodic() -> None:
    r = np.random.default_rng(8)
    drop = np.zeros(3000, dtype=bool)
    for s in r.choice(np.arange(100, 2900), 25, replace=False):
        drop[s:s + 12] = True
    assert not PeriodicDropDetector().detect(feats(rtp_stream(drop=drop)), CTX).detected


def test_spacing_pvalue_orders_regularity() -> None:
    assert spacing_pvalue(0.002, 6, 50, 0.05, 2) < 1e-4
    assert spacing_pvalue(0.1, 6, 50, 0.05, 2) == 1.0


def test_onset_time_and_volume() -> None:
    drop = np.zeros(3000, dtype=bool)
    drop[1000:] = np.random.default_rng(9).random(2000) < 0.15
    f = feats(rtp_stream(drop=drop))
    d = OnsetDetector().detect(f, CTX)
    assert d.detected and d.estimate.signal == "loss"
    assert d.estimate.onset_s == pytest.approx(20.5, abs=1.0)
    assert 900 <= d.estimate.after_packets <= 1100
    assert d.estimate.after_bytes > 900 * 100


def test_jitter_against_its_pre_onset_part() -> None:
    extra = np.zeros(3000)
    extra[1500:] = np.random.default_rng(10).exponential(0.015, 1500)
    f = feats(rtp_stream(extra_delay=extra))
    on = OnsetDetector().detect(f, CTX)
    assert on.detected and on.estimate.signal in ("jitter", "delay")
    t = on.estimate.onset_s
    ref = reference_from_features(f, "pre_onset", "before", until_s=t)
    sig = on.estimate.signal
    ctx = DetectionContext(reference=ref, split_s=t,
                           split_pvalue=on.estimate.signals[sig].pvalue)
    d = JitterDetector().detect(f, ctx)
    assert d.detected and d.effect > 0.008
    assert d.interval[0] <= d.effect <= d.interval[1]


def test_metallic_risk_levels() -> None:
    clean = MetallicRiskDetector().detect(feats(rtp_stream()), CTX)
    assert clean.estimate.level == "low" and not clean.detected
    drop = np.zeros(3000, dtype=bool)
    for s in range(100, 2900, 60):
        drop[s:s + 6] = True  # 120 ms gaps, 50 a minute
    bad = MetallicRiskDetector().detect(feats(rtp_stream(drop=drop)), CTX)
    assert bad.detected and bad.estimate.level == "high" and bad.score >= 1


def test_distribution_shift_band() -> None:
    r = np.random.default_rng(11)
    same = distribution_shift(r.normal(0.004, 0.001, 60), r.normal(0.004, 0.001, 60),
                              metric="jitter")
    assert same.estimate.decision == "same" and not same.detected
    diff = distribution_shift(r.normal(0.012, 0.002, 60), r.normal(0.004, 0.001, 60),
                              metric="jitter")
    assert diff.detected and diff.effect == pytest.approx(0.008, abs=0.002)
    with pytest.raises(ValueError):
        distribution_shift([], [], metric="nonsense")
