"""What an analysis returns: :class:`Analysis` > :class:`CallReport` > :class:`StreamReport`,
and the :class:`Finding` list (schema ``analyzer.analysis/1`` in ``to_dict()``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analyzer.detectors.confounders import Confounder
from analyzer.detectors.reference import Reference
from analyzer.detectors.result import Detection, Estimate, jsonable

if TYPE_CHECKING:
    import pandas as pd

    from analyzer.metrics.quality import StreamQuality
    from analyzer.streams.capture import Capture

ANALYSIS_SCHEMA = "analyzer.analysis/1"
PATTERNS = ("loss", "burst_loss", "periodic_drop", "rate_cap", "jitter", "cutoff",
            "blocked_setup", "metallic_risk")
VERDICTS = ("clean", "degraded", "blocked", "inconclusive")
INTERFERENCE = ("likely", "possible", "none_seen", "unknown")


def utc(epoch_s: float | None) -> str | None:
    """ISO 8601 UTC time of a Unix time (``None`` stays ``None``)."""
    if epoch_s is None:
        return None
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="milliseconds"
                                                                ).replace("+00:00", "Z")


@dataclass(frozen=True)
class Onset:
    """When one stream direction got worse: the one time every finding on the stream,
    the terminal text, the JSON and the report give as its start.

    ``at_s`` is the first visible effect of the change (for loss: the first lost packet
    after it; for jitter, delay or bit rate: the window where the change point lies);
    the change itself lies in ``[earliest_s, at_s]``. ``after_*`` say how long, how many
    packets and how many IP-layer bytes of the stream's 5-tuple passed before it.
    """

    at_s: float
    earliest_s: float
    signal: str  # "loss", "jitter", "delay", "bitrate" or the finding it came from
    pvalue: float | None
    after_call_s: float
    after_packets: int
    after_bytes: int
    at_utc: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class Source:
    """The input analysed, for the record: what a reader needs to check the evidence
    (the same file gives the same SHA-256)."""

    path: str
    format: str
    size_bytes: int | None
    sha256: str | None
    packets: int
    duration_s: float
    start_epoch_s: float

    @property
    def start_utc(self) -> str | None:
        return utc(self.start_epoch_s) if self.packets else None

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"path": self.path, "format": self.format,
                         "size_bytes": self.size_bytes, "sha256": self.sha256,
                         "packets": self.packets, "duration_s": self.duration_s,
                         "start_epoch_s": self.start_epoch_s, "start_utc": self.start_utc})


@dataclass(frozen=True)
class BaselineUse:
    """What the user gave as a baseline and what the streams were compared with.

    ``given``: ``"capture"``, ``"profile"`` or ``None``; ``usable``: whether what was
    given held anything to compare with (a baseline capture without media streams does
    not, and ``why_unusable`` says so); ``used``: reference kind -> number of streams."""

    given: str | None
    source: Source | None
    description: str | None
    usable: bool
    why_unusable: str | None
    used: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        given = None
        if self.given == "capture" and self.source is not None:
            given = f"capture {self.source.path}"
        elif self.given is not None:
            given = self.given
        return jsonable({"given": given, "kind": self.given,
                         "source": None if self.source is None else self.source.to_dict(),
                         "description": self.description, "usable": self.usable,
                         "why_unusable": self.why_unusable, "used": dict(self.used)})


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
    #: The detection's estimate, placed at the stream's onset (``onset_s``, ``after_*``).
    estimate: Estimate
    confidence: str  # "high" or "medium"
    summary: str

    @property
    def call_number(self) -> int | None:
        """The call as numbered in every output (from 1); ``None`` capture-wide."""
        return None if self.call is None else self.call + 1

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["call_number"] = self.call_number
        return jsonable(d)


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
    onset: Detection | None = None  # the change-point test's own result
    detections: Mapping[str, Detection] = field(default_factory=dict)
    shifts: Mapping[str, Detection] = field(default_factory=dict)
    #: The stream's one onset (what every finding on it and every output states).
    stream_onset: Onset | None = None
    #: The stream's quality metrics, as computed once by the analysis.
    quality: StreamQuality | None = field(default=None, repr=False, compare=False)
    #: What the verdict noted about the stream without acting on it (a near miss).
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "notes": list(self.notes),
            "onset_s": None if self.stream_onset is None else self.stream_onset.at_s,
            "stream_onset": None if self.stream_onset is None
            else self.stream_onset.to_dict(),
            "quality": None if self.quality is None else self.quality.to_dict(),
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
    #: Does the damage look deliberate: ``likely`` | ``possible`` | ``none_seen`` |
    #: ``unknown`` (:mod:`analyzer.verdict.interference`), each reason a sentence with
    #: its figures.
    interference: str = "unknown"
    interference_reasons: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        """The call's number in every output: the terminal, the JSON, the PDF, the PNG
        names (from 1; ``call`` is its index in the capture, from 0)."""
        return self.call + 1

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "number": self.number, "call": self.call, "app": self.app,
            "start_s": self.start_s, "end_s": self.end_s,
            "verdict": self.verdict, "interference": self.interference,
            "interference_reasons": list(self.interference_reasons), "caller": self.caller,
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
    interference: str
    interference_reasons: tuple[str, ...]
    calls: tuple[CallReport, ...]
    blocked: Detection | None
    baseline: BaselineUse
    settings: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    source: Source | None = None
    tool_version: str | None = None
    #: What the renderers draw from (never serialised: the JSON carries their figures).
    capture: Capture | None = field(default=None, repr=False, compare=False)
    baseline_capture: Capture | None = field(default=None, repr=False, compare=False)
    quality: Mapping[int, StreamQuality] = field(default_factory=dict, repr=False,
                                                 compare=False)
    baseline_quality: Mapping[int, StreamQuality] = field(default_factory=dict, repr=False,
                                                          compare=False)

    @property
    def flagged(self) -> bool:
        """Degradation or blocking found (what ``--fail-on-detect`` acts on)."""
        return self.verdict in ("degraded", "blocked")

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.pattern for f in self.findings))

    def call_report(self, index: int) -> CallReport | None:
        """The report on the capture's call ``index`` (from 0)."""
        return next((c for c in self.calls if c.call == index), None)

    def stream_report(self, index: int) -> StreamReport | None:
        """The report on the capture's stream ``index``, if a call analysed it."""
        return next((s for c in self.calls for s in c.streams if s.stream == index), None)

    def to_pandas(self) -> pd.DataFrame:
        """One row per call stream: statistics, quality figures, onset, patterns (see
        :mod:`analyzer.verdict.frame`; needs pandas)."""
        from analyzer.verdict.frame import to_pandas
        return to_pandas(self)

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "schema": ANALYSIS_SCHEMA, "tool": {"name": "analyzer",
                                                "version": self.tool_version},
            "input": None if self.source is None else self.source.to_dict(),
            "file": self.file, "duration_s": self.duration_s,
            "verdict": self.verdict, "interference": self.interference,
            "interference_reasons": list(self.interference_reasons),
            "patterns": list(self.patterns),
            "findings": [f.to_dict() for f in self.findings],
            "calls": [c.to_dict() for c in self.calls],
            "blocked_setup": None if self.blocked is None else self.blocked.to_dict(),
            "baseline": self.baseline.to_dict(), "settings": dict(self.settings),
            "warnings": list(self.warnings)})
