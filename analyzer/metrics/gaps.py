"""Arrival gaps: stretches with no packet, longer than a few frame intervals.

A gap is an inter-arrival time longer than ``factor`` times the stream's frame interval
(3 by default), unless the sender said it was silent (a DTX step, see
:mod:`analyzer.metrics.framing`). For RTP the sequence numbers skipped across the gap tell a
loss burst (packets sent, never arrived) from a delay spike (nothing missing, late
delivery). A gap that the other direction shares is typical of a handover or a path change
(../shared/DOMAIN.md §4: "a handover makes a one-off gap in both directions"); a gap in one
direction only points at that direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: A gap is an inter-arrival time longer than this many frame intervals.
GAP_FACTOR = 3.0
#: Two gaps in opposite directions are "shared" when they overlap within this slack.
SHARED_TOLERANCE_S = 0.2


@dataclass(frozen=True, eq=False)
class Gaps:
    """The arrival gaps of one stream (arrays in time order)."""

    factor: float
    start_s: np.ndarray = field(repr=False)  # arrival of the packet before the gap
    duration_s: np.ndarray = field(repr=False)
    seq_jump: np.ndarray = field(repr=False)  # sequence step across the gap (-1: no RTP)
    shared: np.ndarray | None = field(default=None, repr=False)  # gap also in reverse
    rtp: bool = False  # sequence numbers known

    @property
    def count(self) -> int:
        return int(self.start_s.size)

    @property
    def max_s(self) -> float:
        return float(self.duration_s.max()) if self.count else 0.0

    @property
    def total_s(self) -> float:
        return float(self.duration_s.sum())

    @property
    def end_s(self) -> np.ndarray:
        return self.start_s + self.duration_s

    def to_dict(self) -> dict[str, Any]:
        k = int(np.argmax(self.duration_s)) if self.count else None
        rtp = self.rtp
        return {
            "count": self.count, "max_s": self.max_s, "total_s": self.total_s,
            "longest_start_s": None if k is None else float(self.start_s[k]),
            "with_loss": int(np.count_nonzero(self.seq_jump > 1)) if rtp else None,
            "without_loss": int(np.count_nonzero(self.seq_jump == 1)) if rtp else None,
            "shared_with_reverse": None if self.shared is None
            else int(np.count_nonzero(self.shared)),
        }


def find_gaps(arrival_s: np.ndarray, interval_s: np.ndarray | float, *,
              explained: np.ndarray | None = None, seq: np.ndarray | None = None,
              factor: float = GAP_FACTOR) -> Gaps:
    """Gaps of a stream: inter-arrival times above ``factor`` x the frame interval in force
    (``interval_s`` per packet or one value), minus the steps ``explained`` by silence."""
    t = np.asarray(arrival_s, dtype=np.float64)
    if t.size < 2:
        e = np.zeros(0)
        return Gaps(factor, e, e, np.zeros(0, dtype=np.int64), rtp=seq is not None)
    d = t[1:] - t[:-1]
    iv = np.asarray(interval_s, dtype=np.float64)
    limit = factor * (iv[:-1] if iv.ndim else iv)
    gap = d > limit
    if explained is not None:
        gap &= ~explained
    idx = np.flatnonzero(gap)
    none = np.full(idx.size, -1, dtype=np.int64)
    jump = seq[idx + 1] - seq[idx] if seq is not None else none
    return Gaps(factor, t[idx], d[idx], jump, rtp=seq is not None)


def mark_shared(gaps: Gaps, other: Gaps, *, tolerance_s: float = SHARED_TOLERANCE_S) -> Gaps:
    """``gaps`` with ``shared`` set where a gap of ``other`` (the reverse direction)
    overlaps it, within ``tolerance_s``."""
    if gaps.count == 0 or other.count == 0:
        return replace(gaps, shared=np.zeros(gaps.count, dtype=bool))
    o_start, o_end = other.start_s, other.end_s
    order = np.argsort(o_end)
    o_start, o_end = o_start[order], o_end[order]
    k = np.searchsorted(o_end, gaps.start_s - tolerance_s, side="left")
    ok = k < o_end.size
    kk = np.minimum(k, o_end.size - 1)
    # the first gap of ``other`` ending after this one starts; the earliest start among
    # the following ones decides (gaps of one stream do not overlap, so starts follow ends)
    shared = ok & (o_start[kk] <= gaps.end_s + tolerance_s)
    return replace(gaps, shared=shared)
