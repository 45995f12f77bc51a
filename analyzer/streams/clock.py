"""Inferring an RTP clock rate from timestamps against arrival times (no SDP needed).

The RTP timestamp advances at the media clock rate in real time, through silence too, so
the slope of unwrapped RTP time over arrival time is the clock rate (960 per 20 ms =
48 kHz). It is snapped to the nearest common rate, or rejected when none is close.
"""

from __future__ import annotations

import numpy as np

COMMON_CLOCK_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 90000)
MAX_RELATIVE_ERROR = 0.12
MIN_SPAN_S = 0.2


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
    rates = np.array(COMMON_CLOCK_RATES_HZ, dtype=float)
    rel = np.abs(rates - slope) / rates
    k = int(np.argmin(rel))
    return int(rates[k]) if rel[k] <= MAX_RELATIVE_ERROR else None
