"""Inferring an RTP clock rate from timestamps against arrival times (no SDP needed).

The RTP timestamp advances at the media clock rate in real time, through silence too, so
the slope of unwrapped RTP time over arrival time is the clock rate (960 per 20 ms =
48 kHz). It is snapped to the nearest common rate, or rejected when none is close.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from analyzer.capture import records as _records

COMMON_CLOCK_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 90000)
MAX_RELATIVE_ERROR = 0.12
MIN_SPAN_S = 0.2
#: Packet times codecs use (ms), to settle between close clock rates.
COMMON_PTIMES_MS = (2.5, 5.0, 10.0, 20.0, 30.0, 40.0, 60.0, 80.0, 100.0, 120.0)


def infer_clock_hz(arrival_s: np.ndarray, ts32: np.ndarray, seq16: np.ndarray) -> int | None:
    """Clock rate (Hz) of one stream, or ``None`` when the data does not say."""
    n = arrival_s.size
    if n < 3:
        return None
    ts = ts32.astype(np.int64)
    d_ts = ((ts[1:] - ts[:-1] + (1 << 31)) % (1 << 32)) - (1 << 31)
    d_seq = (seq16[1:].astype(np.int64) - seq16[:-1]) % 65536
    d_t = np.diff(arrival_s)
    ok = (d_seq == 1) & (d_ts > 0)
    if ok.sum() < 2:
        return None
    ts_ext = np.concatenate([[0], np.cumsum(d_ts)])
    span = arrival_s[-1] - arrival_s[0]
    if span >= MIN_SPAN_S and ts_ext[-1] > 0:
        # least-squares slope is robust to per-packet jitter over a long span
        tt = arrival_s - arrival_s.mean()
        slope = float(np.dot(tt, ts_ext - ts_ext.mean()) / np.dot(tt, tt))
    else:
        slope = float(np.median(d_ts[ok]) / max(np.median(d_t[ok]), 1e-6))
    if not np.isfinite(slope) or slope <= 0:
        return None
    return _snap(slope, int(np.median(d_ts[ok])))


def _snap(slope: float, step: int | None = None) -> int | None:
    """The common rate nearest ``slope``; among the rates close enough, one for which the
    modal timestamp ``step`` is a common packet time (960 → 20 ms at 48 kHz, not 21.8 ms
    at 44.1 kHz) wins — short streams give a noisy slope."""
    rates = np.array(COMMON_CLOCK_RATES_HZ, dtype=float)
    rel = np.abs(rates - slope) / rates
    close = np.flatnonzero(rel <= MAX_RELATIVE_ERROR)
    if close.size == 0:
        return None
    if step and close.size > 1:
        ptime_ms = step / rates[close] * 1000.0
        nice = np.abs(ptime_ms[:, None] - np.array(COMMON_PTIMES_MS)[None, :]).min(axis=1) \
            <= 0.01 * ptime_ms
        if nice.any():
            close = close[nice]
    return int(rates[close[np.argmin(rel[close])]])


#: Streams are handled in batches of about this many packets (bounded temporary memory).
BATCH_PACKETS = 1 << 17


def infer_clock_rates_hz(arrival_s: np.ndarray, ts32: np.ndarray, seq16: np.ndarray,
                         starts: np.ndarray) -> np.ndarray:
    """:func:`infer_clock_hz` for many streams stored back to back (0 where unknown)."""
    m = starts.size
    out = np.zeros(m, dtype=np.int64)
    ends = np.append(starts[1:], arrival_s.size)
    k = 0
    while k < m:
        a = int(starts[k])
        k_end = max(int(np.searchsorted(ends, a + BATCH_PACKETS, side="right")), k + 1)
        b = int(ends[k_end - 1])
        out[k:k_end] = _infer_batch(arrival_s[a:b], ts32[a:b], seq16[a:b], starts[k:k_end] - a)
        k = k_end
    return out


def _infer_batch(arrival_s: np.ndarray, ts32: np.ndarray, seq16: np.ndarray,
                 starts: np.ndarray, *, compiled: bool = True) -> np.ndarray:
    """:func:`infer_clock_hz` for many streams stored back to back (0 where unknown).

    Long streams get the least-squares slope in one vectorized pass (one compiled pass
    per stream where the extension was built, ``compiled``); short ones fall back to the
    per-stream rule.
    """
    from analyzer.streams.segments import TS_MOD, unwrap

    m = starts.size
    out = np.zeros(m, dtype=np.int64)
    if m == 0:
        return out
    n = arrival_s.size
    ends = np.append(starts[1:], n)
    counts = ends - starts
    walk = _records._compiled
    if compiled and walk is not None and hasattr(walk, "rtp_clock_fit"):
        return _snap_streams(walk, arrival_s, ts32, seq16, starts, ends)
    ts = unwrap(ts32, TS_MOD, starts).astype(np.float64)
    t = arrival_s
    cnt = counts.astype(np.float64)
    st, sts = np.add.reduceat(t, starts), np.add.reduceat(ts, starts)
    t_mean, ts_mean = st / cnt, sts / cnt
    sid = np.repeat(np.arange(m), counts)
    dt = t - t_mean[sid]
    dts = ts - ts_mean[sid]
    num = np.add.reduceat(dt * dts, starts)
    den = np.add.reduceat(dt * dt, starts)
    span = t[ends - 1] - t[starts]
    rates = np.array(COMMON_CLOCK_RATES_HZ, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(den > 0, num / den, 0.0)
    rel = np.abs(rates[None, :] - slope[:, None]) / rates[None, :]
    k = np.argmin(rel, axis=1)
    good = (rel[np.arange(m), k] <= MAX_RELATIVE_ERROR) & (slope > 0)
    long = (span >= MIN_SPAN_S) & (counts >= 3)
    # the modal timestamp step per stream settles between close rates (a queue building
    # up or draining bends the slope by a few per cent: 48 kHz must not become 44.1 kHz)
    d_ts = np.diff(ts, prepend=ts[:1])
    seq = seq16.astype(np.int64)
    d_seq = np.bitwise_and(np.diff(seq, prepend=seq[:1]), 0xFFFF)
    step_ok = (d_seq == 1) & (d_ts > 0)
    step_ok[starts] = False
    for i in np.flatnonzero(long & good):
        a, b = int(starts[i]), int(ends[i])
        steps = d_ts[a:b][step_ok[a:b]]
        out[i] = _snap(float(slope[i]), int(np.median(steps)) if steps.size else None) or 0
    for i in np.flatnonzero(~long | ~good):
        a, b = int(starts[i]), int(ends[i])
        out[i] = infer_clock_hz(arrival_s[a:b], ts32[a:b], seq16[a:b]) or 0
    return out


def _snap_streams(walk: ModuleType, arrival_s: np.ndarray, ts32: np.ndarray,
                  seq16: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """:func:`_infer_batch` with the slopes and median steps from ``rtp_clock_fit``."""
    m = starts.size
    out = np.zeros(m, dtype=np.int64)
    slope, step = np.empty(m), np.empty(m)
    c = np.ascontiguousarray
    walk.rtp_clock_fit(c(arrival_s, dtype=np.float64), c(ts32, dtype=np.uint32),
                       c(seq16, dtype=np.uint16), c(starts, dtype=np.int64), slope, step)
    rates = np.array(COMMON_CLOCK_RATES_HZ, dtype=float)
    rel = np.abs(rates[None, :] - slope[:, None]) / rates[None, :]
    good = (rel.min(axis=1) <= MAX_RELATIVE_ERROR) & (slope > 0)
    span = arrival_s[ends - 1] - arrival_s[starts]
    long = (span >= MIN_SPAN_S) & (ends - starts >= 3)
    for i in np.flatnonzero(long & good):
        s = float(step[i])
        out[i] = _snap(float(slope[i]), int(s) if s == s else None) or 0
    for i in np.flatnonzero(~long | ~good):
        a, b = int(starts[i]), int(ends[i])
        out[i] = infer_clock_hz(arrival_s[a:b], ts32[a:b], seq16[a:b]) or 0
    return out
