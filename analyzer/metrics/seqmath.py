"""Small vectorized helpers for per-stream arithmetic over concatenated streams.

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


# -- helpers for the quality metrics (one stream at a time) ----------------------------------

def true_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of the runs of ``True`` in a boolean array."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    edges = np.diff(m.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return starts, ends - starts


def sorted_quantiles(sorted_values: np.ndarray, qs: np.ndarray | tuple[float, ...]
                     ) -> np.ndarray:
    """Quantiles (linear interpolation, numpy's default) of an already sorted 1-D array.

    Much cheaper than ``np.percentile`` on small arrays; NaN for an empty array.
    """
    q = np.asarray(qs, dtype=np.float64)
    n = sorted_values.size
    if n == 0:
        return np.full(q.shape, np.nan)
    pos = q * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    v = sorted_values.astype(np.float64, copy=False)
    return v[lo] + (v[hi] - v[lo]) * frac


def group_quantiles(values: np.ndarray, groups: np.ndarray, n_groups: int,
                    qs: tuple[float, ...]) -> np.ndarray:
    """Quantiles of ``values`` per group (``groups`` sorted ascending, ints in
    ``[0, n_groups)``); returns an array ``(n_groups, len(qs))``, NaN for empty groups.

    Small groups are padded into a matrix and sorted row-wise; when one group is much
    larger than the rest, one stable sort by (group, value) is used instead.
    """
    out = np.full((n_groups, len(qs)), np.nan)
    n = values.size
    if n == 0 or n_groups == 0:
        return out
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    width = int(counts.max())
    q = np.asarray(qs, dtype=np.float64)
    present = np.flatnonzero(counts)
    cnt = counts[present]
    pos = q[None, :] * (cnt[:, None] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, cnt[:, None] - 1)
    frac = pos - lo
    if width * n_groups <= 4 * n + 1024:
        mat = np.full((n_groups, width), np.inf)
        rank = np.arange(n) - starts[groups]
        mat[groups, rank] = values
        mat.sort(axis=1)
        rows = mat[present]
        v_lo = np.take_along_axis(rows, lo, axis=1)
        v_hi = np.take_along_axis(rows, hi, axis=1)
    else:
        order = np.lexsort((values, groups))
        sv = values[order]
        base = starts[present][:, None]
        v_lo, v_hi = sv[base + lo], sv[base + hi]
    out[present] = v_lo + (v_hi - v_lo) * frac
    return out


def merge_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of closed intervals ``[starts[i], ends[i]]``: sorted, non-overlapping."""
    if starts.size == 0:
        return starts.astype(np.float64), ends.astype(np.float64)
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:], s.size) - 1
    return s[first], reach[last]

