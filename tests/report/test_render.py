"""Reports of simulated calls: every page renders, the text says what was found, the PNGs
are separate figures at >= 150 dpi, and the output does not change from run to run."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analyzer.report import (
    figures,
    report_data,
    streamtable,
    write_pdf,
    write_pngs,
)
from analyzer.report.document import plan
from analyzer.report.text import pattern_name, verdict_headline
from tests.report.conftest import Sim, pdf_text
from tests.support.imports import modules_after

#: Findings each simulated call must show (patterns; any one of a group is enough).
EXPECTED: dict[str, tuple[tuple[str, ...], ...]] = {
    "clean": (),
    "loss": (("loss", "burst_loss"),),
    "burst": (("burst_loss", "loss"),),
    "periodic": (("periodic_drop",),),
    "policer": (("rate_cap",),),
    "shaper": (("rate_cap", "jitter"),),
    "jitter": (("jitter",),),
    "cutoff": (("cutoff",),),
    "blocked": (("blocked_setup",),),
}
VERDICTS = {"clean": ("clean",), "blocked": ("blocked",)}


def analyse(sim: Sim, baseline: Sim) -> Any:
    from analyzer.verdict import analyze

    return analyze(sim.capture, baseline=baseline.capture)


@pytest.fixture(scope="session")
def reports(sims: dict[str, Sim], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, tuple[Any, Path]]:
    """Each simulated call analysed against the clean baseline and rendered once."""
    folder = tmp_path_factory.mktemp("reports")
    base = sims["baseline"]
    out = {}
    for name in EXPECTED:
        analysis = analyse(sims[name], base)
        out[name] = (analysis, write_pdf(folder / f"{name}.pdf", analysis))
    return out


def page_count(path: Path) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", path.read_bytes()))


def png_info(path: Path) -> tuple[int, int, float]:
    """Width, height (pixels) and dots per inch from the pHYs chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    k = data.find(b"pHYs")
    assert k > 0, "no pHYs chunk: resolution not recorded"
    ppx, _ppy, unit = struct.unpack(">IIB", data[k + 4:k + 13])
    assert unit == 1  # metres
    return w, h, ppx * 0.0254


@pytest.mark.parametrize("name", list(EXPECTED))
def test_pdf_report(name: str, sims: dict[str, Sim],
                    reports: dict[str, tuple[Any, Path]]) -> None:
    sim, base = sims[name], sims["baseline"]
    analysis, out = reports[name]
    data = report_data(analysis)
    pages = plan(data).pages
    kinds = [p.kind for p in pages]
    assert page_count(out) == len(pages)
    # summary first; a timeline per call; a baseline page for calls with media; streams
    assert kinds[0] == "summary"
    assert kinds.count("timeline") == len(data.calls) >= 1
    assert kinds.count("compare") == sum(c.has_media for c in data.calls)
    assert "streams" in kinds and "baseline_streams" in kinds
    verdict = str(getattr(analysis.verdict, "value", analysis.verdict))
    if name in VERDICTS:
        assert verdict in VERDICTS[name]
    elif name != "clean":
        assert verdict == "degraded"
    found = {str(getattr(f.pattern, "value", f.pattern)) for f in analysis.findings}
    for group in EXPECTED[name]:
        assert found & set(group), f"{name}: none of {group} in {sorted(found)}"

    txt = pdf_text(out)
    assert verdict_headline(verdict, analysis.interference) in txt
    assert f"Verdict: {verdict.upper()}" in txt
    assert sim.path.name in txt and "How to read this report" in txt
    assert "Baseline used" in txt and base.path.name in txt
    for f in analysis.findings:
        assert pattern_name(str(getattr(f.pattern, "value", f.pattern))) in txt
        # the finding's own sentence, with its figures (first words; cells wrap)
        assert " ".join(f.summary.split()[:6]).lower() in txt.lower()
    # the calls' media are in the stream table, the other flows in one line; the key
    # figures give each media stream's loss
    listed = streamtable.listed_streams(sim.capture)
    for s in listed:
        assert f"{s.src}:{s.sport}" in txt
    if len(listed) < len(sim.capture.streams):
        assert f"+ {len(sim.capture.streams) - len(listed)} other flow" in txt
    for call in data.calls:
        for s in call.streams:
            q = data.quality[s.index]
            if q.loss is not None:
                assert f"{q.loss.lost} ({100 * q.loss.loss_fraction:.1f} %)" in txt
    if analysis.findings:  # the findings table points at the figures and pages
        assert re.search(r"Fig\. \d+(–\d+)?, p\. \d+", txt)
    assert "timeline" in txt
    if data.calls[0].has_media:
        assert "against the baseline" in txt


@pytest.mark.parametrize("name", ["policer", "shaper"])
def test_rate_cap_estimate_in_report(name: str, reports: dict[str, tuple[Any, Path]]
                                     ) -> None:
    analysis, out = reports[name]
    caps = [f for f in analysis.findings
            if str(getattr(f.pattern, "value", f.pattern)) == "rate_cap"]
    assert caps
    txt = pdf_text(out)
    # the line on the timeline is labelled with the estimate (one label when both
    # directions are capped alike)
    labels = re.findall(r"estimated cap (\d+\.\d) kbit/s", txt)
    for f in caps:
        rate = f.estimate.rate_bps / 1000
        assert any(abs(float(x) - rate) <= 0.03 * rate + 0.05 for x in labels), (rate, labels)


def test_pngs(sims: dict[str, Sim], tmp_path: Path) -> None:
    sim, base = sims["periodic"], sims["baseline"]
    analysis = analyse(sim, base)
    paths = write_pngs(tmp_path / "png", analysis)
    names = [p.name for p in paths]
    assert names == ["summary.png", "call1-timeline.png", "call1-distributions.png",
                     "call1-loss-runs.png", "call1-rate.png", "streams.png"]
    for p in paths:
        w, h, dpi = png_info(p)
        assert dpi >= 150 and w >= 1000 and h >= 500, (p.name, w, h, dpi)
    with pytest.raises(ValueError, match="150"):
        write_pngs(tmp_path / "low", analysis, dpi=72)


def test_pngs_blocked_call_has_no_baseline_figures(sims: dict[str, Sim],
                                                   tmp_path: Path) -> None:
    sim = sims["blocked"]
    data = report_data(analyse(sim, sims["baseline"]))
    stems = [stem for stem, _ in figures(data)]
    assert stems[:2] == ["summary", "call1-timeline"] and stems[-1] == "streams"


def test_pdf_is_deterministic(sims: dict[str, Sim], reports: dict[str, tuple[Any, Path]],
                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    analysis, first = reports["periodic"]
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    again = write_pdf(tmp_path / "again.pdf", analysis)
    assert again.read_bytes() == first.read_bytes()
    assert b"/CreationDate" not in first.read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_source_date_epoch_is_the_creation_date(
        reports: dict[str, tuple[Any, Path]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1755072000")
    analysis, _ = reports["periodic"]
    out = write_pdf(tmp_path / "m.pdf", analysis)
    assert b"/CreationDate (D:20250813080000Z)" in out.read_bytes()


def _run(code: str) -> str:
    env = {**os.environ, "MPLBACKEND": "TkAgg"}  # a GUI default must not matter
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env=env, cwd=Path(__file__).parents[2]).stdout


def test_matplotlib_only_when_drawing() -> None:
    loaded = modules_after("import analyzer, analyzer.report",
                           env={"MPLBACKEND": "TkAgg"})  # a GUI default must not matter
    assert "matplotlib" not in loaded


def test_figures_never_use_pyplot(sims: dict[str, Sim]) -> None:
    path = sims["periodic"].path
    out = _run(
        "import sys, analyzer\n"
        "from analyzer.report import report_data, timeline_figure, distributions_figure\n"
        "from matplotlib.figure import Figure\n"
        f"cap = analyzer.read_capture({str(path)!r})\n"
        "d = report_data(analyzer.analyze(cap))\n"
        "figs = [timeline_figure(d), distributions_figure(d)]\n"
        "print(all(isinstance(f, Figure) for f in figs), 'matplotlib.pyplot' in sys.modules)")
    assert out.split() == ["True", "False"]
