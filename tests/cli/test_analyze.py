"""``analyzer analyze`` and ``analyzer baseline build`` in-process: verdict line, findings
JSON schema, exit status 3 only with --fail-on-detect."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.cli.status import ExitStatus

FINDING_KEYS = {"pattern", "src", "sport", "dst", "dport", "start_s", "end_s", "effect",
                "estimate"}


def run(*argv: str) -> tuple[ExitStatus, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def sims(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("calls")
    out = {}
    for kind, params in (("clean", ["-p", "duration_s=30"]),
                         ("policer", ["-p", "duration_s=40", "-p", "onset_s=15",
                                      "-p", "rate_bps=24000"])):
        out[kind] = d / f"{kind}.pcap"
        assert run("simulate", kind, str(out[kind]), "--seed", "11", *params)[0] == 0
    return out


def test_policed_call_is_degraded_with_a_rate_cap(sims: dict[str, Path]) -> None:
    status, out, _ = run("analyze", str(sims["policer"]), "--json")
    assert status == ExitStatus.OK  # a detection alone does not change the exit status
    doc = json.loads(out)
    assert doc["verdict"] == "degraded"
    caps = [f for f in doc["findings"] if f["pattern"] == "rate_cap"]
    assert caps
    for f in doc["findings"]:
        assert set(f) >= FINDING_KEYS
        assert f.get("pvalue") is not None or f.get("score") is not None
    assert caps[0]["estimate"]["rate_bps"] == pytest.approx(24000, rel=0.15)


def test_fail_on_detect_and_human_output(sims: dict[str, Path]) -> None:
    status, out, _ = run("analyze", str(sims["policer"]), "--fail-on-detect")
    assert status == ExitStatus.DETECTED
    first = out.splitlines()[0]
    assert first.startswith("verdict: DEGRADED") and "rate_cap" in first
    assert "rate capped at" in out
    status, out, _ = run("analyze", str(sims["clean"]), "--fail-on-detect")
    assert status == ExitStatus.OK and out.startswith("verdict: CLEAN")


def test_baseline_capture_and_profile(sims: dict[str, Path], tmp_path: Path) -> None:
    status, out, _ = run("analyze", str(sims["policer"]), "--baseline", str(sims["clean"]),
                         "--json")
    assert status == ExitStatus.OK
    assert json.loads(out)["verdict"] == "degraded"
    prof = tmp_path / "profile.json"
    status, out, _ = run("baseline", "build", str(sims["clean"]), "-o", str(prof))
    assert status == ExitStatus.OK and prof.exists()
    status, out, _ = run("analyze", str(sims["clean"]), "--profile", str(prof))
    assert status == ExitStatus.OK and out.startswith("verdict: CLEAN")
    status, _, err = run("analyze", str(sims["clean"]), "--profile", str(prof),
                         "--baseline", str(sims["clean"]))
    assert status == ExitStatus.USAGE and "not allowed with" in err
