"""Every output tells the same story: the bundled example call (drops from 15.0 s in the
caller→callee direction) gets one onset, within 0.5 s of the simulator's truth, in every
finding, in the terminal text and in the PDF text; calls are numbered alike everywhere."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import analyzer
from analyzer.cli import main
from tests.support.paths import REPO

EXAMPLE = REPO / "captures" / "example-call.pcap"
BASELINE = REPO / "captures" / "example-baseline.pcap"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("story")
    out, err = io.StringIO(), io.StringIO()
    args = [str(EXAMPLE), "--baseline", str(BASELINE)]
    assert main(["analyze", *args, "--report", str(tmp / "r.pdf"), "--png", str(tmp / "png"),
                 "--save-json", str(tmp / "a.json")], stdout=out, stderr=err) == 0, err
    truth = json.loads(Path(f"{EXAMPLE}.truth.json").read_text())
    pdf = ""
    if shutil.which("pdftotext"):
        pdf = subprocess.run(["pdftotext", "-layout", str(tmp / "r.pdf"), "-"], check=True,
                             capture_output=True, text=True).stdout
    return {"text": out.getvalue(), "json": json.loads((tmp / "a.json").read_text()),
            "pdf": pdf, "png": sorted(p.name for p in (tmp / "png").iterdir()),
            "truth": truth}


def test_one_onset_in_every_finding(outputs: dict[str, Any]) -> None:
    doc, truth = outputs["json"], outputs["truth"]
    onset_true = truth["directions"]["caller_to_callee"]["onset_s"]
    starts = {f["start_s"] for f in doc["findings"]}
    assert len(doc["findings"]) >= 2 and len(starts) == 1, starts
    (start,) = starts
    assert abs(start - onset_true) <= 0.5, (start, onset_true)
    stream = doc["calls"][0]["streams"][0]
    assert stream["onset_s"] == start
    assert all(f["estimate"]["onset_s"] == start for f in doc["findings"])


def test_text_and_pdf_state_that_onset(outputs: dict[str, Any]) -> None:
    start = outputs["json"]["findings"][0]["start_s"]
    said = f"from {start:.1f} s"
    text_froms = set(re.findall(r"from (\d+\.\d) s", outputs["text"]))
    assert text_froms == {f"{start:.1f}"}, text_froms
    assert said in outputs["text"]
    if outputs["pdf"]:
        pdf_froms = set(re.findall(r"from (\d+\.\d) s", outputs["pdf"]))
        assert pdf_froms == {f"{start:.1f}"}, pdf_froms


def test_calls_numbered_alike(outputs: dict[str, Any]) -> None:
    numbers = [c["number"] for c in outputs["json"]["calls"]]
    assert numbers == [1]
    assert re.search(r"^call 1 \(", outputs["text"], re.M)
    assert not re.search(r"^call 0", outputs["text"], re.M)
    assert any(n.startswith("call1-") for n in outputs["png"])
    if outputs["pdf"]:
        assert "Call 1" in outputs["pdf"] and "Call 0" not in outputs["pdf"]
    assert all(f["call_number"] == 1 for f in outputs["json"]["findings"])


def test_json_carries_provenance(outputs: dict[str, Any]) -> None:
    import hashlib
    doc = outputs["json"]
    assert doc["input"]["sha256"] == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert doc["input"]["size_bytes"] == EXAMPLE.stat().st_size
    assert doc["input"]["start_utc"].endswith("Z")
    assert doc["tool"]["version"] == analyzer.__version__
    assert doc["baseline"]["kind"] == "capture" and doc["baseline"]["usable"]
    assert doc["baseline"]["source"]["sha256"] == hashlib.sha256(
        BASELINE.read_bytes()).hexdigest()
    assert doc["settings"]["alpha"] == 0.01


def test_lab_script_api(tmp_path: Path) -> None:
    a = analyzer.analyze(EXAMPLE, baseline=BASELINE)
    assert a.verdict == "degraded" and a.calls[0].number == 1
    paths = analyzer.write_report(a, tmp_path / "r.pdf", png_dir=tmp_path / "png")
    assert paths[0].name == "r.pdf" and len(paths) > 2
    df = a.to_pandas()
    assert str(df["ssrc"].dtype) == "Int64" and str(df["packets"].dtype) == "int64"
    assert {"mos_adaptive_500ms", "loss_lost", "onset_s", "call_number"} <= set(df.columns)
    assert df.loc[df["patterns"] != "", "onset_s"].notna().all()
    with pytest.raises(analyzer.UsageError):
        analyzer.analyze(EXAMPLE, baseline=BASELINE, profile=BASELINE)
