"""One contract for every detector (ruptures style): on a simulated call with a labelled
impairment it detects, with its estimate near the ground truth; on a clean call it stays
quiet; its result is a JSON-safe Detection with thresholds and well-formed evidence."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from analyzer.baseline import default_profile
from analyzer.detectors.blocked import BlockedSetupDetector
from analyzer.detectors.burst import BurstLossDetector
from analyzer.detectors.callfeatures import call_features
from analyzer.detectors.cutoff import CutoffDetector
from analyzer.detectors.jitter import JitterDetector
from analyzer.detectors.loss import LossDetector
from analyzer.detectors.metallic import MetallicRiskDetector
from analyzer.detectors.onset import OnsetDetector
from analyzer.detectors.periodic import PeriodicDropDetector
from analyzer.detectors.ratecap import RateCapDetector
from analyzer.detectors.reference import reference_from_features
from analyzer.detectors.result import Detection
from tests.detectors.simcache import simulated

IMPAIRED = "caller_to_callee"


def _per_stream(run: Callable[..., Detection]) -> Callable[[Any], list[tuple[str, Detection]]]:
    def go(capture: Any) -> list[tuple[str, Detection]]:
        feats, _ = call_features(capture, capture.calls[0])
        return [(f"{f.src}:{f.sport}", run(f)) for f in feats]
    return go


def _jitter(f: Any) -> Detection:
    on = OnsetDetector().detect(f)
    if on.detected and on.estimate["signal"] in ("jitter", "delay"):
        t = on.estimate["onset_s"]
        ref = reference_from_features(f, "pre_onset", "before", until_s=t)
        p = on.estimate["signals"][on.estimate["signal"]]["pvalue"]
        return JitterDetector().detect(f, ref, since_s=t, split_pvalue=p)
    ref = default_profile().reference(kind="default_profile")
    return JitterDetector().detect(f, ref)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    params: dict
    run: Callable[[Any], list[tuple[str, Detection]]]
    check: Callable[[Detection, Any], None] | None = None


def check_cap(d: Detection, truth: Any) -> None:
    assert d.estimate["rate_bps"] == pytest.approx(truth.cap_rate_bps, rel=0.15)


def check_onset(d: Detection, truth: Any) -> None:
    assert abs(d.estimate["onset_s"] - truth.onset_s) <= 1.0 or \
        abs(d.estimate["onset_s"] - (truth.first_loss_s or truth.onset_s)) <= 1.0


def check_period(d: Detection, truth: Any) -> None:
    assert d.estimate["period_s"] == pytest.approx(truth.period_s, rel=0.10)


def check_cutoff(d: Detection, truth: Any) -> None:
    assert d.estimate["at_s"] == pytest.approx(truth.cutoff_s, abs=1.0)


ONE_WAY = {"direction": IMPAIRED, "onset_s": 20.0}
CASES = [
    Case("loss", "bernoulli", {"p": 0.05, **ONE_WAY},
         _per_stream(lambda f: LossDetector().detect(f))),
    Case("burst_loss", "gilbert", {"p_gb": 0.02, "p_bg": 0.25, **ONE_WAY},
         _per_stream(lambda f: BurstLossDetector().detect(f))),
    Case("periodic_drop", "periodic", {"period_s": 2.0, "drop_s": 0.3, **ONE_WAY},
         _per_stream(lambda f: PeriodicDropDetector().detect(f)), check_period),
    Case("rate_cap", "policer", {"rate_bps": 32000, **ONE_WAY},
         _per_stream(lambda f: RateCapDetector().detect(f)), check_cap),
    Case("rate_cap_shaper", "shaper", {"rate_bps": 36000, "framing": "telegram", **ONE_WAY},
         _per_stream(lambda f: RateCapDetector().detect(f)), check_cap),
    Case("onset", "bernoulli", {"p": 0.10, **ONE_WAY},
         _per_stream(lambda f: OnsetDetector().detect(f)), check_onset),
    Case("jitter", "jitter", {"std_ms": 20.0, **ONE_WAY}, _per_stream(_jitter)),
    Case("metallic_risk", "gilbert", {"p_gb": 0.03, "p_bg": 0.2, **ONE_WAY},
         _per_stream(lambda f: MetallicRiskDetector().detect(f))),
    Case("cutoff", "cutoff", {"after_s": 25.0, "direction": IMPAIRED},
         _per_stream(lambda f: CutoffDetector().detect(f)), check_cutoff),
    Case("blocked_setup", "blocked", {"framing": "telegram"},
         lambda cap: [("capture", BlockedSetupDetector().detect(cap))]),
]


def _assert_contract(d: Detection) -> None:
    assert isinstance(d, Detection)
    json.dumps(d.to_dict(), allow_nan=False)
    assert d.thresholds
    for a, b in d.evidence:
        assert a <= b
    if d.pvalue is not None:
        assert 0 < d.pvalue <= 1 and math.isfinite(d.pvalue)
    if d.interval is not None and d.effect is not None and d.detected:
        assert d.interval[0] <= d.interval[1]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_detects_its_impairment(case: Case) -> None:
    capture, truth = simulated(case.kind, seed=11, **case.params)
    results = case.run(capture)
    for _, d in results:
        _assert_contract(d)
    if case.kind == "blocked":
        assert results[0][1].detected
        return
    impaired = truth.directions[IMPAIRED]
    hit = [d for who, d in results if who == impaired.src]
    assert hit and hit[0].detected, hit[0].to_dict() if hit else results
    if case.check is not None:
        case.check(hit[0], impaired)
    if case.name not in ("cutoff",):  # the untouched direction stays quiet
        other = [d for who, d in results if who == truth.directions["callee_to_caller"].src]
        assert other and not other[0].detected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("framing", ["whatsapp", "telegram"])
def test_quiet_on_a_clean_call(case: Case, framing: str) -> None:
    capture, _ = simulated("clean", seed=12, framing=framing, jitter_std_ms=4.0)
    for _, d in case.run(capture):
        _assert_contract(d)
        assert not d.detected, d.to_dict()
