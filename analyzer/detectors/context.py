"""What a detector is told besides the stream's features: :class:`DetectionContext`.

One frozen record per call of :meth:`Detector.detect <analyzer.detectors.registry.Detector>`:
the baseline chosen for the stream, the onset the engine found, and the seed every
resampling test draws from. A detector reads the fields it needs and ignores the rest; a
field left ``None`` means "not known" (no baseline, no onset), never "zero".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.detectors.reference import Reference


@dataclass(frozen=True, kw_only=True)
class DetectionContext:
    """The engine's knowledge about one stream, handed to every detector.

    ``reference``: the baseline chosen for the stream (another capture, the reverse
    direction, the part before the onset, a profile), ``None`` without one.
    ``jitter_reference``: the baseline for delay variation, which never is the reverse
    direction; ``None`` means ``reference``.
    ``since_s``: the stream's onset (a change in loss, jitter, delay or bit rate), from
    which rate and concealment are measured; ``None`` without one.
    ``split_s``: where a ``pre_onset`` reference was cut (a change in loss, jitter or
    delay); a detector compares the part after it with the part before.
    ``split_pvalue``: the onset scan's p-value for that split when it is a jitter or delay
    change (it accounts for choosing the split from the data); ``None`` otherwise.
    ``seed``: the seed of every permutation and bootstrap (see :meth:`rng`).
    """

    reference: Reference | None = None
    jitter_reference: Reference | None = None
    since_s: float | None = None
    split_s: float | None = None
    split_pvalue: float | None = None
    seed: int = 0

    def rng(self) -> np.random.Generator:
        """A new generator seeded with ``seed``.

        Each resampling test asks for its own, so its draws do not depend on which tests
        ran before it (nor in which order the engine calls the detectors): a detector's
        result is a function of its features, its settings and this context alone.
        """
        return np.random.default_rng(self.seed)

    @property
    def jitter_baseline(self) -> Reference | None:
        """``jitter_reference``, else ``reference``."""
        return self.jitter_reference if self.jitter_reference is not None else self.reference
