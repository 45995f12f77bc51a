"""What every detector returns: :class:`Detection`, a frozen, JSON-safe record.

Modelled on ``scipy.stats`` results: ``statistic`` and ``pvalue`` first, then the effect
and its confidence interval, then the evidence (time windows, seconds from the capture's
first packet), the thresholds the decision used and the detector's own estimates
(``rate_bps``, ``period_s``, ``onset_s``...). A detector without a p-value gives a
``score`` instead (``pvalue`` ``None``). ``detected`` is the detector's own decision at its
own level; the verdict layer re-decides after multiple-testing control
(:mod:`analyzer.verdict.multitest`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays, tuples and non-finite floats made JSON-safe."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return value


@dataclass(frozen=True)
class Detection:
    """The outcome of one detector on one stream (or one capture, for blocked setup).

    ``effect`` is in the unit its name in ``estimate["effect_unit"]`` gives (a loss
    fraction, seconds of jitter, bits per second...); ``interval`` its confidence interval
    at ``estimate["confidence_level"]`` (0.95 unless said otherwise).
    """

    detector: str
    detected: bool
    statistic: float | None = None
    pvalue: float | None = None
    score: float | None = None
    effect: float | None = None
    interval: tuple[float, float] | None = None
    evidence: tuple[tuple[float, float], ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)
    estimate: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "detector": self.detector, "detected": self.detected,
            "statistic": self.statistic, "pvalue": self.pvalue, "score": self.score,
            "effect": self.effect,
            "interval": None if self.interval is None else list(self.interval),
            "evidence": [list(w) for w in self.evidence],
            "thresholds": dict(self.thresholds), "estimate": dict(self.estimate),
            "notes": list(self.notes),
        })


def not_applicable(detector: str, why: str, **thresholds: float) -> Detection:
    """A result saying the detector could not run on this data, and why."""
    return Detection(detector, False, thresholds=thresholds, notes=(why,))


def merge_windows(windows: list[tuple[float, float]], *, slack_s: float = 0.0
                  ) -> tuple[tuple[float, float], ...]:
    """Sorted, merged ``(start_s, end_s)`` windows (touching within ``slack_s`` merge)."""
    out: list[list[float]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1] + slack_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([float(a), float(b)])
    return tuple((a, b) for a, b in out)
