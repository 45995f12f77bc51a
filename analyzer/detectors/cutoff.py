"""Cut-off: a stream stops for good while the call goes on.

The evidence comes from :func:`analyzer.metrics.cutoff.assess_cutoff` (run by the
metrics layer with the stream's call): the other direction's media, other flows of the
call, a later SIP BYE. A hang-up (both directions stop within the tolerance, or a BYE at
the end), media that moved to another stream in the same direction (handover, relay
switch) and a gap that resumes are not cut-offs. Found when the call outlived the stream
by at least ``min_missing_s`` and ``min_missing_packets`` frames. A score (seconds the
call went on without this stream), not a p-value: the observation is not random.
``after_s``, ``after_packets`` and ``after_bytes`` (IP layer) say how much of the stream
passed before it stopped - the figure a volume threshold ("freezes after 16-20 KB",
DOMAIN.md §1) would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from analyzer.detectors.base import DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import CutoffEstimate
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.result import Detection, Estimate, not_applicable


@dataclass(frozen=True, kw_only=True)
class CutoffDetector(DetectorSettings):
    """One direction stopped while the call continued (``pattern`` ``cutoff``).

    Reads the assessment in ``features.quality``; uses no context."""

    name: ClassVar[str] = "cutoff"
    estimate_type: ClassVar[type[Estimate]] = CutoffEstimate
    kind: ClassVar[str] = "stream"

    min_missing_s: float = 3.0
    min_missing_packets: int = 20
    require_reverse_media: bool = True

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        a = f.quality.cutoff_assessment if f.quality is not None else None
        if a is None:
            return not_applicable(self.name, "no cut-off assessment (no call context)",
                                  **self.thresholds())
        c = a.cutoff
        if c is None:
            return Detection(self.name, False, score=0.0, thresholds=self.thresholds(),
                             notes=(a.reason,))
        packets, nbytes = f.cumulative_at(c.at_s + 1e-9)
        detected = (c.duration_s >= self.min_missing_s
                    and c.missing_packets >= self.min_missing_packets)
        notes: tuple[str, ...] = (a.reason, c.evidence)
        if detected and self.require_reverse_media and c.basis != "reverse_media":
            detected = False
            notes += ("both media directions stopped together while the dialog went on "
                      f"({c.basis.replace('_', ' ')}): a hang-up, hold or renegotiation, not "
                      "one direction cut",)
        return Detection(
            self.name, bool(detected), score=c.duration_s, effect=c.duration_s,
            evidence=((c.at_s, c.continued_until_s),), thresholds=self.thresholds(),
            estimate=CutoffEstimate(
                effect_unit="s the call went on without this stream",
                at_s=c.at_s, onset_s=c.at_s, after_s=c.at_s - f.start_s,
                after_packets=packets, after_bytes=nbytes,
                continued_until_s=c.continued_until_s,
                missing_packets=c.missing_packets, basis=c.basis),
            notes=notes)
