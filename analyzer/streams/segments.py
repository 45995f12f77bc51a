"""Small vectorized helpers for per-stream arithmetic over concatenated streams: the
wrap-around of RTP sequence numbers and timestamps, RFC 3550's running average, and
per-stream reductions.

Streams are stored back to back in one array; ``starts`` holds each stream's first index
(sorted, ``starts[0] == 0``). Every helper resets at stream boundaries.
"""

from __future__ import annotations

import numpy as np

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32


def stream_ids(starts: np.ndarray, n: int) -> np.ndarray:
    """The stream index of each element."""
    mark = np.zeros(n, dtype=np.int64)
    if n:
        np.add.at(mark, starts[starts < n], 1)
    return np.cumsum(mark) - 1


def first_mask(starts: np.ndarray, n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[starts[starts < n]] = True
    return m


def unwrap(values: np.ndarray, modulus: int, starts: np.ndarray) -> np.ndarray:
    """Extend a wrapping counter (RTP seq or timestamp) per stream by modular difference.

    Each step is read as the signed difference closest to zero, so reordering across a wrap
    is handled; the first element of each stream keeps its raw value.
    """
    v = values.astype(np.int64)
    n = v.size
    if n == 0:
        return v
    half = modulus // 2
    d = np.empty(n, dtype=np.int64)
    d[0] = 0
    d[1:] = ((v[1:] - v[:-1] + half) % modulus) - half
    first = first_mask(starts, n)
    d[first] = 0
    c = np.cumsum(d)
    sid = stream_ids(starts, n)
    return c - c[starts][sid] + v[starts][sid]


def ema_with_resets(x: np.ndarray, reset: np.ndarray, gain: float = 1 / 16,
                    block: int = 256) -> np.ndarray:
    """``J[k] = J[k-1] + (x[k] - J[k-1]) * gain``, with ``J[k-1] = 0`` where ``reset[k]``.

    Evaluated blockwise in closed form (no Python loop per element): within a block the
    recurrence is a scaled cumulative sum, and only one carry per block is chained.
    """
    n = x.size
    if n == 0:
        return np.zeros(0)
    a = 1.0 - gain
    pad = (-n) % block
    xs = np.concatenate([x * gain, np.zeros(pad)]).reshape(-1, block)
    rs = np.concatenate([reset, np.zeros(pad, dtype=bool)]).reshape(-1, block)
    j = np.arange(block)
    pw = a ** j
    c = np.cumsum(xs / pw, axis=1)
    last_r = np.maximum.accumulate(np.where(rs, j, -1), axis=1)
    before = np.where(last_r > 0, np.take_along_axis(c, np.maximum(last_r - 1, 0), axis=1), 0.0)
    inner = (c - before) * pw
    decay = np.where(last_r >= 0, 0.0, a ** (j + 1))
    nb = xs.shape[0]
    carry_in = np.zeros(nb)
    last_inner, last_decay = inner[:, -1].tolist(), decay[:, -1].tolist()
    carry = 0.0
    for b in range(nb):
        carry_in[b] = carry
        carry = last_inner[b] + last_decay[b] * carry
    out = inner + decay * carry_in[:, None]
    return out.ravel()[:n]


def segment_reduce(values: np.ndarray, mask: np.ndarray | None, starts: np.ndarray,
                   how: str, empty: float = 0.0) -> np.ndarray:
    """Reduce ``values`` over each stream's contiguous segment (``starts``), counting only
    elements where ``mask`` holds (all when ``None``); ``how`` in {sum, count, max, min,
    mean}. A stream with nothing counted gets ``empty``."""
    m = starts.size
    if m == 0:
        return np.zeros(0)
    v = values.astype(np.float64, copy=False)
    if how in ("sum", "count", "mean"):
        w = v if mask is None else np.where(mask, v, 0.0)
        cnt = (np.diff(np.append(starts, values.size)).astype(np.float64) if mask is None
               else np.add.reduceat(mask.astype(np.float64), starts))
        if how == "count":
            return cnt
        tot = np.add.reduceat(w, starts)
        if how == "sum":
            return tot
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), empty)
    fill = -np.inf if how == "max" else np.inf
    w = v if mask is None else np.where(mask, v, fill)
    out = (np.maximum if how == "max" else np.minimum).reduceat(w, starts)
    return np.where(np.isfinite(out), out, empty)
