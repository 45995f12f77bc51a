"""Metallic-sound risk: how much of the call a listener's decoder had to make up.

The audible symptom of the 2025 throttling was "intermittent sound and a metallic
buzzing" (../shared/DOMAIN.md §1). A decoder conceals every frame the jitter buffer does
not have in time; Opus' SILK concealment repeats the last pitch period with a gain of
0.99 and then 0.95 per lost frame, and WebRTC's NetEq stretches audio - one concealed
frame is inaudible, a run of several is a metallic, robotic patch (§3). From the adaptive
jitter-buffer simulation (:mod:`analyzer.metrics.jitterbuffer`, up to 500 ms; lost plus
late-discarded frames), over the stream from ``since_s`` on:

* ``concealed_fraction``: share of expected frames concealed (time concealed);
* ``audible_events_per_min``: concealment runs lasting at least ``audible_run_s``
  (60 ms: three 20-ms frames, one 60-ms frame), per minute.

``score = max(concealed_fraction / high_concealed, audible_events_per_min /
high_events_per_min)`` (the event rate counts from three events on: one late 60-ms frame
in a short call is no pattern); ``high`` at score >= 1 (10 % concealed or 6 audible patches a
minute), ``medium`` from ``medium_concealed`` (3 %) or ``medium_events_per_min`` (2),
``low`` below. There is no published loss level at which the artefact becomes audible
(§3, *not found*): the thresholds are this project's, chosen so that no clean or benign
simulated call reaches ``medium`` (benchmarks/accuracy.py measures it). A score, not a
p-value: it says how bad the call sounded, not how sure a degradation is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from analyzer.detectors.base import DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import MetallicEstimate
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.result import Detection, Estimate, merge_windows, not_applicable
from analyzer.metrics.seqmath import true_runs

BUFFER = "adaptive_500ms"
MIN_EVENTS = 3


@dataclass(frozen=True, kw_only=True)
class MetallicRiskDetector(DetectorSettings):
    """Long concealment runs after the jitter buffer (``pattern`` ``metallic_risk``).

    Reads ``context.since_s`` (the onset: concealment is counted from there)."""

    name: ClassVar[str] = "metallic_risk"
    estimate_type: ClassVar[type[Estimate]] = MetallicEstimate
    kind: ClassVar[str] = "stream"

    buffer: str = BUFFER
    audible_run_s: float = 0.06
    high_concealed: float = 0.10
    high_events_per_min: float = 6.0
    medium_concealed: float = 0.03
    medium_events_per_min: float = 2.0

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        since_s = context.since_s
        if f.loss_note is not None:
            return not_applicable(self.name, f.loss_note, **self.thresholds())
        res = f.buffers.get(self.buffer)
        if res is None or res.missing.size != f.slot_time_s.size or res.missing.size == 0:
            return not_applicable(self.name, f"no {self.buffer} jitter-buffer result",
                                  **self.thresholds())
        sel = f.slot_usable.copy()
        if since_s is not None:
            sel &= f.slot_time_s >= since_s
        if sel.sum() < 10:
            return not_applicable(self.name, "too few frames", **self.thresholds())
        missing = res.missing & sel
        t = f.slot_time_s
        starts, lengths = true_runs(missing)
        frame = f.frame_interval_s if np.isfinite(f.frame_interval_s) else 0.02
        audible = lengths * frame >= self.audible_run_s - 1e-9
        minutes = max(float(t[sel].max() - t[sel].min()), frame) / 60.0
        concealed = float(missing.sum()) / float(sel.sum())
        n_events = int(audible.sum())
        # a rate from one or two patches says little: they count from MIN_EVENTS on
        events = n_events / minutes if n_events >= MIN_EVENTS else 0.0
        score = max(concealed / self.high_concealed, events / self.high_events_per_min)
        if score >= 1.0:
            level = "high"
        elif concealed >= self.medium_concealed or events >= self.medium_events_per_min:
            level = "medium"
        else:
            level = "low"
        ev = [(float(t[s]), float(t[min(s + n, t.size - 1)]))
              for s, n in zip(starts[audible], lengths[audible], strict=True)]
        return Detection(
            self.name, level == "high", score=score, effect=concealed,
            evidence=merge_windows(ev, slack_s=0.5), thresholds=self.thresholds(),
            estimate=MetallicEstimate(
                effect_unit="fraction of frames concealed", level=level,
                concealed_fraction=concealed, audible_events_per_min=events,
                audible_events=int(audible.sum()),
                max_concealment_s=float(lengths.max() * frame) if lengths.size else 0.0,
                late_discards=int(res.late_discards), buffer=self.buffer,
                since_s=since_s))
