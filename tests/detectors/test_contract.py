"""One contract for every registered detector (ruptures style).

For each detector in :data:`analyzer.detectors.registry.DETECTORS`:

* its class is a frozen dataclass of keyword-only settings, with ``name`` and ``kind`` as
  class variables; ``asdict`` gives JSON-safe settings that rebuild it through the
  registry; the thresholds it reports are settings it has, with the values it uses;
* ``detect(features, context)`` on a simulated call impaired with the detector's own
  pattern (ground truth from :mod:`analyzer.simulate`) finds it on the impaired direction,
  with its estimate near the truth, and stays quiet on the other direction;
* on clean simulated calls it stays quiet;
* every result is a JSON-safe :class:`Detection` named after the detector, with its
  thresholds, a p-value or a score (or a note saying why it could not run), well-formed
  evidence, and the same result when run again with the same context;
* its estimate is of the class's ``estimate_type`` (a frozen, keyword-only
  :class:`Estimate` dataclass), or the empty estimate of a result that found nothing to
  estimate, and its ``to_dict`` survives a JSON round trip.

The context is built the way the engine builds it: the onset (a change point) splits off
a ``pre_onset`` reference when it is a change in loss, jitter or delay, else the default
profile is the reference; ``since_s`` is the onset.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from analyzer.baseline import default_profile
from analyzer.baseline.choose import DEGRADATION_SIGNALS
from analyzer.detectors.base import DetectorSettings
from analyzer.detectors.callfeatures import call_features
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.onset import OnsetDetector, onset_of
from analyzer.detectors.reference import reference_from_features
from analyzer.detectors.registry import DETECTORS, KINDS, build, build_all
from analyzer.detectors.result import NO_ESTIMATE, Detection, Estimate
from analyzer.errors import UsageError
from tests.detectors.simcache import simulated

IMPAIRED = "caller_to_callee"
OTHER = "callee_to_caller"
NAMES = list(DETECTORS)


# -- the ground truth each detector is held to -------------------------------------------

def check_cap(d: Detection, truth: Any) -> None:
    assert d.estimate.rate_bps == pytest.approx(truth.cap_rate_bps, rel=0.15)


def check_onset(d: Detection, truth: Any) -> None:
    assert abs(d.estimate.onset_s - truth.onset_s) <= 1.0 or \
        abs(d.estimate.onset_s - (truth.first_loss_s or truth.onset_s)) <= 1.0


def check_period(d: Detection, truth: Any) -> None:
    assert d.estimate.period_s == pytest.approx(truth.period_s, rel=0.10)


def check_cutoff(d: Detection, truth: Any) -> None:
    assert d.estimate.at_s == pytest.approx(truth.cutoff_s, abs=1.0)


@dataclass(frozen=True)
class Scenario:
    """A simulated call impaired with one detector's pattern."""

    detector: str
    kind: str
    params: dict
    check: Callable[[Detection, Any], None] | None = None
    other_quiet: bool = True  # the untouched direction stays quiet

    @property
    def id(self) -> str:
        return f"{self.detector}-{self.kind}"


ONE_WAY = {"direction": IMPAIRED, "onset_s": 20.0}
SCENARIOS = [
    Scenario("loss", "bernoulli", {"p": 0.05, **ONE_WAY}),
    Scenario("burst_loss", "gilbert", {"p_gb": 0.02, "p_bg": 0.25, **ONE_WAY}),
    Scenario("periodic_drop", "periodic", {"period_s": 2.0, "drop_s": 0.3, **ONE_WAY},
             check_period),
    Scenario("rate_cap", "policer", {"rate_bps": 32000, **ONE_WAY}, check_cap),
    Scenario("rate_cap", "shaper", {"rate_bps": 36000, "framing": "telegram", **ONE_WAY},
             check_cap),
    Scenario("onset", "bernoulli", {"p": 0.10, **ONE_WAY}, check_onset),
    Scenario("jitter", "jitter", {"std_ms": 20.0, **ONE_WAY}),
    Scenario("metallic_risk", "gilbert", {"p_gb": 0.03, "p_bg": 0.2, **ONE_WAY}),
    # a cut-off direction stops: the other one carries on, and is expected to
    Scenario("cutoff", "cutoff", {"after_s": 25.0, "direction": IMPAIRED}, check_cutoff,
             other_quiet=False),
    Scenario("blocked_setup", "blocked", {"framing": "telegram"}),
]


def test_every_registered_detector_has_a_scenario() -> None:
    assert {s.detector for s in SCENARIOS} == set(DETECTORS)


# -- running a detector the way the engine does ------------------------------------------

def context_for(f: StreamFeatures) -> DetectionContext:
    onset = OnsetDetector().detect(f, DetectionContext())
    since = onset.estimate.onset_s if onset.detected else None
    split = onset_of(onset, DEGRADATION_SIGNALS)
    if split is None:
        ref = default_profile().reference(kind="default_profile")
        return DetectionContext(reference=ref, since_s=since)
    t, signal = split
    ref = reference_from_features(f, "pre_onset", "before", until_s=t)
    p = onset.estimate.signals[signal].pvalue if signal in ("jitter", "delay") else None
    return DetectionContext(reference=ref, since_s=since, split_s=t, split_pvalue=p)


def run(name: str, capture: Any) -> list[tuple[str, Detection]]:
    """``(who, detection)`` per stream of the first call (``who`` its source), or once for
    the capture; each detection checked against the contract."""
    det = DETECTORS[name]()
    if det.kind == "capture":
        inputs: list[tuple[str, Any, DetectionContext]] = [
            ("capture", capture, DetectionContext())]
    else:
        feats, _ = call_features(capture, capture.calls[0])
        inputs = [(f"{f.src}:{f.sport}", f, context_for(f)) for f in feats]
    out = []
    for who, features, ctx in inputs:
        d = det.detect(features, ctx)
        assert_contract(det, d)
        assert det.detect(features, ctx) == d, "same features and context, other result"
        out.append((who, d))
    return out


def assert_contract(det: Any, d: Detection) -> None:
    assert isinstance(d, Detection)
    assert d.detector == det.name
    json.dumps(d.to_dict(), allow_nan=False)
    assert d.thresholds and dict(d.thresholds) == det.thresholds()
    assert d.pvalue is not None or d.score is not None or d.notes, \
        "a result without p-value or score must say why"
    if d.detected:
        assert d.pvalue is not None or d.score is not None
    if d.pvalue is not None:
        assert 0 < d.pvalue <= 1 and math.isfinite(d.pvalue)
    for a, b in d.evidence:
        assert a <= b
    if d.interval is not None and d.effect is not None and d.detected:
        assert d.interval[0] <= d.interval[1]
    if d.estimate is NO_ESTIMATE or type(d.estimate) is Estimate:
        assert not d.detected, "a detection must say what it estimates"
    else:
        assert type(d.estimate) is det.estimate_type, \
            f"{det.name} gave a {type(d.estimate).__name__}, not its {det.estimate_type}"
    e = d.estimate.to_dict()
    assert json.loads(json.dumps(e, allow_nan=False)) == e


# -- the class ------------------------------------------------------------------------------

def assert_detector_class(name: str, cls: type) -> None:
    assert dataclasses.is_dataclass(cls), f"{cls.__name__} is not a dataclass"
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen, f"{cls.__name__} is not frozen"
    fields = dataclasses.fields(cls)
    assert all(f.kw_only for f in fields), f"{cls.__name__} has positional settings"
    assert cls.name == name, f"{cls.__name__}.name is {cls.name!r}, registered as {name!r}"
    assert cls.kind in KINDS
    assert {"name", "kind", "estimate_type"}.isdisjoint(f.name for f in fields), \
        "name/kind/estimate_type must be ClassVars"
    est = cls.estimate_type
    assert issubclass(est, Estimate) and est is not Estimate, \
        f"{cls.__name__}.estimate_type must be its own Estimate subclass"
    assert est.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert all(f.kw_only for f in dataclasses.fields(est)), f"{est.__name__} is positional"
    assert all(f.default is not dataclasses.MISSING
               or f.default_factory is not dataclasses.MISSING for f in fields), \
        "every setting needs a default"
    detect = inspect.signature(cls.detect)
    assert list(detect.parameters)[1:] and len(detect.parameters) == 3, \
        f"{cls.__name__}.detect must take (features, context)"
    det = cls()
    settings = dataclasses.asdict(det)
    assert settings == det.settings()
    json.dumps(settings, allow_nan=False)
    assert build(name, **settings) == det
    for key, value in det.thresholds().items():
        assert key in settings, f"threshold {key!r} of {name} is no setting"
        assert float(settings[key]) == value
    with pytest.raises(dataclasses.FrozenInstanceError):
        det.alpha = 0.5


@pytest.mark.parametrize("name", NAMES)
def test_detector_class(name: str) -> None:
    assert_detector_class(name, DETECTORS[name])


def test_the_class_check_can_fail() -> None:
    @dataclass(kw_only=True)
    class Mutable(DetectorSettings):
        name: ClassVar[str] = "mutable"
        kind: ClassVar[str] = "stream"
        alpha: float = 0.01

        def detect(self, features: Any, context: DetectionContext) -> Detection:
            return Detection(self.name, False)

    @dataclass(frozen=True)
    class Positional(DetectorSettings):
        name: ClassVar[str] = "positional"
        kind: ClassVar[str] = "stream"
        alpha: float = 0.01

        def detect(self, features: Any, context: DetectionContext) -> Detection:
            return Detection(self.name, False)

    for cls in (Mutable, Positional):
        with pytest.raises(AssertionError):
            assert_detector_class(cls.name, cls)


def test_registry_builds_with_settings() -> None:
    assert build("loss", min_excess=0.02).min_excess == 0.02
    every = build_all({"rate_cap": {"max_ratio": 0.4}})
    assert list(every) == NAMES and every["rate_cap"].max_ratio == 0.4
    with pytest.raises(UsageError, match="no detector named 'nonsense'"):
        build("nonsense")
    with pytest.raises(UsageError, match="settings for detector 'loss'"):
        build("loss", min_exces=0.02)
    with pytest.raises(UsageError, match="unknown detector"):
        build_all({"los": {}})


# -- against ground truth -------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_detects_its_own_pattern(scenario: Scenario) -> None:
    capture, truth = simulated(scenario.kind, seed=11, **scenario.params)
    results = run(scenario.detector, capture)
    if DETECTORS[scenario.detector].kind == "capture":
        assert truth.blocked and results[0][1].detected, results[0][1].to_dict()
        assert isinstance(results[0][1].estimate, DETECTORS[scenario.detector].estimate_type)
        return
    impaired = truth.directions[IMPAIRED]
    hit = [d for who, d in results if who == impaired.src]
    assert hit and hit[0].detected, hit[0].to_dict() if hit else results
    assert isinstance(hit[0].estimate, DETECTORS[scenario.detector].estimate_type)
    if scenario.check is not None:
        scenario.check(hit[0], impaired)
    if scenario.other_quiet:
        other = [d for who, d in results if who == truth.directions[OTHER].src]
        assert other and not other[0].detected, other[0].to_dict() if other else results


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("framing", ["whatsapp", "telegram"])
def test_quiet_on_a_clean_call(name: str, framing: str) -> None:
    capture, truth = simulated("clean", seed=12, framing=framing, jitter_std_ms=4.0)
    assert not truth.blocked
    results = run(name, capture)
    assert results
    for _, d in results:
        assert not d.detected, d.to_dict()
