"""Which packets were lost, and how the losses cluster, from RTP sequence numbers.

A sequence number is lost when no packet carried it, between the lowest and the highest
one received (RFC 3550 A.3 "expected"). A late (reordered) packet is therefore not lost,
and a duplicate never hides a loss or makes the count negative (TShark's ``lost`` can go
negative, ../shared/DOMAIN.md §2). A jump of more than ``max_dropout`` (RFC 3550 A.1
``MAX_DROPOUT`` = 3000) that the arrival times do not back up is a sequence restart, not
loss.

Loss clustering, three ways:

* run lengths of consecutive losses, VoIPmonitor-style buckets 1..9 and 10+ (DOMAIN.md §3);
* a two-state Gilbert model: ``p`` = P(lost | previous received), ``q`` = P(received |
  previous lost), and ITU-T G.107's burst ratio ``BurstR = 1 / (p + q)`` (1 for random
  loss, larger when losses bunch);
* RFC 3611 §4.7.2 burst/gap metrics (:func:`burst_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

#: RFC 3611 §4.7.2: the recommended Gmin.
GMIN = 16
#: RFC 3550 A.1: a larger forward jump is a restart unless time says otherwise.
MAX_DROPOUT = 3000
#: Run-length buckets: 1..9 and "10+".
RUN_BUCKETS = 10
#: Up to this many loss runs, burst/gap metrics are computed in plain Python.
SMALL_RUNS = 64
RUN_BUCKET_LABELS = (*(str(k) for k in range(1, RUN_BUCKETS)), f"{RUN_BUCKETS}+")


@dataclass(frozen=True)
class BurstGap:
    """RFC 3611 §4.7.2 burst and gap metrics.

    A burst is a stretch that starts and ends with a loss and holds fewer than ``gmin``
    consecutive received packets; a gap is everything else, so a loss in a gap has at
    least ``gmin`` received packets on each side (the stream is taken to be preceded and
    followed by ``gmin`` received packets, RFC 3611). An isolated loss is therefore a gap
    loss, and a burst holds at least two losses. Densities are fractions (the RFC's
    wire format scales them by 256); durations are mean burst / gap lengths in packets
    times the frame interval (``None`` when the interval is unknown).
    """

    gmin: int
    bursts: int
    burst_packets: int
    burst_lost: int
    gap_packets: int
    gap_lost: int
    burst_density: float
    gap_density: float
    burst_duration_s: float | None
    gap_duration_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def burst_gap(run_start: np.ndarray, run_length: np.ndarray, expected: int, *,
              gmin: int = GMIN, frame_interval_s: float | None = None) -> BurstGap:
    """Burst/gap metrics from the runs of lost (or discarded) packets among ``expected``:
    ``run_start`` (0-based positions, ascending) and ``run_length`` (>= 1 each)."""
    f = frame_interval_s
    if run_start.size <= SMALL_RUNS or run_start.size == 0:
        return _burst_gap_small(run_start.tolist(), run_length.tolist(), expected, gmin, f)
    lost = int(run_length.sum())
    run_end = run_start + run_length  # one past the last loss of the run
    new_group = np.ones(run_start.size, dtype=bool)
    # received packets between consecutive runs
    new_group[1:] = (run_start[1:] - run_end[:-1]) >= gmin
    first = np.flatnonzero(new_group)
    last = np.append(first[1:], run_start.size) - 1
    cum = np.cumsum(run_length)
    size = cum[last] - cum[first] + run_length[first]
    burst = size >= 2
    extent = run_end[last[burst]] - run_start[first[burst]]
    burst_packets = int(extent.sum())
    burst_lost = int(size[burst].sum())
    bursts = int(np.count_nonzero(burst))
    return _burst_gap_result(gmin, bursts, burst_packets, burst_lost, expected, lost, f)


def _burst_gap_small(starts: list[int], lengths: list[int], expected: int, gmin: int,
                     f: float | None) -> BurstGap:
    """:func:`burst_gap` for a few runs, in plain Python (cheaper than numpy calls)."""
    bursts = burst_packets = burst_lost = 0
    lost = 0
    g_first = g_end = g_size = 0
    for k, (a, ln) in enumerate(zip(starts, lengths, strict=True)):
        lost += ln
        if k and a - g_end < gmin:  # fewer than gmin received since the last run
            g_end, g_size = a + ln, g_size + ln
            continue
        if k and g_size >= 2:
            bursts, burst_packets, burst_lost = (bursts + 1, burst_packets + g_end - g_first,
                                                 burst_lost + g_size)
        g_first, g_end, g_size = a, a + ln, ln
    if starts and g_size >= 2:
        bursts, burst_packets, burst_lost = (bursts + 1, burst_packets + g_end - g_first,
                                             burst_lost + g_size)
    return _burst_gap_result(gmin, bursts, burst_packets, burst_lost, expected, lost, f)


def _burst_gap_result(gmin: int, bursts: int, burst_packets: int, burst_lost: int,
                      expected: int, lost: int, f: float | None) -> BurstGap:
    gap_packets = expected - burst_packets
    gap_lost = lost - burst_lost
    return BurstGap(
        gmin=gmin, bursts=bursts, burst_packets=burst_packets, burst_lost=burst_lost,
        gap_packets=gap_packets, gap_lost=gap_lost,
        burst_density=burst_lost / burst_packets if burst_packets else 0.0,
        gap_density=gap_lost / gap_packets if gap_packets else 0.0,
        burst_duration_s=(burst_packets / bursts * f if bursts else 0.0) if f else None,
        # bursts are separated by >= gmin received packets and the first and last
        # expected packets are received, so there is one more gap than bursts
        gap_duration_s=gap_packets / (bursts + 1) * f if f else None,
    )


def run_histogram(run_lengths: np.ndarray) -> tuple[int, ...]:
    """Counts of loss runs of length 1..9 and 10+ (``RUN_BUCKETS`` buckets)."""
    if run_lengths.size == 0:
        return (0,) * RUN_BUCKETS
    b = np.bincount(np.minimum(run_lengths, RUN_BUCKETS), minlength=RUN_BUCKETS + 1)
    return tuple(int(x) for x in b[1:])


@dataclass(frozen=True)
class Gilbert:
    """Two-state Gilbert loss model and G.107's burst ratio ``BurstR = 1 / (p + q)``."""

    p: float | None  # P(lost | previous received)
    q: float | None  # P(received | previous lost)
    burst_ratio: float  # 1.0 without loss

    def to_dict(self) -> dict[str, Any]:
        return {"gilbert_p": self.p, "gilbert_q": self.q, "burst_ratio": self.burst_ratio}


def gilbert(runs: int, lost: int, received: int, epochs: int = 1) -> Gilbert:
    """The Gilbert model of ``lost`` packets in ``runs`` runs among ``received`` ones.

    ``p`` = runs / (received packets followed by an expected one), ``q`` = runs / lost.
    Every stretch of expected packets (``epochs`` of them) starts and ends with a received
    packet, so each run of losses is entered from a received packet and left to one.
    """
    trans = received - epochs
    if lost == 0:
        return Gilbert(0.0 if trans > 0 else None, None, 1.0)
    p = runs / trans if trans > 0 else None
    q = runs / lost
    return Gilbert(p, q, 1.0 / ((p or 0.0) + q))


@dataclass(frozen=True, eq=False)
class LossPattern:
    """Loss of one RTP stream from its sequence numbers.

    Arrays (left out of :meth:`to_dict`): :attr:`lost_seq` (extended sequence numbers never
    received) and :attr:`lost_time_s` (their estimated arrival), both computed on first
    use; ``run_start_seq`` / ``run_start_position`` / ``run_length``, and the
    per-packet masks ``duplicate`` and ``late_mask`` (arrived after a higher sequence number),
    and ``position``: each packet's index among the expected ones (restarts closed up).
    """

    expected: int
    received: int  # distinct sequence numbers
    lost: int
    duplicates: int
    late: int
    sequence_restarts: int
    runs: int
    max_run: int
    run_histogram: tuple[int, ...]
    conditional_loss_probability: float | None  # P(lost | previous lost)
    gilbert: Gilbert
    burst_gap: BurstGap
    run_start_seq: np.ndarray = field(repr=False)
    run_start_position: np.ndarray = field(repr=False)
    run_length: np.ndarray = field(repr=False)
    duplicate: np.ndarray = field(repr=False)
    late_mask: np.ndarray = field(repr=False)
    position: np.ndarray = field(repr=False)  # per packet, in [0, expected)
    run_before_s: np.ndarray = field(repr=False)  # arrival of the packet before each run
    run_after_s: np.ndarray = field(repr=False)  # and of the packet after it (NaN: unknown)

    @cached_property
    def _within(self) -> np.ndarray:
        ln = self.run_length
        return np.arange(self.lost) - np.repeat(np.cumsum(ln) - ln, ln)

    @cached_property
    def lost_seq(self) -> np.ndarray:
        """Extended sequence numbers never received, ascending."""
        return np.repeat(self.run_start_seq, self.run_length) + self._within

    @cached_property
    def lost_time_s(self) -> np.ndarray:
        """Estimated arrival time of each lost packet: spread evenly between the arrivals
        of the received packets around its run (NaN without arrival times)."""
        ln = self.run_length
        t0 = np.repeat(self.run_before_s, ln)
        span = np.repeat(self.run_after_s - self.run_before_s, ln)
        return t0 + span * (self._within + 1) / np.repeat(ln + 1, ln)

    @property
    def loss_fraction(self) -> float:
        return self.lost / self.expected if self.expected else 0.0

    @property
    def run_histogram_dict(self) -> dict[str, int]:
        """``{"1": n1, ..., "9": n9, "10+": n10}``: runs of that many consecutive losses."""
        return dict(zip(RUN_BUCKET_LABELS, self.run_histogram, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected, "received": self.received, "lost": self.lost,
            "loss_fraction": self.loss_fraction, "duplicates": self.duplicates,
            "late": self.late, "sequence_restarts": self.sequence_restarts,
            "runs": self.runs, "max_run": self.max_run,
            "run_histogram": self.run_histogram_dict,
            "conditional_loss_probability": self.conditional_loss_probability,
            **self.gilbert.to_dict(), **self.burst_gap.to_dict(),
        }


def loss_pattern(seq: np.ndarray, arrival_s: np.ndarray | None = None, *,
                 frame_interval_s: float | None = None, gmin: int = GMIN,
                 max_dropout: int = MAX_DROPOUT) -> LossPattern:
    """Loss pattern of a stream from its extended sequence numbers in arrival order.

    With ``arrival_s`` and ``frame_interval_s``, a jump longer than ``max_dropout`` is loss
    when the time between its neighbours covers at least half of the missing packets (an
    outage), else a restart; without them every such jump is a restart.
    """
    s = np.asarray(seq, dtype=np.int64)
    n = s.size
    t = None if arrival_s is None else np.asarray(arrival_s, dtype=np.float64)
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return LossPattern(0, 0, 0, 0, 0, 0, 0, 0, (0,) * RUN_BUCKETS, None, gilbert(0, 0, 0),
                           burst_gap(e, e, 0, gmin=gmin, frame_interval_s=frame_interval_s),
                           e, e, e, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), e,
                           np.zeros(0), np.zeros(0))
    if n == 1 or bool((s[1:] > s[:-1]).all()):
        u, first_idx = s, None
        dup = np.zeros(n, dtype=bool)
        late = dup
        tu = t
    else:
        order = np.argsort(s, kind="stable")
        ss = s[order]
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(ss[1:], ss[:-1], out=first[1:])
        u, first_idx = ss[first], order[first]
        dup = np.ones(n, dtype=bool)
        dup[first_idx] = False
        late = np.zeros(n, dtype=bool)
        np.less(s[1:], np.maximum.accumulate(s)[:-1], out=late[1:])
        late &= ~dup
        tu = t[first_idx] if t is not None else None
    g = u[1:] - u[:-1] - 1
    restart = g > max_dropout
    n_restart = int(np.count_nonzero(restart))
    if n_restart and tu is not None and frame_interval_s:
        elapsed = np.abs(tu[1:] - tu[:-1])
        restart &= elapsed < 0.5 * (g + 1) * frame_interval_s
        n_restart = int(np.count_nonzero(restart))
    u0 = int(u[0])
    position = s - u0
    if n_restart:
        idx = ((g > 0) & ~restart).nonzero()[0]
        shift = np.zeros(u.size, dtype=np.int64)
        shift[1:] = np.cumsum(np.where(restart, g, 0))
        pos_u = u - u0 - shift
        position -= shift[np.searchsorted(u, s)]
        expected = int(pos_u[-1]) + 1
        run_pos = pos_u[idx] + 1
    else:
        idx = (g > 0).nonzero()[0]
        expected = int(u[-1]) - u0 + 1
        run_pos = u[idx] + (1 - u0)
    run_len = g[idx]
    total = int(run_len.sum())
    if tu is not None:
        before, after = tu[idx], tu[idx + 1]
    else:
        before = after = np.full(idx.size, np.nan)
    received = int(u.size)
    runs = int(run_len.size)
    return LossPattern(
        expected=expected, received=received, lost=total, duplicates=int(n - u.size),
        late=int(np.count_nonzero(late)), sequence_restarts=n_restart, runs=runs,
        max_run=int(run_len.max()) if runs else 0, run_histogram=run_histogram(run_len),
        conditional_loss_probability=(total - runs) / total if total else None,
        gilbert=gilbert(runs, total, received, n_restart + 1),
        burst_gap=burst_gap(run_pos, run_len, expected, gmin=gmin,
                            frame_interval_s=frame_interval_s),
        run_start_seq=u[idx] + 1,
        run_start_position=run_pos, run_length=run_len, duplicate=dup, late_mask=late,
        position=position, run_before_s=before, run_after_s=after)
