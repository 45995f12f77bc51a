"""Time order and clock jumps, settled once before any stream is built.

A capture's timestamps are untrusted: merged pcapng files, several interfaces, a phone's
clock step or an NTP correction put records out of order, and a damaged or crafted file can
hold a timestamp 45 days back or 30 years ahead. Every later layer assumes what this
module makes true:

* **time order** - the datagrams are sorted by timestamp (stable: equal times keep their
  file order); the datagrams that came earlier than their predecessor are counted and
  reported. In a well-ordered capture nothing moves (and the statistics equal TShark's,
  which reads in file order);
* **no span the packets do not fill** - the sorted timestamps are cut at every gap longer
  than ``max_gap_s`` into *epochs* (a clock step, or captures taken days apart merged into
  one file). Nothing is dropped: the epoch holding the most datagrams keeps its times and
  every other epoch is moved, as a block, to ``max_gap_s`` from its neighbour. So no
  stream, window grid or loop is ever sized by a span the packets do not fill: the span
  analysed is at most ``max_gap_s`` times the number of datagrams. (An epoch of one or two
  datagrams is a damaged timestamp, not traffic: those datagrams are left out, and
  counted.) Each jump is reported
  (a warning naming its size), and :meth:`Timeline.epoch_s` turns a time of the analysis
  back into the true Unix time;
* **one origin** - times are seconds from the capture's first record, unless that record
  lies outside the main epoch; then from the first datagram on the settled axis.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from analyzer.capture.table import PacketTable

#: A gap in the capture's timestamps longer than this is a clock jump, not a pause: no
#: call pauses 10 minutes with every flow of the capture silent.
MAX_GAP_S = 600.0
#: An epoch of at most this many datagrams is a damaged timestamp, not traffic: left out.
MAX_STRAY_DATAGRAMS = 2


@dataclass(frozen=True)
class ClockJump:
    """An epoch moved on the time axis: ``datagrams`` from record ``first_frame`` on lay
    ``distance_s`` before (negative) or after the main part of the capture; on the settled
    axis they start at ``start_s`` and were moved by ``shift_s``."""

    first_frame: int
    datagrams: int
    distance_s: float
    start_s: float
    end_s: float
    shift_s: float
    left_out: bool = False

    def describe(self) -> str:
        way = "before" if self.distance_s < 0 else "after"
        if self.left_out:
            return (f"clock jump: {self.datagrams} datagram(s) from record {self.first_frame} "
                    f"lie {_span(abs(self.distance_s))} {way} the rest of the capture (a "
                    "damaged timestamp): left out of the analysis")
        return (f"clock jump: {self.datagrams} datagram(s) from record {self.first_frame} lie "
                f"{_span(abs(self.distance_s))} {way} the rest of the capture (a clock step "
                f"or merged captures); analysed as if {MAX_GAP_S:.0f} s apart (UTC times stay "
                "exact)")


def _span(s: float) -> str:
    if s >= 2 * 86400:
        return f"{s / 86400:.1f} days"
    if s >= 2 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s:.0f} s"


@dataclass(frozen=True)
class Timeline:
    """What :func:`settle` did to a capture's time axis."""

    reordered: int  # datagrams earlier than the one before them in the file
    jumps: tuple[ClockJump, ...]
    t0_ns: int  # origin of the settled axis
    file_t0_ns: int = 0  # the first record's own time (TShark's origin)

    @property
    def warnings(self) -> tuple[str, ...]:
        out = [j.describe() for j in self.jumps]
        if self.reordered:
            out.append(f"{self.reordered} datagram(s) out of time order in the file (merged "
                       "or multi-interface capture, or a clock step): analysed in time order")
        return tuple(out)

    def epoch_s(self, t_s: float) -> float:
        """The true Unix time of ``t_s`` seconds on the settled axis."""
        for j in self.jumps:
            if not j.left_out and j.start_s - 1e-9 <= t_s <= j.end_s + 1e-9:
                return self.t0_ns / 1e9 + t_s - j.shift_s
        return self.t0_ns / 1e9 + t_s

    def file_relative_s(self, t_s: float) -> float:
        """``t_s`` on the settled axis as seconds from the file's first record (the
        times TShark prints)."""
        return self.epoch_s(t_s) - (self.file_t0_ns or self.t0_ns) / 1e9


#: Packets per block when looking for clock jumps (bounds the temporary arrays).
_BLOCK = 1 << 20


def _cuts(sts: np.ndarray, gap_ns: int) -> np.ndarray:
    """Indices ``i`` where ``sts[i] - sts[i - 1] > gap_ns`` (``sts`` sorted), a block at a
    time. Gaps in float: two timestamps at the ends of the int64 range would overflow."""
    out = []
    for lo in range(0, max(sts.size - 1, 0), _BLOCK):
        seg = sts[lo: lo + _BLOCK + 1].astype(np.float64)
        out.append(np.flatnonzero(np.diff(seg) > gap_ns) + (lo + 1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def settle(table: PacketTable, *, max_gap_s: float = MAX_GAP_S
           ) -> tuple[PacketTable, Timeline]:
    """``table`` in time order with its clock jumps closed (see the module docstring), and
    what was done. A well-ordered capture without jumps is returned as it is."""
    ts = table.ts_ns
    n = ts.size
    if n < 2:
        return table, Timeline(0, (), table.t0_ns, table.t0_ns)
    reordered = int(np.count_nonzero(ts[1:] < ts[:-1]))  # compared, not subtracted: no overflow
    order = np.argsort(ts, kind="stable") if reordered else None
    sts = ts[order] if order is not None else ts
    gap_ns = int(max_gap_s * 1e9)
    cut = _cuts(sts, gap_ns)
    if order is None and cut.size == 0:
        return table, Timeline(0, (), table.t0_ns, table.t0_ns)
    bounds = np.concatenate(([0], cut, [n]))
    sizes = np.diff(bounds)
    main = int(np.argmax(sizes))
    # each gap beyond the bound closes to the bound; the main epoch stays where it is.
    # Epochs are placed by their lengths (small numbers), so nothing overflows however far
    # apart the raw timestamps lie.
    firsts = sts[bounds[:-1]]
    lengths = [int(sts[int(b) - 1]) - int(f) for b, f in zip(bounds[1:], firsts, strict=True)]
    start = [0] * sizes.size
    start[main] = int(firsts[main])
    for k in range(main + 1, sizes.size):
        start[k] = start[k - 1] + lengths[k - 1] + gap_ns
    for k in range(main - 1, -1, -1):
        start[k] = start[k + 1] - gap_ns - lengths[k]
    shift_s = [(start[k] - int(firsts[k])) / 1e9 for k in range(sizes.size)]
    new_ts = (sts - np.repeat(firsts, sizes)) + np.repeat(np.asarray(start, dtype=np.int64),
                                                          sizes)
    lo, hi = int(bounds[main]), int(bounds[main + 1])
    t0 = table.t0_ns
    if not int(sts[lo]) <= t0 <= int(sts[hi - 1]):
        t0 = int(new_ts[0])
    frames = table.frame if order is None else table.frame[order]
    jumps = []
    for k in range(sizes.size):
        if k == main:
            continue
        a, b = int(bounds[k]), int(bounds[k + 1])
        dist = (float(sts[a]) - float(sts[hi - 1])) if k > main else (
            float(sts[b - 1]) - float(sts[lo]))
        jumps.append(ClockJump(
            first_frame=int(frames[a:b].min()), datagrams=b - a, distance_s=float(dist) / 1e9,
            start_s=float(new_ts[a] - t0) / 1e9, end_s=float(new_ts[b - 1] - t0) / 1e9,
            shift_s=shift_s[k]))
    stray = [j for j in jumps if j.datagrams <= MAX_STRAY_DATAGRAMS]
    jumps = [replace(j, left_out=True) if j in stray else j for j in jumps]
    rows = np.arange(n) if order is None else order
    if stray:
        keep = np.ones(n, dtype=bool)
        for k in range(sizes.size):
            if k != main and sizes[k] <= MAX_STRAY_DATAGRAMS:
                keep[bounds[k]:bounds[k + 1]] = False
        rows, new_ts = rows[keep], new_ts[keep]
    return (_take(table, rows, new_ts, t0),
            Timeline(reordered, tuple(jumps), t0, table.t0_ns))


def _take(table: PacketTable, rows: np.ndarray, ts_ns: np.ndarray, t0_ns: int
          ) -> PacketTable:
    """The datagrams ``rows`` of ``table`` in that order with timestamps ``ts_ns``
    (payloads kept move along)."""
    new_of_old = np.full(len(table), -1, dtype=np.int64)
    new_of_old[rows] = np.arange(rows.size)
    kept = {int(new_of_old[r]): p for r, p in table.kept.items() if new_of_old[r] >= 0}
    cols: dict[str, Any] = {name: _ro(getattr(table, name)[rows]) for name in (
        "frame", "flow", "udp_len", "encap", "flags", "payload_type", "seq", "rtp_ts",
        "ssrc", "stun_type", "tag")}
    return replace(table, **cols, ts_ns=_ro(np.ascontiguousarray(ts_ns, dtype=np.int64)),
                   kept=kept, t0_ns=t0_ns)


def _ro(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
