"""analyze(): verdicts, findings, baselines, multiple testing and the report, on simulated
calls with known ground truth."""

from __future__ import annotations

import json

import pytest

from analyzer.baseline import Profile
from analyzer.errors import UsageError
from analyzer.verdict import Settings, analyze, analyze_path, render_text
from tests.detectors.simcache import simulated


def patterns_of(a, src: str | None = None) -> set[str]:
    return {f.pattern for f in a.findings if src is None or f"{f.src}:{f.sport}" == src}


@pytest.mark.parametrize("framing", ["whatsapp", "telegram", "rtp", "rtp_sdp"])
def test_clean_call_is_clean(framing: str) -> None:
    cap, _ = simulated("clean", seed=21, framing=framing, jitter_std_ms=5.0)
    a = analyze(cap)
    assert a.verdict == "clean" and not a.findings
    assert not a.flagged
    json.dumps(a.to_dict(), allow_nan=False)


@pytest.mark.parametrize("kind,params", [
    ("dtx", {}), ("codec_change", {"framing": "telegram"}), ("handover", {}),
    ("handover", {"framing": "telegram", "new_source_port": False}),
])
def test_benign_calls_are_not_throttling(kind: str, params: dict) -> None:
    cap, _ = simulated(kind, seed=22, **params)
    a = analyze(cap)
    # a handover's pauses are damage when they recur or add up (an ordinary cause); one
    # short switch, DTX and a codec change are not. Nothing is called interference, and
    # no pattern is found.
    assert a.verdict in (("clean", "degraded") if kind == "handover" else ("clean",)), \
        render_text(a)
    assert a.interference == "none_seen" and not a.findings, render_text(a)
    kinds = {c.kind for call in a.calls for c in call.confounders}
    expected = {"dtx": "dtx", "codec_change": "codec_change", "handover": "handover"}[kind]
    assert expected in kinds or (kind == "handover" and "outage" in kinds)


def test_policer_finding_has_cap_onset_and_words() -> None:
    cap, truth = simulated("policer", seed=23, rate_bps=28000, onset_s=15.0,
                           direction="caller_to_callee")
    a = analyze(cap)
    assert a.verdict == "degraded"
    src = truth.directions["caller_to_callee"].src
    f = next(f for f in a.findings if f.pattern == "rate_cap")
    assert f"{f.src}:{f.sport}" == src
    assert f.estimate.rate_bps == pytest.approx(28000, rel=0.15)
    assert f.estimate.mode == "policing"
    assert f.pvalue is not None and f.pvalue < 0.01 and f.confidence == "high"
    assert f.start_s is not None and 14.0 <= f.start_s <= 17.5
    assert "rate capped at ≈28 kbit/s" in f.summary and "caller→callee" in f.summary
    assert "metallic-sound risk" in f.summary
    # the untouched direction has no finding, and the loss figure sits beside the cap
    assert not patterns_of(a, truth.directions["callee_to_caller"].src)
    assert "loss" in patterns_of(a, src)
    text = render_text(a)
    assert text.splitlines()[0].startswith("verdict: DEGRADED")


def test_cutoff_and_blocked_verdicts() -> None:
    cap, _truth = simulated("cutoff", seed=24, after_packets=600)
    a = analyze(cap)
    f = next(f for f in a.findings if f.pattern == "cutoff")
    assert f.estimate.after_packets == pytest.approx(600, abs=20)
    assert f.end_s > f.start_s + 10
    blocked, _ = simulated("blocked", seed=25, framing="whatsapp")
    b = analyze(blocked)
    assert b.verdict == "blocked" and b.findings[0].pattern == "blocked_setup"
    assert "none answered" in b.findings[0].summary


def test_periodic_call() -> None:
    cap, _truth = simulated("periodic", seed=26, period_s=3.0, drop_s=0.4, onset_s=15.0)
    a = analyze(cap)
    f = [f for f in a.findings if f.pattern == "periodic_drop"]
    assert len(f) == 2
    assert all(x.estimate.period_s == pytest.approx(3.0, rel=0.1) for x in f)
    assert "rate_cap" not in patterns_of(a)


def test_baseline_capture_is_used_and_reported() -> None:
    cap, _ = simulated("bernoulli", seed=27, p=0.04, onset_s=0.0)
    base, _ = simulated("clean", seed=28)
    a = analyze(cap, baseline=base)
    kinds = {st.reference.kind for c in a.calls for st in c.streams if st.reference}
    assert kinds == {"capture"}
    assert a.baseline.given == "capture"
    assert "loss" in patterns_of(a)


def test_profile_baseline_and_bh(tmp_path) -> None:
    clean, _ = simulated("clean", seed=29, jitter_std_ms=3.0)
    other, _ = simulated("clean", seed=30, framing="telegram")
    from analyzer.baseline import build_profile
    prof = build_profile([clean, other], description="two calls")
    path = tmp_path / "p.json"
    prof.save(path)
    loaded = Profile.load(path)
    cap, _ = simulated("bernoulli", seed=31, p=0.05, onset_s=0.0, direction="both")
    a = analyze(cap, baseline=loaded, settings=Settings(correction="bh"))
    assert {st.reference.kind for c in a.calls for st in c.streams} == {"profile"}
    assert a.settings["correction"] == "bh" and "loss" in patterns_of(a)


def test_settings_override_and_validation() -> None:
    cap, _ = simulated("bernoulli", seed=32, p=0.03, onset_s=20.0)
    strict = analyze(cap, settings=Settings(detectors={"loss": {"min_excess": 0.2}}))
    assert "loss" not in patterns_of(strict)
    with pytest.raises(UsageError):
        Settings(alpha=2.0)
    with pytest.raises(UsageError):
        analyze(cap, settings=Settings(detectors={"loss": {"nonsense": 1}}))


def test_analyze_path_rejects_two_baselines(tmp_path) -> None:
    cap, _ = simulated("clean", seed=33)
    with pytest.raises(UsageError):
        analyze_path(cap.path, baseline_path=cap.path, profile_path=tmp_path / "x.json")
    a = analyze_path(cap.path, baseline_path=cap.path)
    assert a.verdict == "clean"


def test_family_wise_error_on_clean_calls() -> None:
    """Holm over every stream and detector: no clean call of a small batch is flagged,
    and no raw p-value of a detector that could fire falls below 1e-3."""
    flagged = 0
    for seed in range(40, 52):
        framing = ("whatsapp", "telegram", "rtp", "rtp_sdp")[seed % 4]
        cap, _ = simulated("clean", seed=seed, framing=framing, duration_s=40.0,
                           jitter_std_ms=0.5 + (seed % 6) * 1.5)
        flagged += analyze(cap).flagged
    assert flagged == 0


def test_inaudible_jitter_near_miss_is_noted_not_inconclusive() -> None:
    """A jitter near miss without audible concealment leaves the call clean (a note);
    with concealment of 1 % or more, a medium risk, or for another test, it does not."""
    from analyzer.detectors.estimates import MetallicEstimate
    from analyzer.detectors.result import Detection
    from analyzer.verdict.engine import QUIET_CONCEALED, _inaudible_jitter

    def risk(level: str, concealed: float) -> Detection:
        return Detection("metallic_risk", False, estimate=MetallicEstimate(
            effect_unit="fraction of frames concealed", level=level,
            concealed_fraction=concealed, audible_events_per_min=0.0, audible_events=0,
            max_concealment_s=0.02, late_discards=0, buffer="adaptive_500ms", since_s=None))

    near = Detection("jitter", True, pvalue=0.007)
    note = _inaudible_jitter("jitter", near, risk("low", 0.002))
    assert note is not None and "0.007" in note and "stays clean" in note
    assert _inaudible_jitter("jitter", near, risk("low", QUIET_CONCEALED)) is None
    assert _inaudible_jitter("jitter", near, risk("medium", 0.0)) is None
    assert _inaudible_jitter("jitter", near, None) is None
    assert _inaudible_jitter("loss", near, risk("low", 0.0)) is None


# -- resource bounds (analyzer.limits.Limits through Settings) ---------------------------

EXAMPLE = __import__("tests.support.paths", fromlist=["REPO"]).REPO / "captures" / \
    "example-call.pcap"


def _stream_reports(a):
    return [st for c in a.calls for st in c.streams]


def test_default_limits_leave_the_analysis_alone() -> None:
    from analyzer.limits import Limits
    a = analyze(EXAMPLE)
    assert a.settings["limits"] == Limits().to_dict()
    assert not [w for w in a.warnings if w.startswith("limit ")]
    assert [st.analysed for st in _stream_reports(a)] == [True, True]


def test_max_detailed_streams_keeps_the_largest_and_lists_the_rest() -> None:
    from analyzer.limits import Limits
    a = analyze(EXAMPLE, settings=Settings(limits=Limits(max_detailed_streams=1)))
    reps = _stream_reports(a)
    assert len(reps) == 2  # still both listed, in the call's order
    tested = [st for st in reps if st.analysed]
    listed = [st for st in reps if not st.analysed]
    assert len(tested) == 1 and len(listed) == 1
    assert listed[0].packets is not None and listed[0].packets <= tested[0].packets
    assert listed[0].detections == {} and listed[0].onset is None
    assert listed[0].quality is not None  # its statistics and quality figures stay
    assert "beyond limit max_detailed_streams=1" in (listed[0].skipped_reason or "")
    assert "limit max_detailed_streams=1 reached: 2 media streams in calls, the 1 " \
        "smallest (by packets) listed without detectors" in a.warnings
    doc = json.loads(json.dumps(a.to_dict()))
    assert any(w.startswith("limit max_detailed_streams=1") for w in doc["warnings"])
    assert doc["settings"]["limits"]["max_detailed_streams"] == 1


def test_max_resamples_caps_every_resampling_test_and_warns() -> None:
    from analyzer.limits import Limits
    a = analyze(EXAMPLE, settings=Settings(limits=Limits(max_resamples=20)))
    for st in _stream_reports(a):
        assert st.onset is not None and st.onset.thresholds["n_perm"] == 20
    warn = [w for w in a.warnings if w.startswith("limit max_resamples=20 reached")]
    assert len(warn) == 1
    assert "onset n_perm=99" in warn[0] and "periodic_drop n_perm=199" in warn[0] \
        and "rate_cap n_boot=400" in warn[0]
    # the same seeds: a budget as large as every count changes nothing
    same = analyze(EXAMPLE, settings=Settings(limits=Limits(max_resamples=400)))
    assert same.to_dict()["calls"] == analyze(EXAMPLE).to_dict()["calls"]


def test_window_bound_widens_the_windows_and_warns() -> None:
    from analyzer.limits import Limits
    lim = Limits(max_windows_floor=6, windows_per_packet=0)
    a = analyze(EXAMPLE, settings=Settings(limits=lim))
    warn = [w for w in a.warnings if w.startswith("limit max_windows_floor=6 reached")]
    assert len(warn) == 1 and "for 2 stream(s)" in warn[0]
    for st in _stream_reports(a):
        assert st.analysed and st.quality is not None
        assert len(st.quality.windows) <= 6  # the report's windows: the same bound


def test_max_empty_records_reaches_the_reader_through_analyze(tmp_path) -> None:
    from analyzer.limits import Limits
    path = tmp_path / "zeros-after.pcap"
    path.write_bytes(EXAMPLE.read_bytes() + bytes(16 * 300))  # 300 empty records at the end
    from analyzer.errors import CaptureWarning
    with pytest.warns(CaptureWarning, match="limit max_empty_records=100 reached"):
        a = analyze(path, settings=Settings(limits=Limits(max_empty_records=100)))
    warn = [w for w in a.warnings if "limit max_empty_records=100 reached" in w]
    assert len(warn) == 1 and warn[0].startswith(f"{path}: ")
    whole = analyze(path)
    assert not [w for w in whole.warnings if "max_empty_records" in w]
    # the packets before the empty records are kept: the same calls, the same verdict
    assert a.verdict == whole.verdict and len(a.calls) == len(whole.calls) == 1
