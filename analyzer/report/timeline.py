"""The per-call timeline: every direction of the call on one time axis, panel by panel.

Panels (one time axis, seconds from the capture's first packet, one value per 1-second
window unless the quality metrics were computed with another window):

1. delivered bit rate (kbit/s), with the estimated cap of a rate_cap finding as a line;
2. packets per second;
3. lost packets (% of expected, RTP only);
4. marks: one tick per lost packet, a bar per arrival gap, ICMP errors;
5. RFC 3550 jitter (ms) at the end of each window;
6. share of frames the receiver had to conceal (simulated adaptive 500 ms jitter buffer);
7. MOS per window after that buffer (E-model; a relative index for Opus/messenger codecs).

Evidence windows of the findings are shaded, onsets and cut-offs drawn as vertical lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.report import downsample, marks, style, tables, text
from analyzer.report.data import TIMELINE_BUFFER

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from analyzer.metrics.windows import WindowSeries
    from analyzer.report.data import CallData, ReportData
    from analyzer.streams.model import Stream

PANELS = ("rate", "pps", "loss", "marks", "jitter", "concealed", "mos")
#: Without any RTP stream (opaque media, a blocked setup) loss, jitter and MOS cannot be
#: measured: a shorter set of panels.
PANELS_NO_RTP = ("rate", "pps", "marks")
HEIGHTS = {"rate": 1.15, "pps": 0.9, "loss": 0.9, "marks": 0.55, "jitter": 0.9,
           "concealed": 0.9, "mos": 0.9}
NOT_RTP = "not measurable: no RTP sequence numbers (encrypted or Telegram media)"
#: Calls up to this long are drawn with half-second windows (periodic drops stay visible).
SHORT_CALL_S = 120.0
SHORT_WINDOW_S = 0.5
#: Longer calls are drawn with windows of a round length giving at most this many steps
#: (1-second steps over 30 minutes are a solid band); statistics keep their own windows.
MAX_STEPS = 250
ROUND_WINDOWS_S = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
#: Calls longer than this get a detail page around the first onset / evidence.
DETAIL_MIN_SPAN_S = 300.0
DETAIL_SPAN_S = 60.0
#: A window less covered than this by its stream's span gives no rate (edge windows).
MIN_COVERAGE = 0.25
#: Non-RTP streams with at most this many packets get a tick per packet on the marks row.
TICK_EVERY_PACKET = 3000


#: Sparse flows (connection attempts) get windows holding about this many packets.
SPARSE_PACKETS_PER_WINDOW = 10
SPARSE_WINDOWS_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def display_window_s(call: CallData, default_s: float,
                     view: tuple[float, float] | None = None) -> float:
    """The window the timeline draws with: half a second for short views (a periodic
    drop stays visible), at most ``MAX_STEPS`` steps for long ones, wider for sparse
    flows (a request every 0.5 s would alias)."""
    lo, hi = view or call.span_s
    span = max(hi - lo, 1e-9)
    c_lo, c_hi = call.span_s
    rates = [len(s.series) / max(c_hi - c_lo, 1e-9) for s in call.streams if len(s.series)]
    rate = max(rates) if rates else 0.0
    if 0 < rate * default_s < SPARSE_PACKETS_PER_WINDOW:
        want = SPARSE_PACKETS_PER_WINDOW / rate
        return next((w for w in SPARSE_WINDOWS_S if w >= want and w >= default_s),
                    SPARSE_WINDOWS_S[-1])
    if span <= SHORT_CALL_S:
        return min(SHORT_WINDOW_S, default_s)
    want = span / MAX_STEPS
    return next((w for w in ROUND_WINDOWS_S if w >= want and w >= default_s),
                max(ROUND_WINDOWS_S[-1], default_s))


def detail_view(data: ReportData, call: CallData) -> tuple[float, float] | None:
    """For a long call, ``DETAIL_SPAN_S`` around the first onset, cut-off or evidence
    window (a few seconds before it): the pattern a long view averages away."""
    lo, hi = call.span_s
    if hi - lo < DETAIL_MIN_SPAN_S:
        return None
    m = marks.call_marks(data, call)
    times = [*m.onsets, *(t for _, t in m.cutoffs),
             *(a for a, _ in (*m.evidence[:1], *m.spans[:1]))]
    if not times:
        return None
    a = max(lo, min(times) - 0.2 * DETAIL_SPAN_S)
    b = min(hi, a + DETAIL_SPAN_S)
    return (max(lo, b - DETAIL_SPAN_S), b)


def coverage_s(ws: WindowSeries, stream: Stream) -> np.ndarray:
    """How much of each window lies within the stream's first..last packet (seconds)."""
    t = stream.series.arrival_s
    if len(t) == 0:
        return np.zeros(len(ws))
    a = np.asarray(ws.start_s, dtype=np.float64)
    cover = np.minimum(a + ws.window_s, float(t[-1])) - np.maximum(a, float(t[0]))
    return np.clip(cover, 0.0, ws.window_s)


def covered(ws: WindowSeries, stream: Stream) -> np.ndarray:
    """Windows covered enough to draw: a sliver at the start or end of a stream holds
    a packet or two, and its loss share or MOS would be noise."""
    return (coverage_s(ws, stream) >= MIN_COVERAGE * ws.window_s) | (len(ws) == 1)


def per_second(ws: WindowSeries, values: np.ndarray, stream: Stream) -> np.ndarray:
    """``values`` (a count per window) per second of the window the stream covers: the
    first and last windows are only partly covered and would look like a drop."""
    if len(stream.series) == 0:
        return np.full(len(ws), np.nan)
    cover = coverage_s(ws, stream)
    # a stream whose packets all fall in one instant still gets its rate per window
    cover = np.where(cover > 0, cover, ws.window_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(covered(ws, stream), np.asarray(values, dtype=np.float64) / cover,
                        np.nan)


def ip_rate_kbps(ws: WindowSeries, stream: Stream) -> np.ndarray:
    """Delivered IP-layer bit rate per window (kbit/s)."""
    bits = (np.asarray(ws.bytes, dtype=np.float64)
            + np.asarray(ws.packets, dtype=np.float64) * stream.ip_overhead_bytes) * 8.0
    return per_second(ws, bits, stream) / 1000.0


def window_steps(ax: Any, start_s: np.ndarray, y: np.ndarray, window_s: float, *,
                 colour: str, ls: Any, lw: float | None = None, zorder: float = 2,
                 view: tuple[float, float] | None = None, alpha: float | None = None
                 ) -> bool:
    """One value per window drawn as a step over the whole window (thinned when long;
    only the windows inside ``view`` when given)."""
    x = np.asarray(start_s, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if view is not None and x.size:
        keep = (x + window_s > view[0]) & (x < view[1])
        x, y = x[keep], y[keep]
    if not np.isfinite(y).any():
        return False
    x = np.append(x, float(x[-1]) + window_s)
    y = np.append(y, y[-1])
    xd, yd = downsample.envelope(x, y)
    ax.plot(xd, yd, color=colour, ls=ls, lw=lw, drawstyle="steps-post", zorder=zorder,
            alpha=alpha)
    return True


def _line(ax: Any, ws: WindowSeries, y: np.ndarray, k: int,
          view: tuple[float, float] | None, stream: Stream) -> bool:
    y = np.where(covered(ws, stream), np.asarray(y, dtype=np.float64), np.nan)
    return window_steps(ax, ws.start_s, y, ws.window_s, colour=style.stream_colour(k),
                        ls=style.stream_style(k), view=view)


def _column(ws: WindowSeries, name: str) -> np.ndarray | None:
    col = ws.extra.get(name)
    return None if col is None else np.asarray(col, dtype=np.float64)


def _has_rtp(ws: WindowSeries | None) -> bool:
    return ws is not None and bool(np.isfinite(np.asarray(ws.expected, dtype=float)).any())


def draw_timeline(fig: Figure | SubFigure, data: ReportData, call: CallData, *,
                  buffer: str = TIMELINE_BUFFER, header: bool = True,
                  view: tuple[float, float] | None = None,
                  window_s: float | None = None) -> None:
    """Draw the timeline of ``call`` into ``fig`` (a page or a subfigure); ``view``
    (start, end in s) zooms in on part of the call, ``window_s`` overrides the window.
    Stages: the layout, then each panel (rate, packets, the RTP panels, marks), then the
    shared time axis and its onset/cut-off labels, then the header."""
    m = marks.call_marks(data, call, view)
    lo, hi = view or call.span_s
    default_w = next((q.window_s for s in call.streams
                      if (q := data.stream_quality(s)) is not None), 1.0)
    wsec = window_s or display_window_s(call, default_w, view)
    series: list[tuple[int, Stream, WindowSeries | None]] = [
        (k, s, data.windows(s, window_s=wsec)) for k, s in enumerate(call.streams)]
    rtp = [(k, s, ws) for k, s, ws in series if ws is not None and _has_rtp(ws)]
    panels = PANELS if rtp else PANELS_NO_RTP
    bottom = 0.075 if rtp else 0.3
    axes = _layout(fig, data, call, m, panels, len(series), wsec, view, header=header,
                   rtp=bool(rtp), bottom=bottom)
    _draw_rate(axes["rate"], series, m, view, lo, wsec)
    _draw_pps(axes["pps"], series, view)
    if rtp:
        _draw_rtp_panels(axes, data, rtp, buffer, view)
    _draw_marks(axes["marks"], data, call, series, m, lo, hi, rtp=bool(rtp))
    _time_axis(axes, panels, m, lo, hi)
    if not rtp:
        _flows_table(fig, data, call, bottom - 0.05)
    if header:
        _header(fig, data, call, m, wsec, view)


def _layout(fig: Any, data: ReportData, call: CallData, m: marks.CallMarks,
            panels: tuple[str, ...], n_series: int, wsec: float,
            view: tuple[float, float] | None, *, header: bool, rtp: bool, bottom: float
            ) -> dict[str, Any]:
    """One axis per panel, sharing the time axis, below the header."""
    heights = [HEIGHTS[p] * (1.0 if rtp else 1.6) for p in panels]
    # the marks strip grows with its rows (a stream each, and ICMP)
    n_rows = n_series + (1 if m.icmp_s.size else 0)
    heights[panels.index("marks")] = max(heights[panels.index("marks")],
                                         0.18 * n_rows + 0.2)
    h_in = float(fig.get_size_inches()[1]) if hasattr(fig, "get_size_inches") else 11.69
    top = (1.0 - (header_height_in(data, call, m, wsec, view) + 0.3) / h_in if header
           else 0.97)
    gs = fig.add_gridspec(len(panels), 1, height_ratios=heights, left=0.1, right=0.97,
                          top=top, bottom=bottom, hspace=0.42)
    axes: dict[str, Any] = {}
    first = None
    for i, p in enumerate(panels):
        ax = fig.add_subplot(gs[i, 0], sharex=first)
        first = first or ax
        axes[p] = ax
    return axes


def _draw_rate(ax: Any, series: list[tuple[int, Stream, WindowSeries | None]],
               m: marks.CallMarks, view: tuple[float, float] | None, lo: float,
               wsec: float) -> None:
    """Panel 1: the delivered bit rate, with the estimated caps as lines."""
    drew = False
    for k, s, ws in series:
        if ws is not None:
            drew |= _line(ax, ws, ip_rate_kbps(ws, s), k, view, s)
    for i, cap in enumerate(m.caps):
        ax.hlines(cap.rate_bps / 1000.0, cap.from_s, cap.to_s, color=style.CAP_COLOUR,
                  ls=(0, (4, 2)), lw=1.6, zorder=4)
        ax.annotate(cap.label, (max(cap.from_s, lo), cap.rate_bps / 1000.0),
                    xytext=(3, 4 if i % 2 == 0 else -12),
                    bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 0.5},
                    textcoords="offset points", color=style.CAP_COLOUR,
                    fontsize=style.BASE_FONT_PT - 1.5, va="bottom", zorder=5)
    ax.set_ylabel("kbit/s")
    ax.set_title(f"Delivered bit rate (IP layer, per {wsec:g} s window)")
    if drew:
        ax.set_ylim(bottom=0, top=float(ax.get_ylim()[1]) * 1.12)
    else:
        style.no_data(ax, "no packets")


def _draw_pps(ax: Any, series: list[tuple[int, Stream, WindowSeries | None]],
              view: tuple[float, float] | None) -> None:
    """Panel 2: packets per second."""
    for k, s, ws in series:
        if ws is not None:
            _line(ax, ws, per_second(ws, ws.packets, s), k, view, s)
    ax.set_ylabel("packets/s")
    ax.set_title("Packets per second")
    ax.set_ylim(bottom=0)


def _draw_marks(ax: Any, data: ReportData, call: CallData,
                series: list[tuple[int, Stream, WindowSeries | None]], m: marks.CallMarks,
                lo: float, hi: float, *, rtp: bool) -> None:
    """The marks strip: losses, gaps, packets of sparse non-RTP flows, ICMP."""
    ticks, labels = [], []
    row = 0
    for k, s, ws in series:
        q = data.stream_quality(s)
        y = -row
        if q is not None and q.gaps.count:
            g0, gd = q.gaps.start_s, q.gaps.duration_s
            inside = (g0 + gd > lo) & (g0 < hi)
            bars = list(zip(g0[inside].tolist(), gd[inside].tolist(), strict=True))
            ax.broken_barh(bars, (y - 0.35, 0.7), facecolors=style.stream_colour(k),
                           alpha=0.35, lw=0)
        if q is not None and q.loss is not None and q.loss.lost:
            lt = q.loss.lost_time_s
            lt = downsample.events(lt[(lt >= lo) & (lt <= hi)], (lo, hi))
            ax.eventplot(lt, lineoffsets=y, linelengths=0.7, colors=style.LOSS_COLOUR,
                         linewidths=0.8)
        elif not _has_rtp(ws) and len(s.series) <= TICK_EVERY_PACKET:
            ax.eventplot(np.asarray(s.series.arrival_s), lineoffsets=y, linelengths=0.7,
                         colors=style.stream_colour(k), linewidths=0.8)
        for pos, t in m.cutoffs:
            if pos == k and t < hi:
                ax.broken_barh([(t, call.span_s[1] - t)], (y - 0.35, 0.7), facecolors="none",
                               edgecolors=style.CUTOFF_COLOUR, hatch="////", lw=0.6)
        ticks.append(y)
        labels.append(f"#{s.index}")
        row += 1
    if m.icmp_s.size:
        ax.eventplot(downsample.events(m.icmp_s, (lo, hi)), lineoffsets=-row,
                     linelengths=0.7, colors=style.BLACK, linewidths=0.8)
        ticks.append(-row)
        labels.append("ICMP")
        row += 1
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-row + 0.5, 0.5)
    ax.grid(False, axis="y")
    what = ["lost packets (red ticks)"] if rtp else []
    what.append("arrival gaps (bars)")
    if m.cutoffs:
        what.append("after a cut-off (hatched)")
    if sum(1 for _, _, ws in series if ws is not None and _has_rtp(ws)) < len(series):
        what.append("packets of non-RTP flows (ticks)")
    if m.icmp_s.size:
        what.append("ICMP unreachable (black)")
    ax.set_title("Marks: " + ", ".join(what))


def _time_axis(axes: dict[str, Any], panels: tuple[str, ...], m: marks.CallMarks,
               lo: float, hi: float) -> None:
    """The shared time axis: evidence shading, limits, one label, onset/cut-off marks."""
    pad = (hi - lo) * 0.01
    for p, ax in axes.items():
        marks.shade(ax, m)
        ax.set_xlim(lo - pad, hi + pad)
        if p != panels[-1]:
            ax.tick_params(labelbottom=False)
    axes[panels[-1]].set_xlabel("time since the start of the capture (s)")
    axes[panels[-1]].ticklabel_format(axis="x", useOffset=False, style="plain")
    for _, t in m.cutoffs:
        if not lo <= t <= hi:
            continue
        axes["rate"].annotate("cut-off", (t, 1.0), xycoords=("data", "axes fraction"),
                              xytext=(3, -2), textcoords="offset points", va="top",
                              fontsize=style.BASE_FONT_PT - 1.5)
    for t in m.onsets:
        if not lo <= t <= hi:
            continue
        axes["rate"].annotate("onset", (t, 1.0), xycoords=("data", "axes fraction"),
                              xytext=(3, -2), textcoords="offset points", va="top",
                              color=style.ONSET_COLOUR, fontsize=style.BASE_FONT_PT - 1.5)


FLOW_COLUMNS = (
    tables.Column("#", 0.35, "right"),
    tables.Column("Flow", 2.9),
    tables.Column("Kind", 0.75),
    tables.Column("Packets", 0.6, "right"),
    tables.Column("Every (median)", 0.75, "right"),
    tables.Column("Replies", 0.6, "right"),
    tables.Column("ICMP errors", 0.65, "right"),
)


def _flows_table(fig: Any, data: ReportData, call: CallData, top_frac: float) -> None:
    """Below the panels of a call without RTP: what each flow sent and what came back."""
    w_in, h_in = fig.get_size_inches()
    y = (1.0 - top_frac) * h_in
    cap = data.capture
    icmp: dict[tuple[str, int, str, int], int] = {}
    for e in cap.icmp:
        key = (marks.addr(e.src), e.sport, marks.addr(e.dst), e.dport)
        icmp[key] = icmp.get(key, 0) + 1
    rows = []
    for s in call.streams:
        t = np.asarray(s.series.arrival_s, dtype=np.float64)
        every = text.fmt_s(float(np.median(np.diff(t))), 2) if t.size > 1 else "–"
        rev = cap.streams[s.reverse] if s.reverse is not None else None
        rows.append([f"{s.index}", s.label, s.kind, text.fmt_num(len(s.series)), every,
                     text.fmt_num(len(rev.series)) if rev is not None else "0",
                     text.fmt_num(icmp.get((s.src, s.sport, s.dst, s.dport), 0))])
    fig.text(0.1, 1.0 - y / h_in, "What each flow sent, and what came back", va="top",
             fontsize=style.BASE_FONT_PT + 1, fontweight="bold")
    y = tables.draw_table(fig, 0.1 * w_in, y + 0.3, FLOW_COLUMNS, rows, font_pt=8)
    note = ("Loss, jitter, concealment and MOS need RTP sequence numbers and timestamps; "
            "these flows carry none (encrypted or Telegram media, or connection attempts "
            "only), so only their timing is shown. 'Replies': packets on the same flow in "
            "the other direction.")
    fig.text(0.1, 1.0 - (y + 0.12) / h_in,
             "\n".join(text.wrap(note, tables.chars_for(0.8 * w_in, 8, tables.PROSE_EM))),
             va="top", fontsize=8, color=style.GREY, linespacing=tables.LINE_SPACING)


def _zero_visible(ax: Any, least_top: float = 5.0) -> None:
    """A percentage axis from 0 whose zero line is not hidden under the axis."""
    top = max(least_top, float(ax.get_ylim()[1]))
    ax.set_ylim(-0.03 * top, top)


def _draw_rtp_panels(axes: dict[str, Any], data: ReportData,
                     rtp: list[tuple[int, Stream, WindowSeries]], buffer: str,
                     view: tuple[float, float] | None) -> None:
    ax = axes["loss"]
    for k, s, ws in rtp:
        _line(ax, ws, 100.0 * ws.loss_fraction, k, view, s)
    ax.set_ylabel("% lost")
    ax.set_title("Lost packets (share of expected)")
    _zero_visible(ax)

    ax = axes["jitter"]
    drew = False
    for k, s, ws in rtp:
        drew |= _line(ax, ws, 1000.0 * np.asarray(ws.jitter_s, dtype=float), k, view, s)
    ax.set_ylabel("ms")
    ax.set_title("Jitter (RFC 3550, at the end of each window)")
    if drew:
        ax.set_ylim(bottom=0)
    else:
        style.no_data(ax, "no RTP clock rate: jitter cannot be computed")

    buf = buffer.replace("_", " ").replace("ms", " ms")
    ax_c, ax_m = axes["concealed"], axes["mos"]
    drew_c = drew_m = False
    relative = False
    for k, s, ws in rtp:
        c = _column(ws, f"concealed_{buffer}")
        mo = _column(ws, f"mos_{buffer}")
        if c is not None:
            drew_c |= _line(ax_c, ws, 100.0 * c, k, view, s)
        if mo is not None:
            drew_m |= _line(ax_m, ws, mo, k, view, s)
        q = data.stream_quality(s)
        relative |= bool(q is not None and q.relative_index)
    ax_c.set_ylabel("% concealed")
    ax_c.set_title(f"Sound the receiver had to invent (simulated {buf} jitter buffer)")
    if drew_c:
        _zero_visible(ax_c)
    else:
        style.no_data(ax_c, "no frame interval: the jitter buffer cannot be simulated")
    ax_m.set_ylabel("MOS")
    ax_m.set_title("MOS after that buffer (E-model"
                   + (", a relative index for this codec" if relative else "") + ")")
    if drew_m:
        ax_m.set_ylim(1.0, 4.6)
    else:
        style.no_data(ax_m, "no frame interval: no MOS")


def _stream_legend_label(data: ReportData, s: Stream) -> str:
    label = data.describe(s)
    if s.reverse is None and s.kind != "rtp":
        label += ": no reply seen"
    return label


def _subtitle_lines(data: ReportData, call: CallData, window_s: float,
                    view: tuple[float, float] | None) -> list[str]:
    lo, hi = view or call.span_s
    sub = (f"{text.fmt_s(lo)} to {text.fmt_s(hi)} ({text.fmt_duration(hi - lo)}"
           + (" of the call" if view is None else
              f" of {text.fmt_duration(call.span_s[1] - call.span_s[0])}")
           + f"); values per {window_s:g} s window")
    verdict = data.call_verdict(call)
    if verdict:
        sub += f"; verdict on this call: {verdict}"
        if data.verdict and data.verdict != verdict:
            sub += f" (on the capture: {data.verdict})"
    if call.hidden_streams:
        sub += (f"; the {call.hidden_streams} quietest media streams are not drawn "
                "(see the stream table)")
    return text.wrap(sub, SUBTITLE_CHARS)


def _header(fig: Any, data: ReportData, call: CallData, m: marks.CallMarks,
            window_s: float, view: tuple[float, float] | None) -> None:
    from matplotlib.lines import Line2D

    h_in = float(fig.get_size_inches()[1])
    what = "timeline" if view is None else "timeline in detail"
    fig.text(0.03, 1 - 0.17 / h_in, f"{call.title}: {what}", fontsize=14,
             fontweight="bold", va="top")
    sub = _subtitle_lines(data, call, window_s, view)
    fig.text(0.03, 1 - 0.44 / h_in, "\n".join(sub), fontsize=style.BASE_FONT_PT, va="top",
             color=style.GREY, linespacing=1.3)
    streams = [Line2D([], [], color=style.stream_colour(k), ls=style.stream_style(k),
                      label=_stream_legend_label(data, s))
               for k, s in enumerate(call.streams)]
    y = 1.0 - (0.55 + SUBTITLE_LINE_IN * len(sub)) / h_in
    if streams:
        fig.legend(handles=streams, loc="upper left", bbox_to_anchor=(0.025, y), ncol=1,
                   fontsize=style.BASE_FONT_PT - 0.5, handlelength=2.6, borderaxespad=0)
        y -= LEGEND_ROW_IN * len(streams) / h_in
    extra = marks.legend_handles(m)
    if extra:
        fig.legend(handles=extra, loc="upper left", bbox_to_anchor=(0.025, y),
                   ncol=MARK_COLUMNS, fontsize=style.BASE_FONT_PT - 0.5, handlelength=2.6,
                   columnspacing=1.5, borderaxespad=0)


LEGEND_ROW_IN = 0.19
MARK_COLUMNS = 2
SUBTITLE_CHARS = 125
SUBTITLE_LINE_IN = 0.165


def header_height_in(data: ReportData, call: CallData, m: marks.CallMarks,
                     window_s: float, view: tuple[float, float] | None) -> float:
    """Title, subtitle and the two legends (streams one per row, marks two per row)."""
    n_marks = len(marks.legend_handles(m))
    rows = len(call.streams) + -(-n_marks // MARK_COLUMNS)
    return (0.55 + SUBTITLE_LINE_IN * len(_subtitle_lines(data, call, window_s, view))
            + LEGEND_ROW_IN * rows)


def timeline_figure(data: ReportData, call: int = 0, *, buffer: str = TIMELINE_BUFFER,
                    view: tuple[float, float] | None = None,
                    window_s: float | None = None) -> Figure:
    """The timeline of ``data.calls[call]`` as a standalone A4 portrait figure; ``view``
    (start, end in seconds) zooms in, ``window_s`` sets the drawn window length."""
    with style.report_style():
        fig = style.new_figure(style.A4_PORTRAIT)
        draw_timeline(fig, data, data.calls[call], buffer=buffer, view=view,
                      window_s=window_s)
    return fig
