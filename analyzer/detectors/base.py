"""What every detector class shares: its settings are its dataclass fields.

A detector is a frozen, keyword-only dataclass; :meth:`DetectorSettings.settings` is
``dataclasses.asdict(self)``. The ``thresholds`` a :class:`~analyzer.detectors.result.Detection`
reports are those settings that are numbers (a flag counts as 0 or 1), less the ones
declared with ``field(..., metadata=NOT_A_THRESHOLD)`` - sizes of a resampling or of an
FFT, which change the precision of a result but not what counts as found.

The count of a resampling test (permutations, bootstrap resamples) is marked
``field(..., metadata=RESAMPLES)`` (or ``RESAMPLE_COUNT`` where it is also a threshold):
:meth:`DetectorSettings.with_resamples_capped` bounds every such count by the analysis's
budget (``analyzer.limits.Limits.max_resamples``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

#: ``field(metadata=NOT_A_THRESHOLD)``: a setting left out of ``Detection.thresholds``.
NOT_A_THRESHOLD = {"threshold": False}
#: ``field(metadata=RESAMPLE_COUNT)``: the count of draws of a resampling test.
RESAMPLE_COUNT = {"resamples": True}
#: A resampling count that is not a threshold either.
RESAMPLES = {**NOT_A_THRESHOLD, **RESAMPLE_COUNT}


class DetectorSettings:
    """Mixin of the detector dataclasses: their settings and thresholds."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # set by @dataclass

    def settings(self) -> dict[str, Any]:
        """Every setting (``dataclasses.asdict``)."""
        return dataclasses.asdict(self)

    def thresholds(self) -> dict[str, float]:
        """The numeric settings that decide, in field order (booleans as 0.0 / 1.0)."""
        out: dict[str, float] = {}
        for f in dataclasses.fields(self):
            if not f.metadata.get("threshold", True):
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool):
                out[f.name] = float(value)
            elif isinstance(value, int | float):
                out[f.name] = value
        return out

    def resample_counts(self) -> dict[str, int]:
        """The counts of draws of the detector's resampling tests, by setting name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.metadata.get("resamples", False)}

    def with_resamples_capped(self, most: int) -> tuple[Any, dict[str, int]]:
        """This detector with each resampling count at most ``most`` (a count-based budget:
        never time, so results do not depend on the machine), and the counts that asked
        for more (setting name -> count asked); the detector itself when none did."""
        over = {k: v for k, v in self.resample_counts().items() if v > most}
        if not over:
            return self, {}
        return dataclasses.replace(self, **dict.fromkeys(over, most)), over
