"""Page 1: the verdict in plain words, the capture, the baseline, the findings (with the
figures that show them and their confidence) and how to read the rest."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report import explain, style, tables, text
from analyzer.report import findings as fnd
from analyzer.report.data import TIMELINE_BUFFER
from analyzer.verdict import words

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analyzer.report.data import ReportData
    from analyzer.verdict.model import Finding

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


def capture_facts(data: ReportData) -> list[tuple[str, str]]:
    """The capture at a glance (two columns under the provenance)."""
    cap = data.capture
    apps = sorted({c.app for c in cap.calls if c.app})
    media = cap.media_streams
    calls = f"{len(cap.calls)}"
    if len(cap.calls) == 1:
        c = cap.calls[0]
        calls += f": {c.app or 'unknown app'} {text.fmt_s(c.start_s)}–{text.fmt_s(c.end_s)}"
    elif cap.calls:
        calls += " (table above)"
    facts = [
        ("Packets", f"{text.fmt_num(cap.packets)} ({text.fmt_num(cap.udp_datagrams)} UDP)"),
        ("Calls", calls),
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
    """The baseline given (and, when it could not be used, why)."""
    return explain.baseline_given(data.analysis)


def verdict_detail(data: ReportData) -> str:
    """One line under the headline: what was found, in a few words."""
    a = data.analysis
    pats = list(a.patterns)
    if a.verdict == "blocked":
        blocked = [f.summary for f in a.findings if f.pattern == "blocked_setup"]
        return blocked[0][:1].upper() + blocked[0][1:] + "." if blocked and blocked[0] else ""
    if not pats:
        return ""
    n = len(a.findings)
    names = ", ".join(text.pattern_name(p).lower() for p in pats)
    return f"{n} finding{'s' if n != 1 else ''}: {names} (details below)."


CALL_COLUMNS = (
    tables.Column("Call", 0.4, "right"),
    tables.Column("App", 0.8),
    tables.Column("Verdict", 0.95),
    tables.Column("Patterns (and what is not throttling)", 2.85, em=tables.PROSE_EM + 0.02),
    tables.Column("When", 1.9),
)
#: At most this many calls in page 1's table (the rest: a line saying how many).
MAX_CALL_ROWS = 12


def call_rows(data: ReportData) -> list[list[str]]:
    """Per call (numbered as in the terminal, the JSON and the PNG names): app, verdict,
    patterns found (and confounders, named as such), its span and first onset."""
    rows = []
    for c in data.analysis.calls:
        pats = [text.pattern_name(p).lower()
                for p in dict.fromkeys(f.pattern for f in c.findings)]
        kinds = [k.replace("_", " ") for k in dict.fromkeys(cf.kind for cf in c.confounders)]
        what = ", ".join(pats) if pats else "–"
        if kinds:
            what += f" (not throttling: {', '.join(kinds)})"
        onsets = [st.stream_onset.at_s for st in c.streams if st.stream_onset is not None
                  and any(f.stream == st.stream for f in c.findings)]
        when = f"{c.start_s:.1f}–{c.end_s:.1f} s"
        if onsets:
            when += f", from {text.fmt_s(min(onsets))}"
        rows.append([str(c.number), c.app or "?", c.verdict, what, when])
    return rows


def _where(f: Finding) -> str:
    """``#0`` (the stream, as numbered in the figures and the stream table), or the flow."""
    if f.stream is not None:
        return f"#{f.stream}"
    if f.src is None and f.dst is None:
        return "whole capture"
    return (f"{f.src}:{f.sport}" if f.sport is not None else f"{f.src}") + " → " + (
        f"{f.dst}:{f.dport}" if f.dport is not None else f"{f.dst}")


def _confidence(f: Finding) -> str:
    return text.confidence_words(f.confidence, f.pvalue, f.score)


def _when(f: Finding, data: ReportData) -> str:
    a, b = f.start_s, f.end_s
    st = None if f.stream is None else data.analysis.stream_report(f.stream)
    on = None if st is None or st.stream_onset is None else st.stream_onset.at_s
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
        pat = f.pattern
        where = _where(f)
        sentence = f.summary
        if not sentence:
            est = text.fmt_estimate(fnd.estimate(f), pat, interval=fnd.interval(f))
            sentence = text.join_nonempty([text.PATTERN_MEANINGS.get(pat, ""), est], "; ")
        name = text.pattern_name(pat)
        if sentence.lower().startswith(name.lower()):
            what = f"{sentence[:1].upper()}{sentence[1:]} ({where})"
        else:
            what = f"{name} — {where} {sentence}".strip()
        rows.append([str(i + 1), what, _when(f, data), _confidence(f), see.get(i, "")])
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
    """The verdict box: headline, what it means, and per call what was measured
    (confounders as what they are, why a call is inconclusive, its worst MOS)."""
    from matplotlib.patches import FancyBboxPatch

    verdict = data.verdict
    colour = style.VERDICT_COLOURS.get(verdict, style.GREY)
    top = cur.y
    inner = cur.w_in - 2 * MARGIN_IN - 0.5
    x = MARGIN_IN + 0.25
    cur.y += 0.18
    a = data.analysis
    expl = explain.verdict_explanation(a) or text.verdict_explanation(verdict)
    answer = words.plain_answer(a.verdict, a.interference, a.interference_reasons,
                                calls=len(a.calls))
    if len(answer) > MAX_ANSWER_CHARS:  # the reasons are in full below and in the JSON
        answer = answer[:MAX_ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
    cur.text(f"Verdict: {verdict.upper()}    Deliberate? "
             f"{text.INTERFERENCE_WORDS.get(a.interference, a.interference.upper())}",
             size=10, x_in=x, width_in=inner, fontweight="bold", color=_dark(colour))
    cur.text(text.verdict_headline(verdict, a.interference), size=22, x_in=x,
             width_in=inner, fontweight="bold", gap_in=0.1)
    cur.text(answer, size=10, x_in=x, width_in=inner, fontweight="bold", gap_in=0.06)
    cur.text(expl, size=10, x_in=x, width_in=inner)
    detail = verdict_detail(data)
    if detail:
        cur.text(detail, size=9.5, x_in=x, width_in=inner, fontweight="bold")
    # a call's line that only repeats the answer above is left out
    lines = [ln for ln in explain.call_lines(data.analysis, data.quality)
             if ln.split(": ", 1)[-1].rstrip(".")[:60].lower() not in answer.lower()]
    for line in lines[:MAX_CALL_LINES]:
        cur.text(line, size=9, x_in=x, width_in=inner, gap_in=0.03)
    if len(lines) > MAX_CALL_LINES:
        cur.text(f"... and {len(lines) - MAX_CALL_LINES} more calls (see the calls table).",
                 size=9, x_in=x, width_in=inner)
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


#: At most this many per-call sentences in the verdict box.
MAX_CALL_LINES = 4
#: The plain answer in the verdict box is cut after this many characters.
MAX_ANSWER_CHARS = 260


def draw_calls(cur: _Cursor, data: ReportData) -> None:
    """With two calls or more: one row per call, numbered as everywhere else."""
    rows = call_rows(data)
    if len(rows) < 2:
        return
    cur.heading(f"Calls ({len(rows)})")
    cur.y = tables.draw_table(cur.fig, MARGIN_IN + 0.15, cur.y, CALL_COLUMNS,
                              rows[:MAX_CALL_ROWS], font_pt=7.5) + 0.02
    if len(rows) > MAX_CALL_ROWS:
        cur.text(f"+ {len(rows) - MAX_CALL_ROWS} more calls (the analysis JSON and the "
                 "terminal text list every call).", size=7.5, color=style.GREY)


def _key_value(cur: _Cursor, k: str, v: str, x: float, key_w: float, width: float) -> None:
    y0 = cur.y
    cur.text(k, size=8.5, x_in=x, width_in=key_w, fontweight="bold", gap_in=0)
    y_key = cur.y
    cur.y = y0
    cur.text(v, size=8.5, x_in=x + key_w, width_in=width - key_w - 0.1, gap_in=0.02)
    cur.y = max(cur.y, y_key + 0.02)


def draw_facts(cur: _Cursor, data: ReportData) -> None:
    """Where the input came from (full width), the capture's facts in two columns, what
    each stream was compared with, and the key figures."""
    cur.heading("The capture")
    full = cur.w_in - 2 * MARGIN_IN
    for k, v in explain.provenance(data.analysis):
        _key_value(cur, k, v, MARGIN_IN, 1.25, full)
    cur.y += 0.04
    facts = capture_facts(data)
    half = (len(facts) + 1) // 2
    key_w, col_w = 1.25, full / 2
    top = cur.y
    bottom = top
    for c, part in enumerate((facts[:half], facts[half:])):
        cur.y = top
        for k, v in part:
            _key_value(cur, k, v, MARGIN_IN + c * col_w, key_w if c == 0 else 0.95, col_w)
        bottom = max(bottom, cur.y)
    cur.y = bottom
    cur.heading("Baseline used")
    cur.text(baseline_text(data), size=8.5)
    for line in explain.baseline_lines(data.analysis):
        y0 = cur.y
        cur.text("•", size=8, gap_in=0)
        cur.y = y0
        cur.text(line, size=8, x_in=MARGIN_IN + 0.15, gap_in=0.02)
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
    tables.Column("Stream (what it was compared with: above)", 3.1),
    tables.Column("Packets", 0.6, "right"),
    tables.Column("Lost", 1.0, "right"),
    tables.Column("Longest silence", 0.85, "right"),
    tables.Column("Mean jitter", 0.8, "right"),
    tables.Column("MOS", 0.6, "right"),
)
#: At most this many streams in the key figures (one call: 8; several: the calls table
#: takes room).
MAX_KEY_ROWS = (8, 5)


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
                m = q.mos.get(TIMELINE_BUFFER)
                if m is not None:
                    mos = f"{m:.2f}" + ("*" if q.relative_index else "")
                longest = q.interarrival.max_s
                if q.cutoff is not None:
                    longest = max(longest or 0.0, q.cutoff.duration_s)
                silence = text.fmt_s(longest, 2) if longest is not None else "–"
            rep = data.analysis.stream_report(s.index)
            d = rep.direction if rep is not None and rep.direction else s.label
            rows.append([f"#{s.index} {d}", text.fmt_num(len(s.series)), lost, silence,
                         text.fmt_num(s.stats.mean_jitter_ms, 1) + " ms"
                         if s.stats.mean_jitter_ms is not None else "–", mos])
    return rows[:MAX_KEY_ROWS[len(data.analysis.calls) > 1]]


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
                      *, first_row: int = 0, n_rows: int | None = None,
                      how_to: bool = True) -> int:
    """Draw page 1; returns how many finding rows it holds (the rest continue on
    :func:`draw_findings_page`). With ``n_rows`` None as many as fit. With ``how_to``
    False the notes on how to read the report are on a page of their own
    (:func:`draw_how_to_page`) and page 1 says so."""
    return _draw_summary(fig, data, rows, first_row, n_rows, how_to)[0]


def _draw_summary(fig: Figure, data: ReportData, rows: Sequence[Sequence[str]],
                  first_row: int, n_rows: int | None, how_to: bool) -> tuple[int, bool]:
    """Page 1; returns the finding rows drawn and whether everything fitted."""
    cur = _Cursor(fig, 0.45)
    cur.text(f"Call analysis report · {os.path.basename(data.capture.path)}", size=8,
             color=style.GREY, gap_in=0.12)
    draw_verdict(cur, data)
    draw_calls(cur, data)
    draw_facts(cur, data)
    cur.heading(f"Findings ({len(rows)})" if rows else "Findings")
    how_h = how_to_height(cur.w_in - 2 * MARGIN_IN) if how_to else 0.3
    if not rows:
        if cur.y < cur.h_in - MARGIN_IN - 0.4:
            cur.text("No detector found a degradation pattern.", size=9)
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
    notes = explain.notes(data.analysis)
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
    fits = cur.y + how_h <= cur.h_in - MARGIN_IN
    if how_to:
        draw_how_to(cur, max(cur.y, cur.h_in - MARGIN_IN - how_h - 0.1))
    elif cur.y < cur.h_in - MARGIN_IN - 0.3:  # a pointer, where there is room for it
        cur.y = max(cur.y, cur.h_in - MARGIN_IN - how_h)
        cur.text("How to read this report: on a page of its own after the findings.",
                 size=8, color=style.GREY)
    return n, fits


def how_to_fits(data: ReportData, rows: Sequence[Sequence[str]]) -> bool:
    """Whether page 1 holds everything down to "How to read this report" (measured by
    drawing it off screen)."""
    with style.report_style():
        fig = style.new_figure(style.A4_PORTRAIT)
        return _draw_summary(fig, data, rows, 0, None, True)[1]


def draw_how_to_page(fig: Figure) -> None:
    """"How to read this report" on a page of its own (when page 1 is full)."""
    cur = _Cursor(fig, 0.45)
    draw_how_to(cur, 0.45)


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


def summary_rows_fit(data: ReportData, rows: Sequence[Sequence[str]], *,
                     how_to: bool = True) -> int:
    """How many finding rows page 1 holds (measured without drawing)."""
    with style.report_style():
        fig = style.new_figure(style.A4_PORTRAIT)
        n = draw_summary_page(fig, data, rows, how_to=how_to)
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
        rows = finding_rows(data, png_references(data))
        draw_summary_page(fig, data, rows, how_to=how_to_fits(data, rows))
    return fig
