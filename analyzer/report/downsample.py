"""Thinning long series for drawing only.

Statistics are always computed on the full data before anything here runs; these helpers
only cut the number of points handed to matplotlib, so that a 30-minute call with many
streams draws in well under a second and the PDF stays small. Each keeps what the eye
needs: a series keeps its minimum and maximum per pixel column (spikes and drops survive),
a CDF keeps evenly spaced quantiles plus both ends, a set of event times keeps one mark
per pixel.
"""

from __future__ import annotations

import numpy as np

#: Points per drawn line: about twice the horizontal pixels of a panel at 150 dpi.
MAX_LINE_POINTS = 2000
#: Quantiles drawn per CDF.
MAX_CDF_POINTS = 600
#: Distinct marks drawn per row of event ticks.
MAX_EVENTS = 1500


def envelope(x: np.ndarray, y: np.ndarray, max_points: int = MAX_LINE_POINTS
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` thinned to at most ``max_points`` points: per bucket of consecutive
    samples its maximum (at the bucket's start) and its minimum (at its middle), so spikes
    and drops survive at pixel scale. A bucket that is all NaN stays a break in the line."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    if n <= max_points:
        return x, y
    buckets = max(max_points // 2, 1)
    starts = np.unique(np.linspace(0, n, buckets + 1).astype(np.int64)[:-1])
    ends = np.append(starts[1:], n)
    with np.errstate(invalid="ignore"):
        hi = np.fmax.reduceat(y, starts)
        lo = np.fmin.reduceat(y, starts)
    x0 = x[starts]
    xm = 0.5 * (x0 + x[ends - 1])
    xs = np.column_stack((x0, xm)).ravel()
    ys = np.column_stack((hi, lo)).ravel()
    # keep the last sample exactly (a step line ends there)
    return np.append(xs, x[-1]), np.append(ys, y[-1])


def cdf_points(values: np.ndarray, max_points: int = MAX_CDF_POINTS
               ) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of the finite ``values`` as ``(x, F(x))``, at most about
    ``max_points`` points (evenly spaced in probability, ends kept)."""
    v = np.asarray(values, dtype=np.float64)
    v = np.sort(v[np.isfinite(v)])
    n = v.size
    if n == 0:
        return v, v
    p = np.arange(1, n + 1, dtype=np.float64) / n
    if n <= max_points:
        return v, p
    idx = np.unique(np.concatenate(([0], np.linspace(0, n - 1, max_points).astype(np.int64),
                                    [n - 1])))
    return v[idx], p[idx]


def events(times: np.ndarray, span: tuple[float, float], max_events: int = MAX_EVENTS
           ) -> np.ndarray:
    """Event times with at most one per ``(span) / max_events`` slot (sorted)."""
    t = np.asarray(times, dtype=np.float64)
    t = t[np.isfinite(t)]
    if t.size <= max_events:
        return np.sort(t)
    lo, hi = span
    width = (hi - lo) / max_events if hi > lo else 1.0
    slots = np.floor((t - lo) / width)
    _, first = np.unique(slots, return_index=True)
    return np.sort(t[first])
