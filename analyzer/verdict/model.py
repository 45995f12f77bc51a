"""What an analysis returns: :class:`Analysis` > :class:`CallReport` > :class:`StreamReport`,
and the :class:`Finding` list (schema ``analyzer.analysis/1`` in ``to_dict()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analyzer.detectors.confounders import Confounder
from analyzer.detectors.reference import Reference
from analyzer.detectors.result import Detection, jsonable

ANALYSIS_SCHEMA = "analyzer.analysis/1"
PATTERNS = ("loss", "burst_loss", "periodic_drop", "rate_cap", "jitter", "cutoff",
            "blocked_setup", "metallic_risk")
VERDICTS = ("clean", "degraded", "blocked", "inconclusive")


@dataclass(frozen=True)
class Finding:
    """One pattern found on one stream (or, for ``blocked_setup``, the capture).

    ``pvalue`` is adjusted for multiple testing (``raw_pvalue`` is the detector's own);
    score-based patterns (``cutoff``, ``metallic_risk``) have ``score`` instead. Times are
    seconds from the capture's first packet.
    """

    pattern: str
    call: int | None
    stream: int | None
    direction: str | None
    src: str | None
    sport: int | None
    dst: str | None
    dport: int | None
    start_s: float | None
    end_s: float | None
    pvalue: float | None
    raw_pvalue: float | None
    score: float | None
    effect: float | None
    interval: tuple[float, float] | None
    estimate: Mapping[str, Any]
    confidence: str  # "high" or "medium"
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class StreamReport:
    """Everything decided about one media stream of a call."""

    stream: int
    label: str
    direction: str | None
    kind: str
    app: str | None
    analysed: bool
    skipped_reason: str | None = None
    source: str | None = None
    frame_interval_s: float | None = None
    duration_s: float | None = None
    packets: int | None = None
    loss_fraction: float | None = None
    reference: Reference | None = None
    jitter_reference: Reference | None = None  # when jitter used another baseline
    passed_over: tuple[str, ...] = ()
    onset: Detection | None = None
    detections: Mapping[str, Detection] = field(default_factory=dict)
    shifts: Mapping[str, Detection] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "stream": self.stream, "label": self.label, "direction": self.direction,
            "kind": self.kind, "app": self.app, "analysed": self.analysed,
            "skipped_reason": self.skipped_reason, "loss_source": self.source,
            "frame_interval_ms": None if self.frame_interval_s is None
            else self.frame_interval_s * 1000, "duration_s": self.duration_s,
            "packets": self.packets, "loss_fraction": self.loss_fraction,
            "baseline": None if self.reference is None else self.reference.to_dict(),
            "jitter_baseline": None if self.jitter_reference is None
            else self.jitter_reference.to_dict(),
            "baselines_passed_over": list(self.passed_over),
            "onset": None if self.onset is None else self.onset.to_dict(),
            "detectors": {k: v.to_dict() for k, v in self.detections.items()},
            "distribution_shift": {k: v.to_dict() for k, v in self.shifts.items()}})


@dataclass(frozen=True)
class CallReport:
    """The verdict on one call and how it was reached."""

    call: int
    app: str | None
    start_s: float
    end_s: float
    verdict: str
    caller: str | None
    streams: tuple[StreamReport, ...]
    findings: tuple[Finding, ...]
    confounders: tuple[Confounder, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "call": self.call, "app": self.app, "start_s": self.start_s, "end_s": self.end_s,
            "verdict": self.verdict, "caller": self.caller,
            "findings": [f.to_dict() for f in self.findings],
            "confounders": [c.to_dict() for c in self.confounders],
            "streams": [s.to_dict() for s in self.streams], "warnings": list(self.warnings)})


@dataclass(frozen=True)
class Analysis:
    """The verdict on a capture: ``clean``, ``degraded`` (see ``findings``), ``blocked``
    or ``inconclusive``."""

    file: str
    duration_s: float
    verdict: str
    findings: tuple[Finding, ...]
    calls: tuple[CallReport, ...]
    blocked: Detection | None
    baseline: Mapping[str, Any]
    settings: Mapping[str, Any]
    warnings: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        """Degradation or blocking found (what ``--fail-on-detect`` acts on)."""
        return self.verdict in ("degraded", "blocked")

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.pattern for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "schema": ANALYSIS_SCHEMA, "file": self.file, "duration_s": self.duration_s,
            "verdict": self.verdict, "patterns": list(self.patterns),
            "findings": [f.to_dict() for f in self.findings],
            "calls": [c.to_dict() for c in self.calls],
            "blocked_setup": None if self.blocked is None else self.blocked.to_dict(),
            "baseline": dict(self.baseline), "settings": dict(self.settings),
            "warnings": list(self.warnings)})
