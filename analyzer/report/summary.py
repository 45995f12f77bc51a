"""Page 1: the verdict in plain words, the capture, the baseline, the findings (with the
figures that show them and their confidence) and how to read the rest."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report import findings as fnd
from analyzer.report import style, tables, text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analyzer.report.data import ReportData

MARGIN_IN = 0.6
FINDINGS_FONT_PT = 7.5
FINDING_COLUMNS = (
    tables.Column("#", 0.25),
    tables.Column("Finding (stream, direction: what was measured)", 4.1,
                  em=tables.PROSE_EM + 0.02),
    tables.Column("When", 0.85),
    tables.Column("Confidence", 1.2),
    tables.Column("See", 0.67),
)
NO_VERDICT = "measurements"


def capture_facts(data: ReportData) -> list[tuple[str, str]]:
    cap = data.capture
    start = dt.datetime.fromtimestamp(cap.start_epoch_s, dt.UTC)
    apps = sorted({c.app for c in cap.calls if c.app})
    media = cap.media_streams
    calls = [f"{len(cap.calls)}"]
    if cap.calls:
        calls.append("; ".join(
            f"{c.app or 'unknown app'} {text.fmt_s(c.start_s)}–{text.fmt_s(c.end_s)}"
            for c in cap.calls[:3]) + (" …" if len(cap.calls) > 3 else ""))
    facts = [
        ("File", f"{cap.path} ({cap.fmt})"),
        ("Recorded", f"{start:%Y-%m-%d %H:%M:%S} UTC, {text.fmt_duration(cap.duration_s)}"),
        ("Packets", f"{text.fmt_num(cap.packets)} ({text.fmt_num(cap.udp_datagrams)} UDP)"),
        ("Calls", ": ".join(calls)),
        ("App (guess)", ", ".join(apps) if apps else "not recognised"),
        ("Streams", f"{len(media)} media, {len(cap.streams) - len(media)} other "
                    "(signalling, STUN, DTLS...)"),
    ]
    if cap.icmp:
        facts.append(("ICMP errors", f"{len(cap.icmp)} 'destination unreachable' about "
                                     "the capture's UDP flows"))
    if cap.warnings:
        facts.append(("Warnings", f"{len(cap.warnings)}: {cap.warnings[0]}"))
    return facts


def baseline_text(data: ReportData) -> str:
    """The baseline given and what each stream was compared with."""
    parts = []
    if data.baseline is not None:
        b = data.baseline
        parts.append(f"Capture {b.path} ({text.fmt_duration(b.duration_s)}, "
                     f"{text.fmt_num(b.packets)} packets, {len(b.calls)} call(s)).")
    elif fnd.baseline_given(data.analysis) == "profile":
        parts.append("A profile of clean calls was given (statistics only: no curves to "
                     "draw against).")
    else:
        parts.append("No baseline capture given: each stream is compared with the other "
                     "direction, the stretch before the degradation began, or a profile of "
                     "clean calls - weaker evidence than a baseline recorded the same way.")
    desc = fnd.baseline_description(data.analysis)
    if desc and data.baseline is None:  # with a capture, the key figures say it per stream
        parts.append(desc)
    return " ".join(parts)


def verdict_detail(data: ReportData) -> str:
    """One line under the headline: what was found, in a few words."""
    a = data.analysis
    if a is None:
        return ""
    pats = list(dict.fromkeys(fnd.pattern(f) for f in data.findings))
    if data.verdict == "blocked":
        blocked = [fnd.summary(f) for f in data.findings if fnd.pattern(f) == "blocked_setup"]
        return blocked[0][:1].upper() + blocked[0][1:] + "." if blocked and blocked[0] else ""
    if not pats:
        return ""
    n = len(data.findings)
    names = ", ".join(text.pattern_name(p).lower() for p in pats)
    return f"{n} finding{'s' if n != 1 else ''}: {names} (details below)."


def _where(f: Any, data: ReportData) -> str:
    """``#0`` (the stream, as numbered in the figures and the stream table), or the flow."""
    for call in data.calls:
        s = fnd.stream_of(f, call.streams)
        if s is not None:
            return f"#{s.index}"
    return fnd.where(f)


def _confidence(f: Any) -> str:
    return text.confidence_words(f.confidence, f.pvalue, f.score)


def _when(f: Any) -> str:
    a, b = fnd.span(f)
    on = fnd.onset_s(f)
    if a is None and on is None:
        return "–"
    if a is None:
        return f"from {text.fmt_s(on)}"
    if b is None or abs(b - a) < 0.05:
        return f"at {text.fmt_s(a)}"
    return f"{a:.1f}–{b:.1f} s"


def finding_rows(data: ReportData, see: Mapping[int, str]) -> list[list[str]]:
    """One row per finding: its plain name, then the analysis's own sentence (with the
    figures) or, without one, the meaning of the pattern and its key estimates."""
    rows = []
    for i, f in enumerate(data.findings):
        pat = fnd.pattern(f)
        where = _where(f, data)
        sentence = fnd.summary(f)
        if not sentence:
            est = text.fmt_estimate(fnd.estimate(f), pat, interval=fnd.interval(f))
            sentence = text.join_nonempty([text.PATTERN_MEANINGS.get(pat, ""), est], "; ")
        name = text.pattern_name(pat)
        if sentence.lower().startswith(name.lower()):
            what = f"{sentence[:1].upper()}{sentence[1:]} ({where})"
        else:
            what = f"{name} — {where} {sentence}".strip()
        rows.append([str(i + 1), what, _when(f), _confidence(f), see.get(i, "")])
    return rows


class _Cursor:
    """Places text on a page from the top, in inches."""

    def __init__(self, fig: Any, top_in: float = MARGIN_IN) -> None:
        self.fig = fig
        self.w_in, self.h_in = fig.get_size_inches()
        self.y = top_in

    def fx(self, x_in: float) -> float:
        return x_in / self.w_in

    def fy(self, y_in: float) -> float:
        return 1.0 - y_in / self.h_in

    def text(self, s: str, *, size: float = 9.0, x_in: float = MARGIN_IN, width_in: float
             | None = None, gap_in: float = 0.04, **kw: Any) -> None:
        width = width_in if width_in is not None else self.w_in - x_in - MARGIN_IN
        em = tables.PROSE_EM * (1.12 if kw.get("fontweight") == "bold" else 1.0)
        lines = text.wrap(s, tables.chars_for(width, size, em))
        self.fig.text(self.fx(x_in), self.fy(self.y), "\n".join(lines), va="top",
                      fontsize=size, linespacing=tables.LINE_SPACING, **kw)
        self.y += len(lines) * tables.line_height_in(size) + gap_in

    def heading(self, s: str) -> None:
        self.y += 0.12
        self.text(s, size=12, fontweight="bold", gap_in=0.08)


def _dark(colour: str) -> str:
    """A darker shade of ``colour`` for text on a light background."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02X}{:02X}{:02X}".format(*(int(c * 0.6) for c in (r, g, b)))


def draw_verdict(cur: _Cursor, data: ReportData) -> None:
    from matplotlib.patches import FancyBboxPatch

    verdict = data.verdict or NO_VERDICT
    colour = style.VERDICT_COLOURS.get(verdict, style.GREY)
    top = cur.y
    inner = cur.w_in - 2 * MARGIN_IN - 0.5
    cur.y += 0.18
    if data.verdict is None:
        head = "Measurements only"
        expl = ("No verdict was computed for this report: it shows what was measured "
                "(loss, jitter, gaps, MOS) without judging it.")
    else:
        head = text.verdict_headline(verdict)
        expl = text.verdict_explanation(verdict)
    if data.verdict is not None:
        cur.text(f"Verdict: {verdict.upper()}", size=10, x_in=MARGIN_IN + 0.25,
                 width_in=inner, fontweight="bold", color=_dark(colour))
    cur.text(head, size=22, x_in=MARGIN_IN + 0.25, width_in=inner, fontweight="bold",
             gap_in=0.1)
    cur.text(expl, size=10, x_in=MARGIN_IN + 0.25, width_in=inner)
    own = fnd.verdict_summary(data.analysis) or verdict_detail(data)
    if own:
        cur.text(own, size=9.5, x_in=MARGIN_IN + 0.25, width_in=inner, fontweight="bold")
    cur.y += 0.12
    h = cur.y - top
    cur.fig.add_artist(FancyBboxPatch(
        (cur.fx(MARGIN_IN), cur.fy(cur.y)), cur.fx(cur.w_in - 2 * MARGIN_IN),
        h / cur.h_in, boxstyle="round,pad=0,rounding_size=0.01",
        transform=cur.fig.transFigure, facecolor=colour, alpha=0.16, edgecolor=colour,
        lw=1.5, zorder=0))
    cur.fig.add_artist(FancyBboxPatch(
        (cur.fx(MARGIN_IN), cur.fy(cur.y)), cur.fx(0.1), h / cur.h_in,
        boxstyle="square,pad=0", transform=cur.fig.transFigure, facecolor=colour,
        edgecolor="none", zorder=1))


def draw_facts(cur: _Cursor, data: ReportData) -> None:
    """The capture's facts in two columns, the baseline, and the key figures."""
    cur.heading("The capture")
    facts = capture_facts(data)
    half = (len(facts) + 1) // 2
    key_w, col_w = 0.95, (cur.w_in - 2 * MARGIN_IN) / 2
    top = cur.y
    bottom = top
    for c, part in enumerate((facts[:half], facts[half:])):
        cur.y = top
        x = MARGIN_IN + c * col_w
        for k, v in part:
            y0 = cur.y
            cur.text(k, size=8.5, x_in=x, width_in=key_w, fontweight="bold", gap_in=0)
            y_key = cur.y
            cur.y = y0
            cur.text(v, size=8.5, x_in=x + key_w, width_in=col_w - key_w - 0.1, gap_in=0.02)
            cur.y = max(cur.y, y_key + 0.02)
        bottom = max(bottom, cur.y)
    cur.y = bottom
    cur.heading("Baseline used")
    cur.text(baseline_text(data), size=8.5)
    rows = key_rows(data)
    if rows:
        cur.heading("Key figures")
        cur.y = tables.draw_table(cur.fig, MARGIN_IN + 0.15, cur.y, KEY_COLUMNS, rows,
                                  font_pt=7.5) + 0.02
        cur.text("Lost: sequence numbers never received. Longest silence: longest time "
                 "without a packet (or after a cut-off). MOS: 1 bad – 4.5 excellent; "
                 "* a relative index (no ITU-T values for the codec).",
                 size=7, color=style.GREY)


KEY_COLUMNS = (
    tables.Column("Stream", 1.7),
    tables.Column("Packets", 0.6, "right"),
    tables.Column("Lost", 1.0, "right"),
    tables.Column("Longest silence", 0.85, "right"),
    tables.Column("Mean jitter", 0.8, "right"),
    tables.Column("MOS", 0.6, "right"),
    tables.Column("Compared with", 1.45),
)


def key_rows(data: ReportData) -> list[list[str]]:
    """Per drawn media stream: how much got through and how it sounded."""
    rows = []
    for call in data.calls:
        for s in call.streams:
            if not s.is_media:
                continue
            q = data.stream_quality(s)
            lost = mos = "–"
            silence = "–"
            if q is not None:
                if q.loss is not None:
                    lost = f"{q.loss.lost} ({text.fmt_pct(q.loss.loss_fraction)})"
                m = q.mos.get("adaptive_500ms")
                if m is not None:
                    mos = f"{m:.2f}" + ("*" if q.relative_index else "")
                longest = q.interarrival.max_s
                if q.cutoff is not None:
                    longest = max(longest or 0.0, q.cutoff.duration_s)
                silence = text.fmt_s(longest, 2) if longest is not None else "–"
            d = fnd.direction_of(data.analysis, s.index)
            rows.append([f"#{s.index}" + (f" {d}" if d else f" {s.label}"),
                         text.fmt_num(len(s.series)), lost, silence,
                         text.fmt_num(s.stats.mean_jitter_ms, 1) + " ms"
                         if s.stats.mean_jitter_ms is not None else "–", mos,
                         fnd.reference_kind(data.analysis, s.index) or "–"])
    return rows[:8]


def findings_height_available(page_h_in: float, used_in: float, how_to_in: float) -> float:
    return page_h_in - used_in - how_to_in - MARGIN_IN - 0.25


HOW_TO_PT = 7.5


def how_to_height(width_in: float) -> float:
    h = 0.45
    for item in text.HOW_TO_READ:
        n = len(text.wrap(item, tables.chars_for(width_in - 0.15, HOW_TO_PT,
                                                 tables.PROSE_EM)))
        h += n * tables.line_height_in(HOW_TO_PT) + 0.04
    return h


def draw_how_to(cur: _Cursor, y_in: float) -> None:
    cur.y = y_in
    cur.heading("How to read this report")
    for item in text.HOW_TO_READ:
        y0 = cur.y
        cur.text("•", size=HOW_TO_PT, gap_in=0)
        cur.y = y0
        cur.text(item, size=HOW_TO_PT, x_in=MARGIN_IN + 0.15, gap_in=0.04)


def draw_summary_page(fig: Figure, data: ReportData, rows: Sequence[Sequence[str]],
                      *, first_row: int = 0, n_rows: int | None = None) -> int:
    """Draw page 1; returns how many finding rows it holds (the rest continue on
    :func:`draw_findings_page`). With ``n_rows`` None as many as fit."""
    cur = _Cursor(fig, 0.45)
    cur.text(f"Call analysis report · {os.path.basename(data.capture.path)}", size=8,
             color=style.GREY, gap_in=0.12)
    draw_verdict(cur, data)
    draw_facts(cur, data)
    cur.heading(f"Findings ({len(rows)})" if rows else "Findings")
    how_h = how_to_height(cur.w_in - 2 * MARGIN_IN)
    if not rows:
        cur.text("No detector found a degradation pattern." if data.analysis is not None
                 else "No analysis was given: no findings.", size=9)
        n = 0
    else:
        avail = findings_height_available(cur.h_in, cur.y, how_h)
        n = (tables.rows_that_fit(FINDING_COLUMNS, rows, FINDINGS_FONT_PT, avail)
             if n_rows is None else n_rows)
        shown = rows[first_row:first_row + n]
        if shown:
            cur.y = tables.draw_table(fig, MARGIN_IN + 0.15, cur.y, FINDING_COLUMNS, shown,
                                      font_pt=FINDINGS_FONT_PT) + 0.08
        if n < len(rows):
            cur.text(f"{len(rows) - n} more finding(s) on the next page.", size=8,
                     color=style.GREY)
    notes = fnd.warnings_of(data.analysis)
    if data.omitted_calls:
        notes.insert(0, f"{data.omitted_calls} more call(s) have no pages of their own (only "
                        f"the {len(data.calls)} with findings or the most packets are drawn); "
                        "their streams are in the stream table.")
    room = cur.h_in - MARGIN_IN - how_h - 0.3 - cur.y
    if notes and room > 0.5:
        cur.y += 0.05
        shown = notes[:max(int(room / 0.17) - 1, 1)]
        for note in shown:
            cur.text(f"Note: {note}", size=7.5, color=style.GREY, gap_in=0.02)
        if len(shown) < len(notes):
            cur.text(f"({len(notes) - len(shown)} more notes in the analysis JSON)", size=7.5,
                     color=style.GREY)
    draw_how_to(cur, max(cur.y, cur.h_in - MARGIN_IN - how_h - 0.1))
    return n


def draw_findings_page(fig: Figure, data: ReportData, rows: Sequence[Sequence[str]],
                       first_row: int) -> int:
    """A continuation page of the findings table; returns the rows it holds."""
    cur = _Cursor(fig, 0.45)
    cur.text("Findings (continued)", size=14, fontweight="bold", gap_in=0.15)
    avail = cur.h_in - cur.y - MARGIN_IN - 0.35
    n = max(tables.rows_that_fit(FINDING_COLUMNS, rows[first_row:], FINDINGS_FONT_PT,
                                 avail), 1)
    tables.draw_table(fig, MARGIN_IN + 0.15, cur.y, FINDING_COLUMNS,
                      rows[first_row:first_row + n], font_pt=FINDINGS_FONT_PT)
    return n


def summary_rows_fit(data: ReportData, rows: Sequence[Sequence[str]]) -> int:
    """How many finding rows page 1 holds (measured without drawing)."""
    with style.report_style():
        fig = style.new_figure(style.A4_PORTRAIT)
        n = draw_summary_page(fig, data, rows)
    return n


def continuation_rows(rows: Sequence[Sequence[str]], first_row: int) -> int:
    h = style.A4_PORTRAIT[1] - 0.45 - 14 * tables.LINE_SPACING / 72 - 0.19 - MARGIN_IN - 0.35
    return max(tables.rows_that_fit(FINDING_COLUMNS, rows[first_row:], FINDINGS_FONT_PT, h),
               1)


def png_references(data: ReportData) -> dict[int, str]:
    """Finding number -> the standalone figures that show it (``call1-* PNGs``)."""
    out: dict[int, str] = {}
    for i, f in enumerate(data.findings):
        stems = [f"call{c.number}-* PNGs" if c.call is not None else "other-traffic-* PNGs"
                 for c in data.calls if any(g is f for g in c.findings)]
        if stems:
            out[i] = ", ".join(stems)
    return out


def summary_figure(data: ReportData) -> Figure:
    """Page 1 as a standalone figure (the finding rows that fit); its "See" column names
    the PNG figures of :func:`analyzer.report.write_pngs`."""
    with style.report_style():
        fig = style.new_figure(style.A4_PORTRAIT)
        draw_summary_page(fig, data, finding_rows(data, png_references(data)))
    return fig
