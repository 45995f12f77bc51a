"""Windowed series of a stream: rate, loss, jitter and arrival gaps per time window.

Windows lie on a grid of ``window_s`` from capture time 0 (so windows of different streams
line up), and cover ``start_s`` .. ``end_s`` (by default the stream's own span). Per window:

* ``packets``, ``bytes`` (UDP payload), hence ``packets_per_s`` and ``bitrate_bps``;
* RTP only (NaN otherwise): ``expected`` = distinct sequence numbers first seen in the
  window + ``lost`` (lost packets placed at their interpolated arrival time), ``late``
  (arrived after a higher sequence number), ``duplicates``;
* ``jitter_s`` (RFC 3550 running J at the window's last packet) and ``jitter_max_s``;
* inter-arrival ``p50`` / ``p95`` / ``max`` and the number of ``gaps``
  (:mod:`analyzer.metrics.gaps`), each inter-arrival time and gap counted in the window of
  the packet that ends it.

More columns (concealment, MOS per window) are added with :meth:`WindowSeries.with_columns`.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analyzer.atomic import atomic_write
from analyzer.limits import MAX_WINDOWS_FLOOR, WINDOWS_PER_PACKET
from analyzer.metrics.gaps import Gaps
from analyzer.metrics.losspattern import LossPattern
from analyzer.metrics.seqmath import group_quantiles

WINDOW_S = 1.0

#: Columns in CSV / dict order (the extra columns follow).
BASE_COLUMNS = ("start_s", "packets", "bytes", "packets_per_s", "bitrate_bps", "expected",
                "lost", "loss_fraction", "late", "duplicates", "jitter_s", "jitter_max_s",
                "interarrival_p50_s", "interarrival_p95_s", "interarrival_max_s", "gaps")


@dataclass(frozen=True, eq=False)
class WindowSeries:
    """Equal-length arrays, one element per window starting at ``start_s``."""

    window_s: float
    start_s: np.ndarray
    packets: np.ndarray
    bytes: np.ndarray
    expected: np.ndarray
    lost: np.ndarray
    late: np.ndarray
    duplicates: np.ndarray
    jitter_s: np.ndarray
    jitter_max_s: np.ndarray
    interarrival_p50_s: np.ndarray
    interarrival_p95_s: np.ndarray
    interarrival_max_s: np.ndarray
    gaps: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.start_s.size)

    @property
    def packets_per_s(self) -> np.ndarray:
        return self.packets / self.window_s

    @property
    def bitrate_bps(self) -> np.ndarray:
        return self.bytes * 8.0 / self.window_s

    @property
    def loss_fraction(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.expected > 0, self.lost / self.expected, np.nan)

    def with_columns(self, **columns: np.ndarray) -> WindowSeries:
        """A copy with more columns (each as long as the series)."""
        for name, col in columns.items():
            if np.shape(col) != self.start_s.shape:
                raise ValueError(f"column {name!r} has shape {np.shape(col)}, "
                                 f"the series has {len(self)} windows")
        return replace(self, extra={**self.extra, **columns})

    def columns(self) -> dict[str, np.ndarray]:
        """Every column by name, in output order."""
        cols = {name: np.asarray(getattr(self, name)) for name in BASE_COLUMNS}
        cols.update(self.extra)
        return cols

    def to_dict(self) -> dict[str, Any]:
        """``{"window_s": w, "columns": {name: [values...]}}``, NaN as ``None``."""
        return {"window_s": self.window_s,
                "columns": {k: _json_list(v) for k, v in self.columns().items()}}

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """One row per window, a header row first; empty cells where not applicable
        (written whole: see :func:`analyzer.atomic.atomic_write`)."""
        cols = self.columns()
        names = list(cols)
        data = [_json_list(cols[k]) for k in names]
        with atomic_write(path, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(names)
            for row in zip(*data, strict=True):
                w.writerow(["" if v is None else v for v in row])


def _json_list(a: np.ndarray) -> list[Any]:
    arr = np.asarray(a)
    if arr.dtype.kind in "iub":
        return arr.tolist()
    return [None if not math.isfinite(v) else v for v in arr.tolist()]


# Windows per stream at most (MAX_WINDOWS_FLOOR, WINDOWS_PER_PACKET: the defaults of
# analyzer.limits.Limits): a day of 1-s windows, or four per packet where a stream has
# more packets than that. A stream sparse over a long span (a packet every few minutes
# for weeks: the clock-jump bound lets gaps up to 600 s stand) gets longer windows
# instead of arrays sized by its span.


def bounded_window_s(window_s: float, span_s: float, packets: int, *,
                     start_s: float | None = None,
                     max_windows_floor: int = MAX_WINDOWS_FLOOR,
                     windows_per_packet: int = WINDOWS_PER_PACKET) -> float:
    """``window_s``, or the smallest multiple of it that keeps the stream's windows within
    ``max(max_windows_floor, windows_per_packet * packets)``. With ``start_s`` (where the
    span begins), exactly so on the grid :func:`window_grid` lays (its first and last
    windows may stick out of the span); without, ``span_s / window`` stays below it."""
    limit = max(max_windows_floor, windows_per_packet * int(packets))
    if not math.isfinite(span_s):
        return window_s
    k = 1 if span_s / window_s < limit else math.ceil(span_s / (window_s * limit))
    if start_s is not None and math.isfinite(start_s):
        end_s = start_s + span_s + 1e-9 * window_s  # an end a rounding below a boundary
        while window_grid(start_s, end_s, window_s * k)[1] > limit:
            k += 1  # a few steps: the grid adds at most two windows to the span's
    return window_s * k


def window_grid(t_min: float, t_max: float, window_s: float) -> tuple[float, int]:
    """Origin (a multiple of ``window_s``) and number of windows covering the span."""
    origin = math.floor(t_min / window_s) * window_s
    return origin, math.floor((t_max - origin) / window_s) + 1


def window_index(times: np.ndarray, origin: float, n_windows: int, window_s: float
                 ) -> np.ndarray:
    return np.clip(((times - origin) / window_s).astype(np.int64), 0, n_windows - 1)


def window_series(arrival_s: np.ndarray, size_bytes: np.ndarray, *,
                  window_s: float = WINDOW_S, start_s: float | None = None,
                  end_s: float | None = None, loss: LossPattern | None = None,
                  jitter_s: np.ndarray | None = None, gaps: Gaps | None = None,
                  max_windows_floor: int = MAX_WINDOWS_FLOOR,
                  windows_per_packet: int = WINDOWS_PER_PACKET) -> WindowSeries:
    """Windowed series of one stream (arrays in capture order; ``loss`` and ``jitter_s``
    for RTP streams), in at most ``max(max_windows_floor, windows_per_packet x packets)``
    windows (longer ones than ``window_s`` where the span needs more: the result's
    ``window_s`` says which)."""
    if window_s <= 0:
        raise ValueError(f"window_s must be positive, not {window_s}")
    t = np.asarray(arrival_s, dtype=np.float64)
    size = np.asarray(size_bytes, dtype=np.float64)
    n = t.size
    lo = float(t.min()) if n else 0.0
    hi = float(t.max()) if n else 0.0
    lo = lo if start_s is None else min(start_s, lo)
    hi = hi if end_s is None else max(end_s, hi)
    window_s = bounded_window_s(window_s, hi - lo, n, start_s=lo,  # the result says
                                max_windows_floor=max_windows_floor,
                                windows_per_packet=windows_per_packet)
    origin, nw = window_grid(lo, hi, window_s)
    w = window_index(t, origin, nw, window_s)
    order = None
    if n > 1 and not bool(np.all(np.diff(w) >= 0)):
        order = np.argsort(w, kind="stable")
        t, size, w = t[order], size[order], w[order]
    packets = np.bincount(w, minlength=nw)
    nbytes = np.bincount(w, weights=size, minlength=nw).astype(np.int64)
    nan = np.full(nw, np.nan)
    if loss is not None:
        dup = loss.duplicate if order is None else loss.duplicate[order]
        late_m = loss.late_mask if order is None else loss.late_mask[order]
        dups = np.bincount(w, weights=dup, minlength=nw)
        late = np.bincount(w, weights=late_m, minlength=nw)
        lt = loss.lost_time_s
        lt = lt[np.isfinite(lt)]
        lost = np.bincount(window_index(lt, origin, nw, window_s), minlength=nw
                           ).astype(np.float64)
        expected = packets - dups + lost
    else:
        dups = late = lost = expected = nan
    has = packets > 0
    last = np.cumsum(packets) - 1
    if jitter_s is not None and n:
        j = jitter_s if order is None else jitter_s[order]
        jit = np.where(has, j[np.maximum(last, 0)], np.nan)
        first = (last - packets + 1)[has]
        jmax = nan.copy()
        jmax[has] = np.maximum.reduceat(j, first)
    else:
        jit = jmax = nan
    if n > 1:
        d = np.diff(t)
        if order is not None:
            d = np.abs(d)
        wd = w[1:]
        qs = group_quantiles(d, wd, nw, (0.5, 0.95, 1.0))
        p50, p95, dmax = qs[:, 0], qs[:, 1], qs[:, 2]
    else:
        p50 = p95 = dmax = nan
    if gaps is not None and gaps.count:
        g = np.bincount(window_index(gaps.end_s, origin, nw, window_s), minlength=nw)
    else:
        g = np.zeros(nw, dtype=np.int64)
    return WindowSeries(
        window_s=float(window_s), start_s=origin + np.arange(nw) * window_s, packets=packets,
        bytes=nbytes, expected=expected, lost=lost, late=late, duplicates=dups,
        jitter_s=jit, jitter_max_s=jmax, interarrival_p50_s=p50, interarrival_p95_s=p95,
        interarrival_max_s=dmax, gaps=g)
