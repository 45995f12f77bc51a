"""Settings of an analysis: error rate, correction, window length, detector overrides,
resource bounds (:class:`~analyzer.limits.Limits`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analyzer.detectors.registry import DETECTORS, Detector, build
from analyzer.errors import UsageError
from analyzer.limits import Limits

#: The fewest packets a stream is ever tested on, whatever its packet time.
MIN_PACKETS_FLOOR = 30


@dataclass(frozen=True)
class Settings:
    """How :func:`analyzer.verdict.analyze` decides.

    ``alpha``: family-wise error rate per capture (Holm) or false discovery rate (BH) -
    at most this share of clean captures gets a finding (1 %). ``suspicious_alpha``: a
    detector whose effect is large enough and whose raw p-value is below this, but which
    does not survive the correction, makes the call ``inconclusive`` rather than clean.
    ``detectors`` overrides detector settings by name, e.g.
    ``{"loss": {"min_excess": 0.02}, "rate_cap": {"max_ratio": 0.4}}``. ``limits``: the
    resource bounds of the analysis (:class:`~analyzer.limits.Limits`: empty records read,
    windows per stream, streams run through the detectors, draws of a resampling test);
    one reached is a warning of the analysis, which goes on within it.
    """

    alpha: float = 0.01
    correction: str = "holm"
    suspicious_alpha: float = 0.05
    window_s: float = 1.0
    min_stream_packets: int = 100
    min_stream_s: float = 5.0
    min_excess_loss: float = 0.01
    detectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise UsageError(f"Settings.alpha must lie in (0, 1), not {self.alpha!r}")
        if self.correction not in ("holm", "bh"):
            raise UsageError(f"Settings.correction must be 'holm' or 'bh', not "
                             f"{self.correction!r}")
        if self.window_s <= 0:
            raise UsageError(f"Settings.window_s must be positive, not {self.window_s!r}")
        if not isinstance(self.limits, Limits):
            raise UsageError(f"Settings.limits must be a Limits, not {self.limits!r}")

    def min_packets(self, frame_interval_s: float, *, rtp: bool = True) -> int:
        """Packets a stream needs to be tested: ``min_stream_packets``, or for RTP with long
        packets as many as ``min_stream_s`` of them hold, at least ``MIN_PACKETS_FLOOR``
        (160 ms packets of a low-rate call: 32 for 5 s). Media without sequence numbers
        always needs ``min_stream_packets``: its loss is inferred from the cadence."""
        if not rtp or not frame_interval_s > 0 or not math.isfinite(frame_interval_s):
            return self.min_stream_packets
        need = math.ceil(self.min_stream_s / frame_interval_s - 1e-9)
        return max(min(self.min_stream_packets, need), MIN_PACKETS_FLOOR)

    def make(self, detector: str | type[Detector[Any]], **defaults: Any) -> Any:
        """Registered detector ``detector`` (a name or its class) with ``defaults`` and the
        overrides in ``detectors`` (:func:`analyzer.detectors.registry.build`)."""
        name = detector if isinstance(detector, str) else detector.name
        if not isinstance(detector, str) and DETECTORS.get(name) is not detector:
            raise UsageError(f"{detector.__name__} is not the registered detector {name!r}")
        return build(name, **{**defaults, **self.detectors.get(name, {})})

    def to_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "correction": self.correction,
                "suspicious_alpha": self.suspicious_alpha, "window_s": self.window_s,
                "min_stream_packets": self.min_stream_packets,
                "min_stream_s": self.min_stream_s, "min_excess_loss": self.min_excess_loss,
                "detectors": {k: dict(v) for k, v in self.detectors.items()},
                "limits": self.limits.to_dict()}
