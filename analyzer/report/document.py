"""Assembling the report: the page plan, the PDF (byte-identical from run to run) and the
standalone PNG figures.

Pages, in order:

1. summary (verdict, per-call table when there are several calls, provenance, baseline
   per stream, key figures, findings, how to read), then continuation pages when the
   findings do not fit (and "how to read" on its own page when page 1 is full);
2. per call: its timeline, for a long call a detail of the timeline around the first
   onset, and its comparison with the baseline (figures numbered in order);
3. the stream table (landscape, as many pages as needed), and the baseline's when one was
   given.

Determinism: the PDF metadata is set explicitly with no creation date (unless one is
passed, or ``SOURCE_DATE_EPOCH`` is set), fonts are the DejaVu Sans shipped with
matplotlib embedded as TrueType, and nothing on a page depends on the clock.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.atomic import atomic_write
from analyzer.report import compare, streamtable, style, summary, timeline
from analyzer.report.data import ReportData, report_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analyzer.verdict.model import Analysis

MIN_PNG_DPI = 150


@dataclass(frozen=True)
class Page:
    """One page of the PDF."""

    kind: str  # "summary", "findings", "how_to", "timeline", "detail", "compare",
    # "streams", "baseline_streams"
    call: int | None = None  # position in ReportData.calls
    first: int = 0  # first table row on the page
    count: int = 0  # table rows on the page
    figure: int | None = None  # figure number shown to the reader
    part: tuple[int, int] = (1, 1)  # k of n pages of the same table
    how_to: bool = True  # page 1 holds "How to read this report" (else its own page)

    def caption(self, data: ReportData) -> str:
        if self.kind in ("summary", "findings"):
            return "Summary"
        if self.kind == "how_to":
            return "How to read this report"
        if self.kind in ("timeline", "detail", "compare") and self.call is not None:
            what = {"timeline": "timeline", "detail": "timeline in detail",
                    "compare": "against the baseline"}[self.kind]
            return f"Figure {self.figure}: {data.calls[self.call].title}, {what}"
        return "Baseline streams" if self.kind == "baseline_streams" else "Streams"


@dataclass(frozen=True)
class Plan:
    pages: tuple[Page, ...]
    finding_rows: tuple[tuple[str, ...], ...]


def _see(data: ReportData, figures: Mapping[int, tuple[int, int, int, int]]
         ) -> dict[int, str]:
    """Finding number -> "Fig. 1–2, p. 2–3" (figures of the calls it concerns)."""
    out: dict[int, str] = {}
    for i, f in enumerate(data.findings):
        refs = [figures[k] for k, c in enumerate(data.calls)
                if k in figures and any(g is f for g in c.findings)]
        if not refs:
            continue
        figs = sorted({n for r in refs for n in range(r[0], r[3] + 1)})
        pages = sorted({p for r in refs for p in (r[1], r[2])})
        fs = f"{figs[0]}–{figs[-1]}" if len(figs) > 1 else f"{figs[0]}"
        ps = f"{pages[0]}–{pages[-1]}" if len(pages) > 1 else f"{pages[0]}"
        out[i] = f"Fig. {fs}, p. {ps}"
    return out


def plan(data: ReportData) -> Plan:
    """Which pages the PDF holds, in order (two passes: the findings table refers to page
    numbers that depend on how many pages the findings take)."""
    n_rows = len(data.findings)
    see: dict[int, str] = {}
    for _ in range(3):
        rows = summary.finding_rows(data, see)
        how_to = summary.how_to_fits(data, rows)
        pages = [Page("summary", count=summary.summary_rows_fit(data, rows, how_to=how_to)
                      if rows else 0, how_to=how_to)]
        done = pages[0].count
        while done < n_rows:
            n = summary.continuation_rows(rows, done)
            pages.append(Page("findings", first=done, count=n))
            done += n
        if not how_to:
            pages.append(Page("how_to"))
        # call -> (first figure, first page, last page, last figure)
        figures: dict[int, tuple[int, int, int, int]] = {}
        fig_no = 1
        for k, call in enumerate(data.calls):
            first_fig, first_page = fig_no, len(pages) + 1
            pages.append(Page("timeline", call=k, figure=fig_no))
            fig_no += 1
            if timeline.detail_view(data, call) is not None:
                pages.append(Page("detail", call=k, figure=fig_no))
                fig_no += 1
            if call.has_media:
                pages.append(Page("compare", call=k, figure=fig_no))
                fig_no += 1
            figures[k] = (first_fig, first_page, len(pages), fig_no - 1)
        new_see = _see(data, figures)
        if new_see == see:
            break
        see = new_see
    rows_s = streamtable.stream_rows(data.capture, data.quality)
    parts = streamtable.paginate(rows_s)
    pages += [Page("streams", first=a, count=n, part=(i + 1, len(parts)))
              for i, (a, n) in enumerate(parts)]
    if data.baseline is not None:
        rows_b = streamtable.stream_rows(data.baseline, data.baseline_quality)
        parts = streamtable.paginate(rows_b)
        pages += [Page("baseline_streams", first=a, count=n, part=(i + 1, len(parts)))
                  for i, (a, n) in enumerate(parts)]
    return Plan(tuple(pages), tuple(tuple(r) for r in summary.finding_rows(data, see)))


def _footer(fig: Figure, data: ReportData, page: Page, number: int, total: int) -> None:
    w, h = fig.get_size_inches()
    y = 0.28 / h
    name = os.path.basename(data.capture.path)
    fig.text(0.5 / w, y, f"{name} · {page.caption(data)}", fontsize=7, color=style.GREY,
             va="bottom")
    fig.text(1 - 0.5 / w, y, f"page {number} of {total}", fontsize=7, color=style.GREY,
             va="bottom", ha="right")


def render_page(data: ReportData, page: Page, rows: tuple[tuple[str, ...], ...]
                ) -> Figure:
    """One page as a figure (call inside :func:`analyzer.report.style.report_style`)."""
    if page.kind in ("streams", "baseline_streams"):
        fig = style.new_figure(style.A4_LANDSCAPE)
        cap = data.capture if page.kind == "streams" else data.baseline
        q = data.quality if page.kind == "streams" else data.baseline_quality
        assert cap is not None
        srows = streamtable.stream_rows(cap, q)
        title = "Streams" if page.kind == "streams" else f"Baseline streams ({cap.path})"
        streamtable.draw_stream_page(fig, title, srows, page.first, page.count, page.part,
                                     streamtable.other_flows_line(cap))
        return fig
    fig = style.new_figure(style.A4_PORTRAIT)
    if page.kind == "summary":
        summary.draw_summary_page(fig, data, rows, n_rows=page.count, how_to=page.how_to)
    elif page.kind == "how_to":
        summary.draw_how_to_page(fig)
    elif page.kind == "findings":
        summary.draw_findings_page(fig, data, rows, page.first)
    elif page.kind == "timeline" and page.call is not None:
        timeline.draw_timeline(fig, data, data.calls[page.call])
    elif page.kind == "detail" and page.call is not None:
        call = data.calls[page.call]
        timeline.draw_timeline(fig, data, call, view=timeline.detail_view(data, call))
    elif page.kind == "compare" and page.call is not None:
        compare.draw_compare_page(fig, data, data.calls[page.call])
    return fig


def _creation_date(creation_date: dt.datetime | None) -> dt.datetime | None:
    if creation_date is not None:
        return creation_date
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return None


def render_pdf(path: str | os.PathLike[str], data: ReportData, *,
               title: str | None = None, creation_date: dt.datetime | None = None) -> Path:
    """Write the report of ``data`` to ``path`` (written whole, then moved into place)."""
    style.mpl()
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from analyzer.version import __version__

    out = Path(path)
    p = plan(data)
    verdict = data.verdict
    metadata: dict[str, Any] = {
        "Title": title or f"Call analysis: {os.path.basename(data.capture.path)}",
        "Subject": f"verdict: {verdict}",
        "Creator": f"analyzer {__version__}",
        "Producer": f"analyzer {__version__} (matplotlib {matplotlib.__version__})",
        "Keywords": "call quality, packet loss, jitter, throttling",
        "CreationDate": _creation_date(creation_date),
        "ModDate": None,
    }
    total = len(p.pages)
    with atomic_write(out, "wb") as fh, style.report_style(), \
            PdfPages(fh, metadata=metadata) as pdf:
        for number, page in enumerate(p.pages, start=1):
            fig = render_page(data, page, p.finding_rows)
            _footer(fig, data, page, number, total)
            pdf.savefig(fig)
    return out


def write_pdf(path: str | os.PathLike[str], analysis: Analysis, *,
              title: str | None = None, creation_date: dt.datetime | None = None) -> Path:
    """Write the PDF report of ``analysis`` to ``path``; returns the path.

    Everything drawn comes from the analysis (its capture's packets, the quality metrics
    it computed, its baseline capture). Two runs on the same inputs give byte-identical
    files: there is no creation date unless ``creation_date`` is given or
    ``SOURCE_DATE_EPOCH`` is set.
    """
    return render_pdf(path, report_data(analysis), title=title, creation_date=creation_date)


def figures(data: ReportData) -> list[tuple[str, Figure]]:
    """Every standalone figure of the report, with its file stem."""
    out: list[tuple[str, Figure]] = [("summary", summary.summary_figure(data))]
    for k, call in enumerate(data.calls):
        stem = f"call{call.number}" if call.call is not None else "other-traffic"
        out.append((f"{stem}-timeline", timeline.timeline_figure(data, k)))
        view = timeline.detail_view(data, call)
        if view is not None:
            out.append((f"{stem}-detail", timeline.timeline_figure(data, k, view=view)))
        if call.has_media:
            out.append((f"{stem}-distributions", compare.distributions_figure(data, k)))
            out.append((f"{stem}-loss-runs", compare.loss_runs_figure(data, k)))
            out.append((f"{stem}-rate", compare.rate_figure(data, k)))
    tables = streamtable.stream_table_figures(data.capture, data.quality)
    for i, fig in enumerate(tables):
        out.append(("streams" if len(tables) == 1 else f"streams-{i + 1}", fig))
    return out


def render_pngs(directory: str | os.PathLike[str], data: ReportData, *,
                dpi: int = style.PNG_DPI) -> list[Path]:
    """Write every figure of ``data`` as its own PNG into ``directory``."""
    if dpi < MIN_PNG_DPI:
        raise ValueError(f"dpi must be at least {MIN_PNG_DPI}, not {dpi}")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    with style.report_style():
        for stem, fig in figures(data):
            path = d / f"{stem}.png"
            with atomic_write(path, "wb") as fh:
                fig.savefig(fh, format="png", dpi=dpi, metadata={"Software": "analyzer"})
            paths.append(path)
    return paths


def write_pngs(directory: str | os.PathLike[str], analysis: Analysis, *,
               dpi: int = style.PNG_DPI) -> list[Path]:
    """Write each figure of the report as its own PNG (``dpi`` >= 150) into ``directory``;
    returns the paths in report order (summary, per call: timeline, distributions,
    loss runs, rate; then the stream table)."""
    return render_pngs(directory, report_data(analysis), dpi=dpi)


def write_report(analysis: Analysis, pdf_path: str | os.PathLike[str] | None = None,
                 png_dir: str | os.PathLike[str] | None = None, *,
                 dpi: int = style.PNG_DPI) -> list[Path]:
    """The PDF report of ``analysis`` at ``pdf_path`` and/or each of its figures as a PNG
    in ``png_dir``, from one gathering of the data; returns the paths written."""
    data = report_data(analysis)
    out: list[Path] = []
    if pdf_path is not None:
        out.append(render_pdf(pdf_path, data))
    if png_dir is not None:
        out.extend(render_pngs(png_dir, data, dpi=dpi))
    return out
