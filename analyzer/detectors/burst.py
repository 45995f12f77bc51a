"""Burst loss: runs of consecutive losses longer than independent loss explains.

Null hypothesis: losses are independent (Bernoulli) at the stream's rate, so a run of
losses has mean length ``1 / (1 - p)``. The two-state Markov (Gilbert) model - ``P(lost |
previous received)`` and ``P(lost | previous lost)`` - is fitted to the loss indicator of
the expected slots and compared by likelihood ratio (chi-square, one degree of freedom,
one-sided: losses cluster). Found when the test rejects *and* the mean observed run is at
least ``min_mean_run`` packets and ``min_ratio`` times the Bernoulli mean, over at least
``min_runs`` runs: with thousands of packets a negligible clustering would otherwise be
"significant", and one long gap is an event, not a pattern. The effect is the
mean run length with an interval from Wilson's interval of ``P(received | previous lost)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from analyzer.detectors.base import NOT_A_THRESHOLD, DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import BurstEstimate
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.result import Detection, Estimate, merge_windows, not_applicable
from analyzer.detectors.stats import markov_vs_bernoulli, wilson_interval
from analyzer.metrics.seqmath import true_runs


@dataclass(frozen=True, kw_only=True)
class BurstLossDetector(DetectorSettings):
    """Losses cluster in runs (``pattern`` ``burst_loss``). Uses no context.

    ``evidence_run``: runs at least this long are listed as evidence (not a threshold)."""

    name: ClassVar[str] = "burst_loss"
    estimate_type: ClassVar[type[Estimate]] = BurstEstimate
    kind: ClassVar[str] = "stream"

    alpha: float = 0.01
    min_lost: int = 15
    min_runs: int = 5
    min_mean_run: float = 1.6
    min_ratio: float = 1.4
    evidence_run: int = field(default=3, metadata=NOT_A_THRESHOLD)

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        if f.loss_note is not None:
            return not_applicable(self.name, f.loss_note, **self.thresholds())
        ind = f.slot_lost[f.slot_usable]
        times = f.slot_time_s[f.slot_usable]
        lost = int(np.count_nonzero(ind))
        if lost < self.min_lost:
            return not_applicable(self.name, f"{lost} lost packets (< {self.min_lost})",
                                  **self.thresholds())
        mt = markov_vs_bernoulli(ind)
        if mt is None:
            return not_applicable(self.name, "no loss pattern to test", **self.thresholds())
        starts, lengths = true_runs(ind)
        n_runs = int(lengths.size)
        n11 = lost - n_runs  # lost after lost (runs end with a received packet or the end)
        lo_q, hi_q = wilson_interval(n_runs, max(1, n11 + n_runs))
        interval = (1.0 / hi_q if hi_q > 0 else float("inf"),
                    1.0 / lo_q if lo_q > 0 else float("inf"))
        long = lengths >= self.evidence_run
        ev = [(float(times[s]), float(times[min(s + ln, times.size - 1)]))
              for s, ln in zip(starts[long], lengths[long], strict=True)]
        ratio = mt.mean_run / mt.bernoulli_mean_run if mt.bernoulli_mean_run else 0.0
        detected = bool(mt.pvalue < self.alpha and mt.mean_run >= self.min_mean_run
                        and ratio >= self.min_ratio and n_runs >= self.min_runs)
        hist = np.bincount(np.minimum(lengths, 10), minlength=11)[1:]
        return Detection(
            self.name, detected, statistic=mt.statistic, pvalue=mt.pvalue,
            effect=mt.mean_run, interval=interval,
            evidence=merge_windows(ev, slack_s=0.5), thresholds=self.thresholds(),
            estimate=BurstEstimate(
                effect_unit="mean loss run (packets)", confidence_level=0.95,
                statistic=mt.statistic, pvalue=mt.pvalue, p_loss=mt.p_loss,
                p_loss_after_received=mt.p_loss_after_received,
                p_loss_after_lost=mt.p_loss_after_lost, mean_run=mt.mean_run,
                bernoulli_mean_run=mt.bernoulli_mean_run, ratio_to_bernoulli=ratio,
                runs=n_runs, max_run=int(lengths.max()) if n_runs else 0,
                run_histogram={str(k + 1) if k < 9 else "10+": int(c)
                               for k, c in enumerate(hist)}))
