"""Typed estimates: the keys and order of their JSON (schema ``analyzer.analysis/1``), the
fields left out, and a finding placed at the stream's onset."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from analyzer.detectors.estimates import (
    BlockedEstimate,
    CutoffEstimate,
    JitterEstimate,
    LossEstimate,
    OnsetEstimate,
    RateCapEstimate,
    SetupTarget,
    SignalChange,
    at_onset,
)
from analyzer.detectors.result import NO_ESTIMATE, Detection
from analyzer.detectors.stats import WeheComparison


def rate_cap(mode: str, **queue: object) -> RateCapEstimate:
    return RateCapEstimate(
        effect_unit="delivered IP-layer bit/s", confidence_level=0.95, rate_bps=32000.0,
        rate_p90_bps=33000.0, offered_bps=48000.0, rate_before_bps=None,
        cap_fraction_of_offered=2 / 3, loss_fraction=0.1, windows=40, since_s=20.0,
        loss_run_p90_s=0.02, mode=mode, **queue)  # type: ignore[arg-type]


def test_no_estimate_is_empty() -> None:
    assert NO_ESTIMATE.to_dict() == {}
    assert Detection("loss", False).to_dict()["estimate"] == {}


def test_rate_cap_queue_fields_follow_the_mode() -> None:
    d = rate_cap("policing", queue_delay_s=0.001, queue_delay_p95_s=0.004,
                 queue_delay_pvalue=None, queue_delay_threshold_s=0.04).to_dict()
    assert list(d)[-5:] == ["mode", "queue_delay_s", "queue_delay_p95_s",
                            "queue_delay_pvalue", "queue_delay_threshold_s"]
    assert d["queue_delay_pvalue"] is None  # known and absent are told apart
    d = rate_cap("undetermined", queue_delay_s=None, mode_note="no RTP timestamps").to_dict()
    assert list(d)[-3:] == ["mode", "queue_delay_s", "mode_note"]
    assert "mode_note" not in rate_cap("undetermined").to_dict()


def test_jitter_without_delay_has_no_rise_pvalue() -> None:
    wehe = WeheComparison(statistic=0.5, pvalue=0.01, area=0.3, decision="different",
                          n=10, m=12)
    e = JitterEstimate(effect_unit="s", confidence_level=0.95, pvalue_basis="Mann-Whitney",
                       jitter_s=0.02, reference_jitter_s=0.005, ratio=4.0,
                       mann_whitney_pvalue=0.001, wehe=wehe, windows=10)
    d = e.to_dict()
    assert list(d)[-3:] == ["windows", "queueing", "delay_rise_s"]
    assert d["wehe"] == wehe.to_dict()
    d = dataclasses.replace(e, queueing=False, delay_rise_s=0.0, delay_rise_pvalue=0.5).to_dict()
    assert list(d)[-2:] == ["delay_rise_s", "delay_rise_pvalue"]


def test_onset_without_a_change_writes_signals_and_level() -> None:
    sig = SignalChange(onset_s=12.0, statistic=3.0, pvalue=0.2, before=0.01, after=0.02)
    e = OnsetEstimate(signals={"jitter": sig}, level=0.0025)
    assert e.to_dict() == {"signals": {"jitter": {"onset_s": 12.0, "statistic": 3.0,
                                                  "pvalue": 0.2, "before": 0.01,
                                                  "after": 0.02}},
                           "onset_s": None, "level": 0.0025}
    loss = SignalChange(onset_s=20.0, first_effect_s=20.3, earliest_s=19.1, statistic=9.0,
                        pvalue=1e-5, before=0.0, after=0.05)
    assert list(loss.to_dict()) == ["onset_s", "first_effect_s", "earliest_s", "statistic",
                                    "pvalue", "before", "after"]
    found = OnsetEstimate(effect_unit="loss: after minus before", onset_s=20.0, signal="loss",
                          first_effect_s=20.3, earliest_s=None, before=0.0, after=0.05,
                          after_s=20.0, after_packets=1000, after_bytes=90000,
                          confirm_pvalue=None, signals={"loss": loss}, level=0.0025)
    d = found.to_dict()
    assert d["earliest_s"] is None and "after_call_s" not in d
    assert list(d)[-2:] == ["signals", "level"]
    d = dataclasses.replace(found, after_stream_packets=999, after_call_s=19.0).to_dict()
    assert list(d)[-2:] == ["after_stream_packets", "after_call_s"]


def loss() -> LossEstimate:
    return LossEstimate(
        effect_unit="loss fraction from from_s on", confidence_level=0.95,
        loss_fraction=np.float64(0.03), lost=30, expected=1000, from_s=20.0,
        tail_loss_fraction=0.05, null_rate=0.01, reference_loss_fraction=None,
        dispersion=1.0, candidates=5, runs=30, run_length_min=1, run_length_p90=2,
        run_length_max=3, source="rtp")


def test_a_finding_adds_the_onset_after_the_detectors_own_fields() -> None:
    e = loss()
    assert e.start_s() == 20.0
    d = e.to_dict()
    assert "onset_s" not in d and list(d)[-1] == "source"
    assert type(d["loss_fraction"]) is float  # JSON-safe
    placed = at_onset(e, onset_s=19.5, after_packets=975, after_bytes=88000,
                      after_call_s=19.0)
    assert placed.start_s() == 19.5
    assert list(placed.to_dict())[-5:] == ["source", "onset_s", "after_packets",
                                           "after_bytes", "after_call_s"]


def test_a_cutoff_keeps_its_own_onset_in_place() -> None:
    c = CutoffEstimate(effect_unit="s", at_s=20.0, onset_s=20.0, after_s=20.0,
                       after_packets=1000, after_bytes=9000, continued_until_s=60.0,
                       missing_packets=2000, basis="reverse_media")
    assert "after_call_s" not in c.to_dict()
    d = at_onset(c, onset_s=20.0, after_packets=1001, after_bytes=9100,
                 after_call_s=19.0).to_dict()
    assert list(d) == ["effect_unit", "at_s", "onset_s", "after_s", "after_packets",
                       "after_bytes", "continued_until_s", "missing_packets", "basis",
                       "after_call_s"]
    assert d["after_packets"] == 1001


def test_blocked_setup_targets() -> None:
    t = SetupTarget(src="10.0.0.2", sport=5000, dst="1.2.3.4", dport=3478, kind="stun",
                    requests=20, answers=0, first_s=0.0, last_s=9.5, span_s=9.5,
                    interval_s=0.5, interval_cv=None, icmp_unreachable=0)
    e = BlockedEstimate(targets=(t,), media_established=False, unanswered_targets=1,
                        answered_targets=0)
    d = e.to_dict()
    assert list(d) == ["targets", "media_established", "unanswered_targets",
                       "answered_targets"]
    assert d["targets"][0]["interval_cv"] is None and len(d["targets"][0]) == 13
    d = dataclasses.replace(e, effect_unit="unanswered requests").to_dict()
    assert next(iter(d)) == "effect_unit"
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    with pytest.raises(TypeError, match="not the estimate of a stream finding"):
        at_onset(e, onset_s=1.0, after_packets=0, after_bytes=0, after_call_s=1.0)


def test_estimates_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        loss().from_s = 3.0  # type: ignore[misc]
