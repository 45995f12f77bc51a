"""The report says what the analysis found and nothing it did not: the baseline each
stream was compared with (and why a given one was not used), confounders as what they
are, a call table for several calls, aligned comparison plots, readable tick labels, and
a stream table of the calls' media with the other flows in one line. Public captures are
read from ../shared/captures-public (never copied into the repository)."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import pytest

import analyzer
from analyzer.report import figures, report_data, write_pdf
from analyzer.report.compare import rate_figure
from analyzer.report.style import BASELINE_STYLE
from analyzer.verdict import analyze
from tests.report.conftest import Sim, pdf_text
from tests.support.paths import REPO, public

TELEGRAM = "ndpi/telegram.pcap"
NO_MEDIA = "ndpi/signal.pcap"  # TLS only: no media stream to compare with
HANDOVER = "srtp_decoder/wifi-tcp_to_3g.pcap"
TWO_CALLS = "rtpdump/sample2_vowifi_ipv4_esp_ipv4.pcap"  # SIP (VoWiFi): two calls


def _analysis(rel: str, baseline: str | None = None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = analyzer.read_capture(public(rel))
        base = None if baseline is None else analyzer.read_capture(public(baseline))
        return analyze(cap, baseline=base)


@pytest.fixture(scope="module")
def unusable(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    a = _analysis(TELEGRAM, NO_MEDIA)
    out = write_pdf(tmp_path_factory.mktemp("tg") / "tg.pdf", a)
    return a, pdf_text(out, page=1)


@pytest.mark.public
def test_unusable_baseline_is_named_with_its_reason(unusable: tuple[Any, str]) -> None:
    a, page1 = unusable
    assert a.baseline.given == "capture" and not a.baseline.usable
    assert "was given but NOT used" in page1
    assert " ".join(a.baseline.why_unusable.split()[-6:]) in page1
    # per stream: what it was compared with instead (the other direction here)
    for c in a.calls:
        for st in c.streams:
            assert f"call {c.number} {st.direction} (#{st.stream})" in page1
    assert "compared with the other direction of the call" in page1
    assert "Capture /" not in page1  # the old "Capture X" claim


@pytest.mark.public
def test_handover_is_described_as_what_it_is(tmp_path: Path) -> None:
    a = _analysis(HANDOVER)
    assert [cf.kind for cf in a.calls[0].confounders] == ["handover"]
    txt = pdf_text(write_pdf(tmp_path / "ho.pdf", a))
    page1 = pdf_text(tmp_path / "ho.pdf", page=1)
    assert "no loss" not in txt.lower()
    assert "the call was interrupted: both directions paused together 9 times" in page1.lower()
    assert "matching a network handover (not counted as throttling)" in page1
    assert "worst MOS 1.00" in page1


@pytest.mark.public
def test_several_calls_lead_with_a_numbered_call_table(tmp_path: Path) -> None:
    a = _analysis(TWO_CALLS)
    assert len(a.calls) >= 2
    page1 = pdf_text(write_pdf(tmp_path / "mc.pdf", a), page=1, layout=True)
    head = page1.index(f"Calls ({len(a.calls)})")
    facts = page1.index("The capture File")
    assert head < facts  # it leads, before the capture's facts
    table = page1[head:facts]
    for c in a.calls:
        assert f"{c.number} {c.app or '?'} {c.verdict}" in table
        assert f"{c.start_s:.1f}–{c.end_s:.1f} s" in table
    for c in a.calls:
        if c.verdict == "inconclusive":
            assert f"Call {c.number}: Inconclusive because" in page1
    stems = [stem for stem, _ in figures(report_data(a))]
    assert {f"call{c.number}-timeline" for c in a.calls} <= set(stems)


def test_single_call_has_no_call_table(sims: dict[str, Sim], tmp_path: Path) -> None:
    a = analyze(sims["loss"].capture, baseline=sims["baseline"].capture)
    page1 = pdf_text(write_pdf(tmp_path / "one.pdf", a), page=1)
    assert "Calls (" not in page1
    assert "SHA-256" in page1 or a.source is None or a.source.sha256 is None
    assert f"analyzer {a.tool_version}" in page1 and " UTC" in page1


@pytest.mark.public
def test_stream_table_lists_call_media_and_sums_up_the_rest(tmp_path: Path) -> None:
    a = _analysis(TELEGRAM)
    cap = a.capture
    txt = pdf_text(write_pdf(tmp_path / "tg.pdf", a))
    others = [s for s in cap.streams if s.call is None or not s.is_media]
    assert others
    assert f"+ {len(others)} other flows:" in txt and "analyzer flows --all" in txt
    for s in cap.streams:
        if s.call is not None and s.is_media:
            assert f"{s.src}:{s.sport}" in txt


def _overlaps(labels: list[Any], renderer: Any) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels
             if t.get_visible() and t.get_text()]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2)
            if ba.overlaps(bb)]


def _check_ticks(data: Any) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for stem, fig in figures(data):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                bad = _overlaps(list(axis.get_ticklabels()), renderer)
                assert not bad, f"{stem}: {ax.get_title()!r}: overlapping ticks {bad}"


def test_tick_labels_never_overlap_demo() -> None:
    demo = REPO / "captures" / "example-call.pcap"
    base = REPO / "captures" / "example-baseline.pcap"
    a = analyze(analyzer.read_capture(demo), baseline=analyzer.read_capture(base))
    _check_ticks(report_data(a))


@pytest.mark.public
@pytest.mark.parametrize("rel", [HANDOVER, TWO_CALLS])
def test_tick_labels_never_overlap_public(rel: str) -> None:
    _check_ticks(report_data(_analysis(rel)))


def test_compare_aligns_call_and_baseline_on_their_starts(sims: dict[str, Sim]) -> None:
    a = analyze(sims["policer"].capture, baseline=sims["baseline"].capture)
    data = report_data(a)
    ax = rate_figure(data, 0).axes[0]
    base = [ln for ln in ax.get_lines() if ln.get_linestyle() == BASELINE_STYLE]
    call = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    assert base and call
    window = data.quality[data.calls[0].streams[0].index].window_s
    for ln in base + call:
        x0 = float(min(ln.get_xdata()))
        assert -window - 1e-9 <= x0 <= 2 * window, x0
    # the baseline is drawn over the call, so it stays visible where they coincide
    assert min(ln.get_zorder() for ln in base) > max(ln.get_zorder() for ln in call)
    assert "since each call started" in ax.get_xlabel()
