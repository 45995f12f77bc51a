"""The detector contract (:class:`Detector`) and the registry of every detector by name.

A detector is a frozen dataclass of keyword-only settings (``dataclasses.asdict`` gives
them back; :class:`~analyzer.detectors.base.DetectorSettings` derives its ``thresholds``)
with three class attributes, ``name`` (the ``pattern`` of its findings), ``kind`` and
``estimate_type`` (its :mod:`~analyzer.detectors.estimates` class), and one method,
``detect(features, context) -> Detection``. ``kind`` says what ``features`` is:

* ``"stream"``: one media stream's :class:`~analyzer.detectors.features.StreamFeatures`;
* ``"capture"``: the whole capture (blocked setup reads every stream and the ICMP errors,
  :class:`~analyzer.detectors.blocked.SetupTraffic`).

``context`` is a :class:`~analyzer.detectors.context.DetectionContext`: the baseline, the
onset, the seed of any resampling. ``build("loss", min_excess=0.02)`` makes one detector
with settings, ``build_all({"loss": {...}})`` every registered one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, TypeVar

from analyzer.detectors.blocked import BlockedSetupDetector
from analyzer.detectors.burst import BurstLossDetector
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.cutoff import CutoffDetector
from analyzer.detectors.jitter import JitterDetector
from analyzer.detectors.loss import LossDetector
from analyzer.detectors.metallic import MetallicRiskDetector
from analyzer.detectors.onset import OnsetDetector
from analyzer.detectors.periodic import PeriodicDropDetector
from analyzer.detectors.ratecap import RateCapDetector
from analyzer.detectors.result import Detection, Estimate
from analyzer.errors import UsageError

KINDS = ("stream", "capture")

FeaturesT_contra = TypeVar("FeaturesT_contra", contravariant=True)


class Detector(Protocol[FeaturesT_contra]):
    """What every detector is: settings in the dataclass, data in ``detect``."""

    name: ClassVar[str]
    kind: ClassVar[str]
    #: The type of ``Detection.estimate`` when the detector estimates anything.
    estimate_type: ClassVar[type[Estimate]]

    def detect(self, features: FeaturesT_contra, context: DetectionContext) -> Detection:
        """The detector's decision on ``features`` (its ``kind``) given ``context``."""
        ...

    def settings(self) -> dict[str, Any]:
        """``dataclasses.asdict(self)``."""
        ...

    def thresholds(self) -> dict[str, float]:
        """The settings reported in ``Detection.thresholds``."""
        ...


def _registry(*classes: type[Detector[Any]]) -> Mapping[str, type[Detector[Any]]]:
    out: dict[str, type[Detector[Any]]] = {}
    for cls in classes:
        if cls.name in out:
            raise RuntimeError(f"two detectors named {cls.name!r}")
        if cls.kind not in KINDS:
            raise RuntimeError(f"detector {cls.name!r} has kind {cls.kind!r}")
        out[cls.name] = cls
    return MappingProxyType(out)


#: Every detector by name, in the order the engine runs them.
DETECTORS: Mapping[str, type[Detector[Any]]] = _registry(
    BlockedSetupDetector, OnsetDetector, LossDetector, BurstLossDetector,
    PeriodicDropDetector, RateCapDetector, JitterDetector, MetallicRiskDetector,
    CutoffDetector)


def build(name: str, **settings: Any) -> Detector[Any]:
    """Detector ``name`` with ``settings`` (its defaults for the rest); a wrong name or
    setting is a :class:`~analyzer.errors.UsageError` naming the detector."""
    try:
        cls = DETECTORS[name]
    except KeyError:
        raise UsageError(f"no detector named {name!r} (known: {', '.join(DETECTORS)})"
                         ) from None
    try:
        return cls(**settings)
    except TypeError as exc:
        raise UsageError(f"settings for detector {name!r}: {exc}") from exc


def build_all(settings: Mapping[str, Mapping[str, Any]] | None = None
              ) -> dict[str, Detector[Any]]:
    """Every registered detector, with ``settings[name]`` overriding its defaults; a name in
    ``settings`` that is no detector is a :class:`~analyzer.errors.UsageError`."""
    settings = settings or {}
    unknown = sorted(set(settings) - set(DETECTORS))
    if unknown:
        raise UsageError(f"settings for unknown detector(s) {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(DETECTORS)})")
    return {name: build(name, **settings.get(name, {})) for name in DETECTORS}
