"""Jitter and delay beyond the baseline, with queueing evidence.

The metric is the mean ``|D|`` per window (RFC 3550's transit difference of consecutive
packets, ``D = (R_i - R_j) - (S_i - S_j)``, with ``S`` the RTP timestamp / clock or the
inferred slot grid). It is compared with the reference's windows:

* a reference sample from the same conditions (another capture, the other direction, the
  part before the onset): one-sided Mann-Whitney test, the Hodges-Lehmann shift with its
  interval, and Wehe's KS + area band; when the split is the stream's own onset, the
  onset scan's p-value (which accounts for choosing the split) replaces Mann-Whitney's;
* a profile of many clean calls: the stream's median window jitter against the profile's
  between-call spread (log-normal fit of the per-call medians; one call's windows are not
  a sample of other calls' windows), the HL shift against the pooled profile windows as
  the effect.

Found when the p-value is below ``alpha``, the shift is at least ``min_shift_s`` and the
median at least ``min_ratio`` times the reference's, and Wehe's band does not say "same".
Queueing evidence: with RTP timestamps, the median relative one-way delay of the tested
windows above the reference windows' (``delay_rise_s``) - a queue that builds, not just a
noisy radio link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from analyzer.detectors.base import NOT_A_THRESHOLD, DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import JitterEstimate
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.reference import Reference
from analyzer.detectors.result import Detection, Estimate, merge_windows, not_applicable
from analyzer.detectors.stats import WEHE_AREA_THRESHOLD, rank_shift, wehe_compare

JITTER_SCALE_FLOOR_S = 0.005


@dataclass(frozen=True, kw_only=True)
class JitterDetector(DetectorSettings):
    """Packet delay variation above the baseline (``pattern`` ``jitter``).

    Reads ``context.jitter_reference`` (else ``reference``); when that is the stream's own
    ``pre_onset`` part, only the windows from ``context.split_s`` on are tested, and
    ``context.split_pvalue`` (the onset scan's) is the p-value. ``wehe_area``: Wehe's area
    band; ``min_queue_delay_s``: the delay rise reported as queueing (evidence, not a
    threshold of the finding)."""

    name: ClassVar[str] = "jitter"
    estimate_type: ClassVar[type[Estimate]] = JitterEstimate
    kind: ClassVar[str] = "stream"

    alpha: float = 0.01
    min_shift_s: float = 0.004
    min_ratio: float = 1.5
    min_windows: int = 5
    wehe_area: float = WEHE_AREA_THRESHOLD
    min_queue_delay_s: float = field(default=0.02, metadata=NOT_A_THRESHOLD)

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        reference = context.jitter_baseline
        split_pvalue = context.split_pvalue
        since_s = context.split_s if reference is not None and \
            reference.kind == "pre_onset" else None
        w = f.windows
        sel = w.usable & np.isfinite(w.ipdv_s)
        if since_s is not None:
            sel &= w.start_s >= since_s - 1e-9
        x = w.ipdv_s[sel]
        if x.size < self.min_windows or reference is None:
            return not_applicable(self.name, "too few windows or no reference",
                                  **self.thresholds())
        y = reference.sample("jitter")
        if y.size < 3:
            return not_applicable(self.name, "reference has too few windows",
                                  **self.thresholds())
        rs = rank_shift(x, y, alternative="greater")
        wc = wehe_compare(x, y, scale_floor=JITTER_SCALE_FLOOR_S,
                          area_threshold=self.wehe_area)
        med_x = float(np.median(x))
        if reference.is_profile and "jitter" in reference.call_level:
            cl = reference.call_level["jitter"]
            p, basis = cl.pvalue_above(med_x), "profile between-call spread"
            med_y = cl.quantile(0.5)
        elif reference.kind == "pre_onset" and split_pvalue is not None:
            p, basis, med_y = split_pvalue, "onset scan", float(np.median(y))
        else:
            p, basis, med_y = rs.pvalue, "Mann-Whitney", float(np.median(y))
        ratio = med_x / med_y if med_y > 0 else float("inf")
        queue = self._queue(f, sel, reference)
        detected = bool(p < self.alpha and rs.shift >= self.min_shift_s
                        and ratio >= self.min_ratio and wc.decision != "same")
        thr = float(np.quantile(y, 0.95))
        bad = sel & (w.ipdv_s > thr)
        ev = merge_windows([(float(s), float(s + w.window_s)) for s in w.start_s[bad]],
                           slack_s=w.window_s)
        return Detection(
            self.name, detected, statistic=rs.statistic, pvalue=p, effect=rs.shift,
            interval=rs.interval, evidence=ev, thresholds=self.thresholds(),
            estimate=JitterEstimate(
                effect_unit="s of mean |D| per window (Hodges-Lehmann shift)",
                confidence_level=rs.confidence, pvalue_basis=basis,
                jitter_s=med_x, reference_jitter_s=med_y, ratio=ratio,
                mann_whitney_pvalue=rs.pvalue, wehe=wc, windows=int(x.size), **queue))

    def _queue(self, f: StreamFeatures, sel: np.ndarray, reference: Reference
               ) -> dict[str, Any]:
        """``queueing``, ``delay_rise_s`` and ``delay_rise_pvalue`` of the estimate."""
        if not f.delay_measurable:
            return {"queueing": None, "delay_rise_s": None}
        d = f.windows.delay_s[sel]
        d = d[np.isfinite(d)]
        ref = reference.sample("delay") if reference.kind in ("pre_onset", "reverse",
                                                               "capture") else np.zeros(0)
        if d.size == 0:
            return {"queueing": None, "delay_rise_s": None}
        if ref.size >= 3:
            rise = float(np.median(d) - np.median(ref))
            p = rank_shift(d, ref, alternative="greater").pvalue
        else:
            alld = f.windows.delay_s[f.windows.usable]
            alld = alld[np.isfinite(alld)]
            rise = float(np.median(d) - np.quantile(alld, 0.05))
            p = None
        queueing = rise >= self.min_queue_delay_s and (p is None or p < self.alpha)
        return {"queueing": bool(queueing), "delay_rise_s": rise, "delay_rise_pvalue": p}
