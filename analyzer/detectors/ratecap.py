"""Rate cap: the delivered bit rate flattens at a level while the excess is dropped or queued.

Test. Under independent loss at rate ``pi`` (the null: a lossy but rate-blind network),
the IP-layer bytes delivered in a window of ``n`` expected packets vary at least by the
binomial thinning variance ``pi (1 - pi) n E[s^2]`` (``s`` the packet size; the sender's
own rate changes only add to it). A token bucket or a shaper delivers ``C x window`` in
every window, however much was offered: far *less* variance. The statistic is the ratio
``R = var(delivered bytes) / mean(binomial variance)`` over the whole windows from
``since_s`` on (at the first drop a policer's bucket is empty and a shaper's queue is
full); ``(k - 1) R`` is compared with the lower tail of chi-square with ``k - 1`` degrees
of freedom (conservative under the null, which has extra variance). Found when
the lower-tail p-value is below ``alpha``, ``R <= max_ratio``, at least ``min_loss`` of
the packets are lost and 90 % of the loss runs last at most ``max_run_s`` (0.1 s, or three
frames): a bucket or a queue drops a packet here and there, not whole windows (drop
windows that recur once per window would otherwise look flat too).

Estimate. The cap is the median delivered IP-layer rate of those windows (bit/s; a
flat series has its density peak there), with a moving-block bootstrap 95 % interval; the
offered rate and the ratio cap / offered are reported beside it.

Policing or shaping (Flach et al., SIGCOMM 2016). A policer drops at once: the relative
one-way delay (RTP timestamps against arrival, RFC 5481 PDV) stays where it was. A shaper
queues first: the delay rises by up to its queue's worth, then the tail drops. ``shaping``
when the median relative delay of the capped windows exceeds that of the windows before
the loss (or, capped from the start, the reference's typical relative delay - the delay
is measured from the stream's own least-delayed packet) by ``min_queue_delay_s``
and, where both sides have windows, a one-sided Mann-Whitney test agrees; ``policing``
otherwise; ``undetermined`` without RTP timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from analyzer.detectors.base import RESAMPLES, DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import RateCapEstimate
from analyzer.detectors.features import StreamFeatures, WindowTable, window_table
from analyzer.detectors.reference import Reference
from analyzer.detectors.result import Detection, Estimate, merge_windows, not_applicable
from analyzer.detectors.stats import block_bootstrap_ci, chi2_cdf, rank_shift


@dataclass(frozen=True, kw_only=True)
class RateCapDetector(DetectorSettings):
    """Delivered rate flattened at a cap (``pattern`` ``rate_cap``; policing or shaping).

    Reads ``context.since_s`` (tests from the onset, else from the first loss),
    ``context.reference`` (the typical delay when capped from the start) and
    ``context.rng()`` (the bootstrap of ``n_boot`` resamples)."""

    name: ClassVar[str] = "rate_cap"
    estimate_type: ClassVar[type[Estimate]] = RateCapEstimate
    kind: ClassVar[str] = "stream"

    alpha: float = 0.01
    min_loss: float = 0.03
    max_ratio: float = 0.5
    min_windows: int = 5
    min_queue_delay_s: float = 0.02
    max_run_s: float = 0.1
    min_window_s: float = 0.5
    n_boot: int = field(default=400, metadata=RESAMPLES)

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        since_s, reference = context.since_s, context.reference
        if f.loss_note is not None:
            return not_applicable(self.name, f.loss_note, **self.thresholds())
        w = f.windows
        lost_slots = f.slot_lost & f.slot_usable
        if not lost_slots.any():
            return not_applicable(self.name, "no loss", **self.thresholds())
        first_loss = float(f.slot_time_s[lost_slots].min())
        start = max(first_loss if since_s is None else since_s, first_loss)
        # from the first whole window after the first drop: a policer's bucket is empty
        # and a shaper's queue full by then (the window of the first drop is partly
        # before the cap bit)
        sel = w.usable_for_rate & (w.start_s >= start - 1e-9)
        k = int(sel.sum())
        if k < 2 * self.min_windows and w.window_s / 2 >= self.min_window_s:
            # a cap that bit late in a short call: half windows (a bucket delivers its
            # rate in any window longer than a few packets)
            w = window_table(f, w.window_s / 2)
            sel = w.usable_for_rate & (w.start_s >= start - 1e-9)
            k = int(sel.sum())
        if k < self.min_windows:
            return not_applicable(self.name, f"{k} windows after the loss began "
                                  f"(< {self.min_windows})", **self.thresholds())
        delivered = w.bytes_ip[sel]
        n = w.expected[sel]
        pi = float(w.lost[sel].sum() / n.sum()) if n.sum() else 0.0
        keep = ~f.duplicate & np.isin(
            np.clip(((f.arrival_s - w.start_s[0]) / w.window_s).astype(np.int64), 0,
                    len(w) - 1), np.flatnonzero(sel))
        s2 = float(np.mean((f.size_bytes[keep].astype(np.float64)
                            + f.ip_overhead_bytes) ** 2)) if keep.any() else float("nan")
        h0_var = float(np.mean(pi * (1 - pi) * n * s2)) if pi > 0 else 0.0
        if h0_var <= 0 or not np.isfinite(h0_var):
            return not_applicable(self.name, "no loss after the onset", **self.thresholds())
        ratio = float(np.var(delivered, ddof=1)) / h0_var
        p = max(chi2_cdf((k - 1) * ratio, k - 1), 1e-16)
        rate = delivered * 8.0 / w.window_s
        cap = float(np.median(rate))
        ci = block_bootstrap_ci(rate, np.median, n_boot=self.n_boot, rng=context.rng())
        offered = float(np.median(w.offered_bps[sel]))
        before = w.usable_for_rate & (w.start_s + w.window_s <= first_loss + 1e-9)
        sent_before = float(np.median(w.bitrate_bps[before])) if before.sum() >= 3 else None
        mode, queue = self._mode(f, w, sel, before, reference)
        # a token bucket or a queue drops a packet here and there, not whole windows
        runs = _runs_after(f, start)
        frame = f.frame_interval_s if np.isfinite(f.frame_interval_s) else 0.02
        run_p90_s = float(np.quantile(runs, 0.9)) * frame if runs.size else 0.0
        max_run_s = max(self.max_run_s, 3 * frame)
        detected = bool(p < self.alpha and ratio <= self.max_ratio and pi >= self.min_loss
                        and run_p90_s <= max_run_s)
        ev = merge_windows([(float(s), float(s + w.window_s)) for s in w.start_s[sel]],
                           slack_s=w.window_s)
        return Detection(
            self.name, detected, statistic=ratio, pvalue=p, effect=cap, interval=ci,
            evidence=ev, thresholds=self.thresholds(),
            estimate=RateCapEstimate(
                effect_unit="delivered IP-layer bit/s", confidence_level=0.95,
                rate_bps=cap, rate_p90_bps=float(np.quantile(rate, 0.9)),
                offered_bps=offered, rate_before_bps=sent_before,
                cap_fraction_of_offered=cap / offered if offered > 0 else None,
                loss_fraction=pi, windows=k, since_s=start, loss_run_p90_s=run_p90_s,
                mode=mode, **queue))

    def _mode(self, f: StreamFeatures, w: WindowTable, capped: np.ndarray,
              before: np.ndarray, reference: Reference | None) -> tuple[str, dict]:
        if not f.delay_measurable:
            return "undetermined", {"queue_delay_s": None,
                                    "mode_note": "no RTP timestamps: one-way delay unknown"}
        dc = w.delay_s[capped]
        dc = dc[np.isfinite(dc)]
        db = w.delay_s[before & w.usable]
        db = db[np.isfinite(db)]
        if dc.size == 0:
            return "undetermined", {"queue_delay_s": None}
        if db.size >= 3:
            base = float(np.median(db))
            rs = rank_shift(dc, db, alternative="greater")
            p = rs.pvalue
        else:  # capped from the start: the delay is relative to the stream's minimum
            ref = reference.sample("delay") if reference is not None else np.zeros(0)
            base = float(np.median(ref)) if ref.size else 0.0
            p = None
        rise = float(np.median(dc)) - base
        frame = f.frame_interval_s if np.isfinite(f.frame_interval_s) else 0.02
        need = max(self.min_queue_delay_s, 2 * frame)
        shaping = rise >= need and (p is None or p < self.alpha)
        return ("shaping" if shaping else "policing"), {
            "queue_delay_s": rise, "queue_delay_p95_s": float(np.quantile(dc, 0.95)) - base,
            "queue_delay_pvalue": p, "queue_delay_threshold_s": need}


def _runs_after(f: StreamFeatures, t: float) -> np.ndarray:
    """Lengths of the loss runs (in packets) among the usable slots from ``t`` on."""
    from analyzer.metrics.seqmath import true_runs
    sel = f.slot_usable & (f.slot_time_s >= t - 1e-9)
    return true_runs(f.slot_lost[sel])[1]
