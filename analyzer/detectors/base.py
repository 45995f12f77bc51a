"""What every detector class shares: its settings are its dataclass fields.

A detector is a frozen, keyword-only dataclass; :meth:`DetectorSettings.settings` is
``dataclasses.asdict(self)``. The ``thresholds`` a :class:`~analyzer.detectors.result.Detection`
reports are those settings that are numbers (a flag counts as 0 or 1), less the ones
declared with ``field(..., metadata=NOT_A_THRESHOLD)`` - sizes of a resampling or of an
FFT, which change the precision of a result but not what counts as found.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

#: ``field(metadata=NOT_A_THRESHOLD)``: a setting left out of ``Detection.thresholds``.
NOT_A_THRESHOLD = {"threshold": False}


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
