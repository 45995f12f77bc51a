"""Onset: when the degradation started - a change point in loss, jitter, delay or bit rate.

* Loss: the Bernoulli likelihood-ratio scan over the expected slots' loss *events* (the
  first lost slot of each run, so a burst counts once; one change, an increase; each
  segment at least ``min_segment_s``), its p-value by permutation with a Gumbel tail
  beyond the permutation resolution (:func:`~analyzer.detectors.stats.bernoulli_scan`).
  The likelihood is maximal at the first event after the change, which trails the true
  change by a waiting time of mean ``1 / (event rate x packet rate)``; the reported onset
  is the posterior median under a flat prior, ``first event - ln 2 / (rate after x packets
  per second)``, moved back by at most ``MAX_CORRECTION_S`` and never before the last
  loss preceding it (``first_effect_s`` is the first event itself, ``earliest_s`` that
  last earlier loss: the change lies between them).
* Jitter (mean ``|D|`` per window), delay (median relative one-way delay per window),
  bit rate (a decrease): Pettitt's rank test on the windows; for jitter and delay the split
  moves back to where the excursion above the earlier level (its 90th percentile) began -
  a slowly filling queue is a ramp, which Pettitt would cut in the middle; the time is refined to
  a packet by a least-squares split of the per-packet values within two windows of it.

A signal counts when its scan p-value is below ``alpha`` divided by the number of
signals; the onset is the earliest counting signal's among loss, jitter and delay (known
to a packet), the bit rate's (known to a window) only when it counts alone. The scan
p-values are valid with the change point chosen from the data; a plain before-vs-after
Mann-Whitney test on the windows is also reported (``confirm_pvalue``) as the confirmation
the literature uses, though it ignores that the split was chosen. ``after_s`` / ``after_packets`` /
``after_bytes`` say how long, how many packets and how many IP-layer bytes of the stream
passed before the onset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from analyzer.detectors.base import RESAMPLE_COUNT, DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import OnsetEstimate, SignalChange
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.result import Detection, Estimate, not_applicable
from analyzer.detectors.stats import bernoulli_scan, pettitt, rank_shift

SIGNALS = ("loss", "jitter", "delay", "bitrate")
#: The waiting-time correction of a loss onset never exceeds this.
MAX_CORRECTION_S = 0.5
#: The per-packet refinement of a windowed change searches this many windows either side.
REFINE_WINDOWS = 2


@dataclass(frozen=True, kw_only=True)
class OnsetDetector(DetectorSettings):
    """Single change point where the stream got worse.

    Reads ``context.rng()`` (the ``n_perm`` permutations of the loss scan); ``signals``:
    which of :data:`SIGNALS` are scanned."""

    name: ClassVar[str] = "onset"
    estimate_type: ClassVar[type[Estimate]] = OnsetEstimate
    kind: ClassVar[str] = "stream"

    alpha: float = 0.01
    min_segment_s: float = 5.0
    n_perm: int = field(default=99, metadata=RESAMPLE_COUNT)
    signals: tuple[str, ...] = SIGNALS

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        if f.duration_s < 2 * self.min_segment_s:
            return not_applicable(self.name, f"stream shorter than {2 * self.min_segment_s} s",
                                  **self.thresholds())
        found: dict[str, SignalChange] = {}
        for sig in self.signals:
            res = self._loss(f, context) if sig == "loss" else self._windowed(f, sig)
            if res is not None:
                found[sig] = res
        level = self.alpha / max(1, len(self.signals))
        counting = {k: v for k, v in found.items() if v.pvalue < level}
        if not counting:
            best = min(found.values(), key=lambda v: v.pvalue) if found else None
            return Detection(self.name, False,
                             pvalue=None if best is None else min(1.0, best.pvalue * len(
                                 self.signals)),
                             thresholds=self.thresholds(),
                             estimate=OnsetEstimate(signals=found, level=level))
        # packet-resolution signals first; the windowed bit rate only when alone
        fine = [k for k in counting if k != "bitrate"] or list(counting)
        sig = min(fine, key=lambda k: counting[k].onset_s)
        r = counting[sig]
        onset = r.onset_s
        packets, nbytes = f.cumulative_at(onset)
        confirm = self._confirm(f, sig, onset)
        return Detection(
            self.name, True, statistic=r.statistic,
            pvalue=min(1.0, r.pvalue * len(self.signals)), effect=r.after - r.before,
            interval=None, evidence=((onset, f.end_s),), thresholds=self.thresholds(),
            estimate=OnsetEstimate(
                effect_unit=f"{sig}: after minus before", onset_s=onset, signal=sig,
                first_effect_s=r.first_effect_s if r.first_effect_s is not None else onset,
                earliest_s=r.earliest_s, before=r.before, after=r.after,
                after_s=onset - f.start_s, after_packets=packets, after_bytes=nbytes,
                confirm_pvalue=confirm, signals=found, level=level))

    def _loss(self, f: StreamFeatures, context: DetectionContext) -> SignalChange | None:
        use = f.slot_usable
        lost, t = f.slot_lost[use], f.slot_time_s[use]
        if lost.sum() < 3 or not np.isfinite(f.frame_interval_s):
            return None
        # lost slots, and loss *events* (the first slot of each run: a burst is one event,
        # so bursty loss does not pull the change to a later, denser stretch); the event
        # scan places the change when it counts, the better p-value of the two (doubled)
        # is the evidence
        events = lost.copy()
        events[1:] &= ~lost[:-1]
        m = max(10, int(self.min_segment_s / f.frame_interval_s))
        scans = []
        for ind in (events, lost):
            cp = bernoulli_scan(ind, min_size=m, n_perm=self.n_perm,
                                rng=context.rng())
            if cp is not None and cp.after > cp.before:
                scans.append((cp, ind))
        if not scans:
            return None
        p = min(1.0, 2 * min(cp.pvalue for cp, _ in scans))
        cp, ind = scans[0]  # the event scan places the change (the slot scan if alone)
        cp = replace(cp, pvalue=p)
        first = float(t[cp.index])
        pps = 1.0 / f.frame_interval_s
        wait = min(MAX_CORRECTION_S, math.log(2) / max(cp.after * pps, 1e-9))
        prior = np.flatnonzero(lost[:cp.index])
        floor = float(t[prior[-1]]) if prior.size else float(t[0])
        onset = max(first - wait, floor, float(t[0]))
        return SignalChange(onset_s=onset, first_effect_s=first, earliest_s=floor,
                            statistic=cp.statistic, pvalue=cp.pvalue, before=cp.before,
                            after=cp.after)

    def _windowed(self, f: StreamFeatures, sig: str) -> SignalChange | None:
        w = f.windows
        if sig == "jitter":
            use, vals, direction = w.usable, w.ipdv_s, "increase"
        elif sig == "delay":
            if not f.delay_measurable:
                return None
            use, vals, direction = w.usable, w.delay_s, "increase"
        else:
            use, vals, direction = w.usable_for_rate, w.bitrate_bps, "decrease"
        idx = np.flatnonzero(use & np.isfinite(vals))
        m = max(3, round(self.min_segment_s / w.window_s))
        if idx.size < 2 * m:
            return None
        cp = pettitt(vals[idx], min_size=m, direction=direction)
        if cp is None:
            return None
        j = cp.index
        if sig in ("jitter", "delay"):
            # a queue that fills slowly is a ramp: Pettitt splits it in the middle; go back
            # to where the excursion above the earlier level began
            for _ in range(5):  # the level itself was raised by the ramp: repeat
                before = vals[idx[:j]]
                level = float(np.quantile(before, 0.9)) if before.size else -np.inf
                k = j
                while k > m and vals[idx[k - 1]] > level:
                    k -= 1
                if k == j:
                    break
                j = k
        t_win = float(w.start_s[idx[j]])
        onset = self._refine(f, sig, t_win, cp.before, cp.after)
        return SignalChange(onset_s=onset, statistic=cp.statistic, pvalue=cp.pvalue,
                            before=cp.before, after=cp.after)

    def _refine(self, f: StreamFeatures, sig: str, t_win: float, before: float,
                after: float) -> float:
        """Least-squares split of per-packet values within ``REFINE_WINDOWS`` windows of
        ``t_win``."""
        ws = f.windows.window_s
        if sig == "jitter":
            x = f.ipdv_s
        elif sig == "delay":
            x = f.delay_s
        else:
            return t_win
        t = f.arrival_s
        sel = (t >= t_win - REFINE_WINDOWS * ws) & (t < t_win + REFINE_WINDOWS * ws) & \
            np.isfinite(x)
        if sel.sum() < 4:
            return t_win
        order = np.argsort(t[sel])
        ts, xs = t[sel][order], x[sel][order]
        c_b = np.concatenate(([0.0], np.cumsum((xs - before) ** 2)))
        c_a = np.concatenate(([0.0], np.cumsum((xs - after) ** 2)))
        cost = c_b + (c_a[-1] - c_a)
        j = int(np.argmin(cost))
        return float(ts[min(j, ts.size - 1)])

    def _confirm(self, f: StreamFeatures, sig: str, onset: float) -> float | None:
        w = f.windows
        if sig == "loss":
            vals, use, alt = w.loss_fraction, w.usable, "greater"
        elif sig == "jitter":
            vals, use, alt = w.ipdv_s, w.usable, "greater"
        elif sig == "delay":
            vals, use, alt = w.delay_s, w.usable, "greater"
        else:
            vals, use, alt = w.bitrate_bps, w.usable_for_rate, "less"
        after = use & (w.start_s >= onset)
        before = use & (w.start_s + w.window_s <= onset)
        if after.sum() < 2 or before.sum() < 2:
            return None
        return rank_shift(vals[after], vals[before], alternative=alt).pvalue


def onset_of(d: Detection | None, signals: tuple[str, ...]) -> tuple[float, str] | None:
    """The earliest counting change among ``signals`` of an onset result (time, signal)."""
    if d is None or not d.detected:
        return None
    e = d.estimate
    if not isinstance(e, OnsetEstimate):
        return None
    hits = [(v.onset_s, k) for k, v in e.signals.items()
            if k in signals and v.pvalue < e.level]
    return min(hits) if hits else None
