"""Receive-side jitter-buffer simulation: what a listener would have heard.

Like VoIPmonitor (../shared/DOMAIN.md §3), three buffers are simulated on the arrival
times and RTP timestamps of a stream: fixed 50 ms, fixed 200 ms, and adaptive up to 500 ms.
Each frame (one RTP packet; the first copy of a duplicate) has a play-out deadline; a frame
arriving after it is a *late discard*; a frame that never arrived is *lost*; both are
*concealed* by the decoder. Long runs of concealed frames are what makes a call sound
"metallic" (DOMAIN.md §3), so the runs are reported, and the concealed share is the
effective loss the E-model takes (:mod:`analyzer.metrics.emodel`).

Model, with ``transit = arrival - sender time`` (sender time from the RTP timestamp):

* fixed buffer of depth ``D``: play-out is anchored on the first frame (``deadline =
  sender time + transit(first) + D``). It re-anchors on a frame (counted in ``resyncs``;
  that frame is played) more than ``D + resync`` late (1 s: a route change, a clock jump),
  or completing ``max_late_run`` (10) consecutive late frames, or as many consecutive
  frames early by more than ``D`` (the buffer would overflow). Re-anchoring later inserts
  silence: ``shift / frame`` frames, counted in ``inserted_frames`` and concealed time;
* adaptive buffer: the target delay follows the delay variation ``v`` (transit above the
  minimum of the previous two blocks of 100 frames - 4 s at 20 ms - or of the stream so
  far in its first block): it rises at once to the largest ``v`` seen (plus one frame
  of margin) and shrinks slowly (``shrink_s_per_s``, 20 ms per second), within one frame
  and ``delay_s`` (the cap); a frame whose ``v`` exceeds the target it had *before* the
  frame arrived is late. Growth is free (time-stretching is not counted as concealment):
  a kind model, so its discards are a lower bound.

The E-model's delay for a buffer (``mean_delay_s``) is its mean play-out delay above the
lowest transit of the stream: the absolute network delay is not visible in one capture
(``network_delay_s`` in :mod:`analyzer.metrics.quality` adds it).

Everything is vectorised except the fixed buffer's search for the next resync, which
scans blocks of frames (one step per block or per resync).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from analyzer.metrics.losspattern import (
    BurstGap,
    Gilbert,
    LossPattern,
    burst_gap,
    gilbert,
    run_histogram,
)
from analyzer.metrics.seqmath import true_runs

RESYNC_THRESHOLD_S = 1.0
MAX_LATE_RUN = 10
SMALL_MERGE = 64  # up to this many loss runs + late frames, merged in plain Python
ADAPTIVE_BLOCK_FRAMES = 100  # 2 s of 20 ms frames
ADAPTIVE_SHRINK_S_PER_S = 0.02
SCAN_BLOCK = 4096


@dataclass(frozen=True)
class BufferConfig:
    """One simulated buffer: ``fixed`` with depth ``delay_s``, or ``adaptive`` up to it."""

    name: str
    kind: str  # "fixed" or "adaptive"
    delay_s: float
    resync_threshold_s: float = RESYNC_THRESHOLD_S
    max_late_run: int = MAX_LATE_RUN
    shrink_s_per_s: float = ADAPTIVE_SHRINK_S_PER_S


#: VoIPmonitor's three buffers.
DEFAULT_BUFFERS = (
    BufferConfig("fixed_50ms", "fixed", 0.05),
    BufferConfig("fixed_200ms", "fixed", 0.2),
    BufferConfig("adaptive_500ms", "adaptive", 0.5),
)


@dataclass(frozen=True, eq=False)
class Frames:
    """A stream's frames, ready for play-out: first copies in arrival order, with their
    sender time and position among the ``expected`` frames (0-based, gaps = lost)."""

    arrival_s: np.ndarray
    sender_s: np.ndarray
    position: np.ndarray
    expected: int
    frame_interval_s: float
    transit_s: np.ndarray = field(repr=False)
    loss: LossPattern | None = field(default=None, repr=False)  # network loss, if known

    @cached_property
    def min_transit_s(self) -> float:
        return float(self.transit_s.min()) if self.transit_s.size else 0.0

    @cached_property
    def max_transit_s(self) -> float:
        return float(self.transit_s.max()) if self.transit_s.size else 0.0

    @cached_property
    def no_late(self) -> np.ndarray:
        """A shared all-false late mask."""
        return np.zeros(self.transit_s.size, dtype=bool)


def prepare_frames(arrival_s: np.ndarray, position: np.ndarray, sender_s: np.ndarray,
                   frame_interval_s: float, *, duplicate: np.ndarray | None = None,
                   expected: int | None = None, loss: LossPattern | None = None) -> Frames:
    """Frames of a stream from per-packet arrival, position (extended sequence number minus
    the lowest one, restarts removed) and sender time (RTP time in seconds).

    With ``loss`` (the stream's :class:`LossPattern`, whose ``duplicate``, ``position`` and
    ``expected`` then apply) a buffer without late discards reuses its loss runs."""
    if loss is not None:
        duplicate, expected = loss.duplicate, loss.expected
    t = np.asarray(arrival_s, dtype=np.float64)
    pos = np.asarray(position, dtype=np.int64)
    s = np.asarray(sender_s, dtype=np.float64)
    if duplicate is not None and duplicate.any():
        keep = ~duplicate
        t, pos, s = t[keep], pos[keep], s[keep]
    exp = int(pos.max()) + 1 if expected is None and pos.size else (expected or 0)
    return Frames(t, s, pos, exp, float(frame_interval_s), t - s, loss)


@dataclass(frozen=True, eq=False)
class JitterBufferResult:
    """Outcome of one simulated buffer.

    ``mean_delay_s`` is the mean play-out delay above the lowest transit the stream
    achieved (buffer depth or target, plus how far the anchor sits above that minimum),
    for the E-model's delay term. :attr:`missing` flags each expected frame that was
    concealed (lost or discarded).
    """

    name: str
    kind: str
    nominal_delay_s: float
    mean_delay_s: float
    expected_frames: int
    lost_frames: int
    late_discards: int
    concealed_frames: int
    concealment_runs: int
    max_concealment_run: int
    concealment_run_histogram: tuple[int, ...]
    resyncs: int
    inserted_frames: int  # silence a fixed buffer inserts when it re-anchors later
    gilbert: Gilbert
    run_start: np.ndarray = field(repr=False)  # positions where concealment runs start
    run_length: np.ndarray = field(repr=False)
    played_position: np.ndarray = field(repr=False)  # positions of played frames
    late: np.ndarray = field(repr=False)  # per frame of ``Frames`` (arrival order)
    frame_interval_s: float = field(default=float("nan"), repr=False)

    def burst_gap(self, gmin: int = 16) -> BurstGap:
        """RFC 3611 burst/gap metrics of lost *and discarded* frames (the RFC's own
        definition; the stream-level figures count network loss only)."""
        f = self.frame_interval_s
        return burst_gap(self.run_start, self.run_length, self.expected_frames, gmin=gmin,
                         frame_interval_s=f if math.isfinite(f) else None)

    @property
    def missing(self) -> np.ndarray:
        """One flag per expected frame: concealed (lost or discarded)."""
        m = np.ones(self.expected_frames, dtype=bool)
        m[self.played_position] = False
        return m

    @property
    def concealed_fraction(self) -> float:
        """Share of play-out time concealed: lost, late-discarded and inserted frames over
        expected plus inserted frames (one frame per packet)."""
        total = self.expected_frames + self.inserted_frames
        return (self.concealed_frames + self.inserted_frames) / total if total else 0.0

    @property
    def effective_loss_fraction(self) -> float:
        """Loss after the buffer, the E-model's Ppl / 100 (= ``concealed_fraction``)."""
        return self.concealed_fraction

    def to_dict(self) -> dict[str, Any]:
        from analyzer.metrics.losspattern import RUN_BUCKET_LABELS
        return {
            "kind": self.kind, "nominal_delay_s": self.nominal_delay_s,
            "mean_delay_s": self.mean_delay_s, "expected_frames": self.expected_frames,
            "lost_frames": self.lost_frames, "late_discards": self.late_discards,
            "concealed_frames": self.concealed_frames,
            "concealed_fraction": self.concealed_fraction,
            "concealment_runs": self.concealment_runs,
            "max_concealment_run": self.max_concealment_run,
            "concealment_run_histogram": dict(zip(RUN_BUCKET_LABELS,
                                                  self.concealment_run_histogram,
                                                  strict=True)),
            "resyncs": self.resyncs, "inserted_frames": self.inserted_frames,
            **self.gilbert.to_dict(),
        }


def simulate(frames: Frames, config: BufferConfig) -> JitterBufferResult:
    """Play ``frames`` out through one buffer."""
    x = frames.transit_s
    x_min = frames.min_transit_s
    n_late: int | None = None
    if config.kind == "fixed":
        x0 = float(x[0]) if x.size else 0.0
        depth = config.delay_s
        if frames.max_transit_s - x0 <= depth and x_min - x0 >= -depth:
            # every frame within the depth of the first: nothing late, early or re-anchored
            late, resyncs, inserted, n_late = frames.no_late, 0, 0, 0
            mean_delay = x0 - x_min + depth if x.size else 0.0
        else:
            run = _fixed_run(x, depth, config, frames.frame_interval_s)
            late, resyncs, inserted = run.late, run.resyncs, run.inserted_frames
            # play-out delay above the best transit the stream achieved
            mean_delay = run.mean_anchor - x_min + depth
    elif config.kind == "adaptive":
        late, offset_sum = _adaptive_late(frames, config)
        resyncs = inserted = 0
        mean_delay = offset_sum / x.size - x_min if x.size else 0.0
    else:
        raise ValueError(f"BufferConfig.kind must be 'fixed' or 'adaptive', not {config.kind!r}")
    return _outcome(frames, config, late, resyncs, inserted, mean_delay, n_late)


def simulate_all(frames: Frames, configs: tuple[BufferConfig, ...] = DEFAULT_BUFFERS
                 ) -> dict[str, JitterBufferResult]:
    """Every buffer of ``configs`` on the same frames, by name."""
    return {c.name: simulate(frames, c) for c in configs}


def _outcome(frames: Frames, config: BufferConfig, late: np.ndarray, resyncs: int,
             inserted: int, mean_delay: float, n_late: int | None) -> JitterBufferResult:
    exp = frames.expected
    if n_late is None:
        n_late = int(np.count_nonzero(late))
    lp = frames.loss
    played = frames.position[~late] if n_late else frames.position
    if n_late == 0 and lp is not None:  # the concealment runs are the loss runs
        starts, lengths = lp.run_start_position, lp.run_length
        hist, gil = lp.run_histogram, lp.gilbert
        concealed = lp.lost
    elif lp is not None and lp.runs + n_late <= SMALL_MERGE:
        # few events: merge the loss runs with the late frames in plain Python
        starts, lengths = _merge_runs(lp.run_start_position.tolist(), lp.run_length.tolist(),
                                      frames.position[late].tolist())
        concealed = int(lengths.sum())
        hist = run_histogram(lengths)
        gil = gilbert(int(lengths.size), concealed, exp - concealed)
    else:
        if played.size > 1 and not bool((played[1:] > played[:-1]).all()):
            played = np.sort(played)
        starts, lengths = missing_runs(played, exp)
        concealed = int(lengths.sum())
        gil = gilbert(int(lengths.size), concealed, int(played.size))
        hist = run_histogram(lengths)
    return JitterBufferResult(
        name=config.name, kind=config.kind, nominal_delay_s=config.delay_s,
        mean_delay_s=mean_delay, expected_frames=exp,
        lost_frames=exp - int(frames.position.size), late_discards=n_late,
        concealed_frames=concealed, concealment_runs=int(lengths.size),
        max_concealment_run=(lp.max_run if n_late == 0 and lp is not None
                             else int(lengths.max()) if lengths.size else 0),
        concealment_run_histogram=hist, resyncs=resyncs, inserted_frames=inserted,
        gilbert=gil, run_start=starts, run_length=lengths, played_position=played, late=late,
        frame_interval_s=frames.frame_interval_s)


def _merge_runs(starts: list[int], lengths: list[int], singles: list[int]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Union of runs ``(start, length)`` and single positions (disjoint from the runs), as
    maximal runs."""
    events = sorted([*zip(starts, lengths, strict=True), *((p, 1) for p in singles)])
    out_s: list[int] = []
    out_l: list[int] = []
    for a, ln in events:
        if out_s and a <= out_s[-1] + out_l[-1]:
            out_l[-1] = max(out_l[-1], a + ln - out_s[-1])
        else:
            out_s.append(a)
            out_l.append(ln)
    return np.array(out_s, dtype=np.int64), np.array(out_l, dtype=np.int64)


def missing_runs(played: np.ndarray, expected: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of the runs of positions in ``[0, expected)`` absent from the
    sorted unique ``played``."""
    if played.size == 0:
        return np.zeros(1 if expected else 0, dtype=np.int64), \
            np.full(1 if expected else 0, expected, dtype=np.int64)
    bounds = np.concatenate(([-1], played, [expected]))
    gap = bounds[1:] - bounds[:-1] - 1
    k = np.flatnonzero(gap > 0)
    return bounds[k] + 1, gap[k]


@dataclass(frozen=True, eq=False)
class _FixedRun:
    late: np.ndarray
    mean_anchor: float  # mean over frames of the transit their play-out is anchored on
    resyncs: int
    inserted_frames: int


def _first_long_run(mask: np.ndarray, length: int, carry: int) -> int:
    """Index where the first run of ``length`` consecutive ``True`` completes (a run open at
    index 0 already has ``carry`` before it), or -1."""
    if length <= 0 or not mask.any():
        return -1
    starts, lengths = true_runs(mask)
    eff = lengths + np.where(starts == 0, carry, 0)
    long = np.flatnonzero(eff >= length)
    if long.size == 0:
        return -1
    k = int(long[0])
    return int(starts[k]) + length - 1 - (carry if starts[k] == 0 else 0)


def _trailing_run(mask: np.ndarray) -> int:
    """Length of the run of ``True`` at the end of ``mask``."""
    if mask.size == 0 or not mask[-1]:
        return 0
    idx = np.flatnonzero(~mask)
    return int(mask.size - 1 - idx[-1]) if idx.size else int(mask.size)


def _fixed_run(transit: np.ndarray, depth: float, config: BufferConfig, frame_s: float
               ) -> _FixedRun:
    """Late flags of a fixed buffer anchored on the first frame and re-anchored on a frame
    later than ``depth + resync`` or completing ``max_late_run`` consecutive late (or
    too-early: waiting more than twice the depth) frames."""
    n = transit.size
    late = np.zeros(n, dtype=bool)
    if n == 0:
        return _FixedRun(late, 0.0, 0, 0)
    anchor = float(transit[0])
    anchor_sum = 0.0
    resyncs = inserted = 0
    carry_late = carry_early = 0
    k_run = config.max_late_run
    i = 0
    while i < n:
        j = min(i + SCAN_BLOCK, n)
        rel = transit[i:j] - anchor
        if float(rel.max()) <= depth and float(rel.min()) >= -depth:  # nothing to do
            anchor_sum += anchor * (j - i)
            carry_late = carry_early = 0
            i = j
            continue
        lt = rel > depth
        early = rel < -depth
        cands = [int(np.argmax(rel > depth + config.resync_threshold_s))
                 if bool(np.any(rel > depth + config.resync_threshold_s)) else -1,
                 _first_long_run(lt, k_run, carry_late),
                 _first_long_run(early, k_run, carry_early)]
        k = min((c for c in cands if c >= 0), default=-1)
        if k < 0:
            late[i:j] = lt
            anchor_sum += anchor * (j - i)
            carry_late = carry_late + lt.size if lt.all() else _trailing_run(lt)
            carry_early = carry_early + early.size if early.all() else _trailing_run(early)
            i = j
            continue
        late[i:i + k] = lt[:k]
        anchor_sum += anchor * k
        shift = float(transit[i + k]) - anchor
        if shift > 0 and frame_s > 0:
            inserted += round(shift / frame_s)
        anchor = float(transit[i + k])
        resyncs += 1
        carry_late = carry_early = 0
        i += k
        late[i] = False
        anchor_sum += anchor
        i += 1
    return _FixedRun(late, anchor_sum / n, resyncs, inserted)


def _adaptive_late(frames: Frames, config: BufferConfig) -> tuple[np.ndarray, float]:
    """Late flags, and the sum over frames of the play-out offset (reference transit +
    target delay) each met, for the adaptive buffer."""
    t, x = frames.arrival_s, frames.transit_s
    n = t.size
    if n == 0:
        return np.zeros(0, dtype=bool), 0.0
    f = frames.frame_interval_s if math.isfinite(frames.frame_interval_s) else 0.02
    # reference: the lowest transit of the previous two blocks of frames (or this
    # frame's, if lower); in the first block, the running minimum
    b = ADAPTIVE_BLOCK_FRAMES
    nb = -(-n // b)
    if nb == 1:
        ref = np.minimum.accumulate(x)
    else:
        xp = x if n == nb * b else np.concatenate((x, np.full(nb * b - n, np.inf)))
        bmin = xp.reshape(nb, b).min(axis=1)
        prev = np.empty(nb)
        prev[0] = np.inf
        prev[1:] = bmin[:-1]
        np.minimum(prev[2:], bmin[:-2], out=prev[2:])
        ref = np.minimum(np.repeat(prev, b)[:n], x)
        ref[:b] = np.minimum.accumulate(x[:b])
    v = x - ref
    # peak envelope of v with linear decay: max_j<=i (v_j - r (t_i - t_j))
    r = config.shrink_s_per_s
    rt = r * t
    peak = np.maximum.accumulate(v + rt)
    target = np.empty(n)
    target[0] = 2 * f
    target[1:] = peak[:-1] - rt[1:] + f  # the envelope just before frame i arrives
    np.clip(target, f, config.delay_s, out=target)
    return v > target, float(ref.sum()) + float(target.sum())
