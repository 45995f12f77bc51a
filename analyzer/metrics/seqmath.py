"""Small vectorized helpers for the quality metrics (one stream at a time): runs of
``True``, quantiles, interval unions. (Per-stream arithmetic over concatenated streams - RTP
sequence wrap-around, running averages - lives in :mod:`analyzer.streams.segments`.)
"""

from __future__ import annotations

import numpy as np


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

