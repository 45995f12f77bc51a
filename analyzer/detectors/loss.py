"""Loss above the baseline: a one-sided rate test scanned over candidate onsets.

Null hypothesis: from any time on, the stream loses at most ``p0 = upper(p_ref) +
min_excess`` of its expected packets, ``p_ref`` the reference's loss rate (its 95 % upper
Wilson bound; 0 for a clean profile) and ``min_excess`` (1 % by default) the smallest
excess worth reporting - so the small loss of an ordinary network is never "significant"
however long the call. The rate from each candidate onset on a grid (every ``grid_s``
from the stream's start while ``min_tail_s`` remain) is tested with
:func:`~analyzer.detectors.stats.excess_rate_test` (over-dispersion from 1-s windows: loss
in bursts counts for less); the candidate with the largest z is kept and its p-value is
multiplied by the number of candidates (Bonferroni), so a late onset does not dilute the
evidence and scanning is paid for.
Slots inside confounder intervals (handover, outage) and silence never count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from analyzer.detectors.base import DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import LossEstimate
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.result import Detection, Estimate, merge_windows, not_applicable
from analyzer.detectors.stats import excess_rate_test


@dataclass(frozen=True, kw_only=True)
class LossDetector(DetectorSettings):
    """Loss rate significantly above the reference's (``pattern`` ``loss``).

    Reads ``context.reference`` (none: a loss-free baseline)."""

    name: ClassVar[str] = "loss"
    estimate_type: ClassVar[type[Estimate]] = LossEstimate
    kind: ClassVar[str] = "stream"

    min_excess: float = 0.01
    alpha: float = 0.01
    grid_s: float = 5.0
    min_tail_s: float = 10.0
    min_lost: int = 5

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        reference = context.reference
        if f.loss_note is not None:
            return not_applicable(self.name, f.loss_note, **self.thresholds())
        w = f.windows
        ok = ~w.confounded & (w.expected > 0)
        if not ok.any():
            return not_applicable(self.name, "no expected packets", **self.thresholds())
        p_ref = reference.loss_upper() if reference is not None else 0.0
        p0 = min(0.99, p_ref + self.min_excess)
        starts = w.start_s
        cands = [f.start_s]
        t = f.start_s + self.grid_s
        while f.end_s - t >= self.min_tail_s:
            cands.append(t)
            t += self.grid_s
        best = None
        for tau in cands:
            sel = ok & (starts >= tau - 1e-9 if tau > f.start_s else ok)
            res = excess_rate_test(w.lost[sel], w.expected[sel], p0)
            # the largest z (p-values saturate at their floor), i.e. the clearest excess
            if best is None or res.statistic > best[1].statistic:
                best = (tau, res)
        assert best is not None
        tau, res = best
        p = min(1.0, res.pvalue * len(cands))
        lost_all = int(np.count_nonzero(f.slot_lost & f.slot_usable))
        exp_all = int(np.count_nonzero(f.slot_usable))
        runs = f.loss.run_length
        lf = w.loss_fraction
        bad = ok & np.isfinite(lf) & (lf > p0)
        evidence = merge_windows([(float(s), float(s + w.window_s)) for s in starts[bad]],
                                 slack_s=w.window_s)
        excess = res.rate - (reference.loss_rate if reference is not None else 0.0)
        detected = bool(p < self.alpha and excess >= self.min_excess
                        and res.events >= self.min_lost)
        return Detection(
            self.name, detected, statistic=res.statistic, pvalue=p, effect=res.rate,
            interval=res.interval, evidence=evidence, thresholds=self.thresholds(),
            estimate=LossEstimate(
                effect_unit="loss fraction from from_s on", confidence_level=0.95,
                loss_fraction=lost_all / exp_all if exp_all else 0.0,
                lost=lost_all, expected=exp_all, from_s=tau,
                tail_loss_fraction=res.rate, null_rate=p0,
                reference_loss_fraction=reference.loss_rate if reference else None,
                dispersion=res.dispersion, candidates=len(cands),
                runs=int(runs.size),
                run_length_min=int(runs.min()) if runs.size else 0,
                run_length_p90=int(np.quantile(runs, 0.9)) if runs.size else 0,
                run_length_max=int(runs.max()) if runs.size else 0,
                source=f.source))
