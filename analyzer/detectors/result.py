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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays, tuples and non-finite floats made JSON-safe."""
    t = type(value)  # the common plain types first: an abstract-class check is slow
    if t is float:
        return value if math.isfinite(value) else None
    if t is int or t is str or t is bool or value is None:
        return value
    if t is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [jsonable(v) for v in value]
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


#: ``field(metadata=OMIT_IF_NONE)``: an estimate field left out of ``to_dict`` when ``None``.
OMIT_IF_NONE = {"omit_if_none": True}
#: ``field(metadata=LAST)``: an estimate field written after the detector's own ones (the
#: stream's onset the engine adds to a finding's estimate).
LAST = {"omit_if_none": True, "last": True}


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A detector's own estimates (``rate_bps``, ``period_s``, ``onset_s``...), typed: one
    frozen dataclass per detector (:mod:`analyzer.detectors.estimates`) derives from this.

    ``to_dict`` writes the fields in order (``LAST`` ones at the end), leaving out those
    :meth:`omitted` names; this base class, with no fields, is the empty estimate of a
    detector that could not run."""

    def omitted(self) -> set[str]:
        """Fields ``to_dict`` leaves out: ``OMIT_IF_NONE`` ones that are ``None``."""
        return {f.name for f in fields(self)
                if f.metadata.get("omit_if_none") and getattr(self, f.name) is None}

    def items(self) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` of the fields ``to_dict`` writes, in its order (raw values)."""
        skip = self.omitted()
        ordered = sorted(fields(self), key=lambda f: bool(f.metadata.get("last")))
        return ((f.name, getattr(self, f.name)) for f in ordered if f.name not in skip)

    def to_dict(self) -> dict[str, Any]:
        return {name: jsonable(value) for name, value in self.items()}

    def start_s(self) -> float | None:
        """Where the estimate places the start of what was found (``None``: it does not)."""
        return None


#: The estimate of a detection without any.
NO_ESTIMATE = Estimate()


@dataclass(frozen=True)
class Detection:
    """The outcome of one detector on one stream (or one capture, for blocked setup).

    ``effect`` is in the unit its estimate's ``effect_unit`` gives (a loss fraction,
    seconds of jitter, bits per second...); ``interval`` its confidence interval at the
    estimate's ``confidence_level`` (0.95 unless said otherwise). ``estimate`` is of the
    detector's ``estimate_type``, or :data:`NO_ESTIMATE` when it could not run.
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
    estimate: Estimate = NO_ESTIMATE
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "detector": self.detector, "detected": self.detected,
            "statistic": self.statistic, "pvalue": self.pvalue, "score": self.score,
            "effect": self.effect,
            "interval": None if self.interval is None else list(self.interval),
            "evidence": [list(w) for w in self.evidence],
            "thresholds": dict(self.thresholds), "estimate": self.estimate.to_dict(),
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
