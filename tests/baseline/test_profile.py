"""Profiles (build, save, load, the embedded default) and the automatic baseline choice."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from analyzer.baseline import Profile, build_profile, choose_reference, default_profile
from analyzer.baseline.defaultgen import (
    LAB_SCENARIOS,
    call_params,
    lab_captures,
    make_default_profile,
)
from analyzer.detectors.callfeatures import call_features
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.onset import OnsetDetector
from analyzer.detectors.reference import METRICS
from analyzer.errors import UsageError
from tests.detectors.simcache import simulated

#: No baseline, no onset, seed 0.
CTX = DetectionContext()


def feats_of(kind: str, seed: int, **params):
    cap, truth = simulated(kind, seed=seed, **params)
    feats, _ = call_features(cap, cap.calls[0])
    by_src = {f"{f.src}:{f.sport}": f for f in feats}
    return [by_src[truth.directions[d].src] for d in ("caller_to_callee", "callee_to_caller")]


def test_default_profile_is_complete() -> None:
    p = default_profile()
    assert p.calls >= 90 and p.streams >= 180
    assert set(METRICS) <= set(p.quantiles)
    assert {"20", "60"} <= set(p.frame_intervals_ms)
    assert p.lost / p.expected < 0.001  # clean calls: (almost) no loss
    assert 0.001 < p.call_level["jitter"].quantile(0.5) < 0.005
    assert p.provenance["generator"] == "python -m analyzer.baseline.defaultgen"


def test_reference_warns_when_the_stream_does_not_fit() -> None:
    ref = default_profile().reference(frame_interval_s=0.03, bitrate_bps=300_000,
                                      duration_s=4.0)
    assert len(ref.warnings) == 3
    ok = default_profile().reference(frame_interval_s=0.02, bitrate_bps=50_000,
                                     duration_s=60.0)
    assert ok.warnings == () and ok.kind == "profile"


def test_another_codec_family_is_not_judged_on_the_profile_rates() -> None:
    """A stream whose bit rate or packet time the profile does not hold keeps its
    warning, but the profile's rates and loss do not judge it (loss-free null)."""
    p = default_profile()
    fits = p.reference(frame_interval_s=0.02, bitrate_bps=p.bitrate_range_bps[1])
    assert {"bitrate", "interarrival"} <= set(fits.windows)
    assert fits.expected == p.expected and fits.bitrate_bps is not None
    for ref in (p.reference(frame_interval_s=0.02, bitrate_bps=p.bitrate_range_bps[0] / 3),
                p.reference(frame_interval_s=0.03, bitrate_bps=p.bitrate_range_bps[1])):
        assert ref.warnings and "left out" in ref.warnings[0]
        assert not {"bitrate", "interarrival"} & set(ref.windows)
        assert "jitter" in ref.windows and "jitter" in ref.call_level
        assert ref.lost == ref.expected == 0 and ref.bitrate_bps is None


def test_save_load_round_trip(tmp_path) -> None:
    cap, _ = simulated("clean", seed=61, jitter_std_ms=3.0)
    prof = build_profile([cap], description="one call")
    path = tmp_path / "profile.json"
    prof.save(path)
    back = Profile.load(path)
    assert back.streams == prof.streams == 2 and back.description == "one call"
    for m in prof.quantiles:
        assert np.allclose(back.quantiles[m], prof.quantiles[m])
    assert back.call_level["jitter"] == prof.call_level["jitter"]
    assert json.loads(path.read_text())["schema"] == "analyzer.profile/1"


def test_load_errors(tmp_path) -> None:
    with pytest.raises(UsageError):
        Profile.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something/1"}')
    with pytest.raises(UsageError):
        Profile.load(bad)
    with pytest.raises(UsageError):
        build_profile([])


def test_default_generator_is_deterministic() -> None:
    assert call_params(5) == call_params(5)
    small = make_default_profile(calls=2, lab=False)
    assert small.calls == 2 and small.provenance["calls"] == 2
    assert small.provenance["lab_captures"] == []


def test_default_profile_covers_real_codec_families() -> None:
    """Built from the clean lab captures plus simulated WhatsApp/Telegram/WebRTC Opus,
    G.711, G.722 and AMR calls: a clean WhatsApp call at 10-25 kbit/s of codec rate and a
    G.711 call both fall inside its bit-rate band."""
    p = default_profile()
    assert len(lab_captures()) == 2 * len(LAB_SCENARIOS)
    assert sorted(p.provenance["lab_captures"]) == sorted(
        os.path.basename(x) for x in lab_captures())
    assert {"20", "40", "60"} <= set(p.frame_intervals_ms)
    assert p.rate_fits(16_300) and p.rate_fits(80_000) and p.rate_fits(50_000)
    assert not p.rate_fits(400_000)
    # lab bridges have no jitter: they must not make the jitter test blind
    assert p.call_level["jitter"].n < p.streams
    assert p.call_level["jitter"].sigma < 1.0


def test_baseline_order() -> None:
    a_to_b, b_to_a = feats_of("bernoulli", 62, p=0.05, onset_s=20.0,
                              direction="caller_to_callee")
    onset = OnsetDetector().detect(a_to_b, CTX)
    # (a) another capture beats everything
    base = feats_of("clean", 63)
    ref, _ = choose_reference(a_to_b, baseline=base, reverse=b_to_a, onset=onset)
    assert ref.kind == "capture"
    # (b) the clean other direction
    ref, _ = choose_reference(a_to_b, reverse=b_to_a, onset=onset,
                              reverse_onset=OnsetDetector().detect(b_to_a, CTX))
    assert ref.kind == "reverse"
    # (c) the part before the onset, when the other direction is degraded too
    ref, passed = choose_reference(a_to_b, reverse=a_to_b, onset=onset,
                                   reverse_onset=onset)
    assert ref.kind == "pre_onset" and passed and "lost" in passed[0]
    # (d) a saved profile, (e) the default one
    prof = default_profile()
    assert choose_reference(a_to_b, profile=prof)[0].kind == "profile"
    assert choose_reference(a_to_b)[0].kind == "default_profile"
    # never the other direction for jitter
    ref, passed = choose_reference(b_to_a, reverse=b_to_a, allow_reverse=False)
    assert ref.kind != "reverse" and "jitter" in passed[0]
