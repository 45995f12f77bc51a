"""The call against its baseline: distributions, loss runs and delivered rate.

* CDFs of per-window loss (%), per-window jitter (ms) and per-packet inter-arrival time
  (ms, log scale), each call direction against the baseline stream going the same way;
* the loss-run histogram (how many runs of 1, 2, ... 10+ consecutive lost packets);
* the delivered bit rate over the time since each call started (call and baseline aligned
  on their starts; the baseline drawn on top, dotted and half transparent).

Without a baseline the call's curves are drawn alone (the directions still compare with
each other). Statistics use every window and every packet; only the drawn curves are
thinned.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.metrics.losspattern import RUN_BUCKET_LABELS
from analyzer.report import downsample, marks, style, text
from analyzer.report.timeline import LEGEND_ROW_IN, ip_rate_kbps, window_steps

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from analyzer.metrics.windows import WindowSeries
    from analyzer.report.data import CallData, ReportData
    from analyzer.streams.model import Stream

BASELINE_ALPHA = 0.75
BASELINE_LW = 2.2


def _pairs(data: ReportData, call: CallData
           ) -> list[tuple[int, Stream, Stream | None]]:
    return [(k, s, call.baseline_streams[k] if k < len(call.baseline_streams) else None)
            for k, s in enumerate(call.streams)]


def _cdf(ax: Any, values: np.ndarray, k: int, baseline: bool) -> bool:
    x, p = downsample.cdf_points(values)
    if x.size == 0:
        return False
    if baseline:
        ax.step(x, p, where="post", color=style.stream_colour(k), ls=style.BASELINE_STYLE,
                lw=BASELINE_LW, alpha=BASELINE_ALPHA, zorder=4)
    else:
        ax.step(x, p, where="post", color=style.stream_colour(k), ls="-", lw=1.4, zorder=3)
    return True


def _window_values(data: ReportData, s: Stream | None, baseline: bool, what: str
                   ) -> np.ndarray:
    if s is None:
        return np.zeros(0)
    ws = data.windows(s, baseline=baseline)
    if ws is None:
        return np.zeros(0)
    if what == "loss":
        return 100.0 * np.asarray(ws.loss_fraction, dtype=np.float64)
    return 1000.0 * np.asarray(ws.jitter_s, dtype=np.float64)


def _cdf_panel(ax: Any, data: ReportData, call: CallData, what: str) -> None:
    drew = False
    for k, s, b in _pairs(data, call):
        drew |= _cdf(ax, _window_values(data, s, False, what), k, False)
        drew |= _cdf(ax, _window_values(data, b, True, what), k, True)
    if what == "loss":
        ax.set_title("Loss per window")
        ax.set_xlabel("lost packets per window (%)")
    else:
        ax.set_title("Jitter per window")
        ax.set_xlabel("RFC 3550 jitter at the window's end (ms)")
    ax.set_ylabel("share of windows ≤ x")
    ax.set_ylim(0, 1.02)
    if not drew:
        style.no_data(ax, "needs RTP streams")
        return
    lo, hi = ax.get_xlim()
    top = max(hi, 1.0 if what == "loss" else 0.1)
    ax.set_xlim(max(lo, -0.02 * top), top)  # all-zero loss: no negative percentages


def draw_loss_cdf(ax: Any, data: ReportData, call: CallData) -> None:
    """CDF of the per-window loss (%) of each direction and its baseline."""
    _cdf_panel(ax, data, call, "loss")


def draw_jitter_cdf(ax: Any, data: ReportData, call: CallData) -> None:
    """CDF of the per-window RFC 3550 jitter (ms) of each direction and its baseline."""
    _cdf_panel(ax, data, call, "jitter")


def _interarrival_ms(s: Stream | None) -> np.ndarray:
    if s is None or len(s.series) < 2:
        return np.zeros(0)
    d = np.diff(np.asarray(s.series.arrival_s, dtype=np.float64)) * 1000.0
    return d[d > 0]


#: Tick values of log axes in ms, labelled as plain numbers (not 2×10¹).
LOG_TICKS_MS = (0.01, 0.1, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
                20000, 60000)


#: At most this many ticks on a log axis (labels of 1-2-5 steps crowd on a narrow panel).
MAX_LOG_TICKS = 6


def log_ticks(lo: float, hi: float, most: int = MAX_LOG_TICKS) -> list[float]:
    """Ticks of :data:`LOG_TICKS_MS` inside ``[lo, hi]``, powers of ten first, none closer
    than 1/``most`` of the axis to another (so that their labels never overlap)."""
    inside = [t for t in LOG_TICKS_MS if lo <= t <= hi]
    if len(inside) < 2:
        return inside
    gap = math.log10(hi / lo) / most
    ranked = sorted(inside, key=lambda t: (not math.log10(t).is_integer(), t))
    chosen: list[float] = []
    for t in ranked:
        if all(abs(math.log10(t / c)) >= gap for c in chosen):
            chosen.append(t)
    return sorted(chosen)


def _plain_log_ticks(ax: Any) -> None:
    lo, hi = ax.get_xlim()
    ticks = log_ticks(lo, hi)
    if len(ticks) >= 2:
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_locator(_null_locator())


def _null_locator() -> Any:
    from matplotlib.ticker import NullLocator

    return NullLocator()


def draw_interarrival_cdf(ax: Any, data: ReportData, call: CallData) -> None:
    """CDF of the time between consecutive packets (ms, log axis)."""
    drew = False
    most = 0
    for k, s, b in _pairs(data, call):
        for stream, is_base in ((s, False), (b, True)):
            v = _interarrival_ms(stream)
            drew |= _cdf(ax, v, k, is_base)
            most = max(most, v.size)
    ax.set_title("Time between packets")
    ax.set_xlabel("inter-arrival time (ms, log scale)")
    if not drew:
        ax.set_ylabel("share of packets ≤ x")
        style.no_data(ax, "too few packets")
        return
    ax.set_xscale("log")
    _plain_log_ticks(ax)
    if most < 2:  # a single value: nothing to stretch
        ax.set_ylabel("share of packets ≤ x")
        ax.set_ylim(0, 1.02)
        return
    # the logit scale stretches both ends: the rare long gaps show
    ax.set_ylabel("share of packets ≤ x (logit scale)")
    ax.set_yscale("logit", nonpositive="clip")
    ax.set_ylim(0.0008, 0.9995)
    ticks = (0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999)
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_locator(_null_locator())


def draw_loss_runs(ax: Any, data: ReportData, call: CallData) -> None:
    """Histogram of runs of consecutive lost packets (1..9, 10+), call and baseline."""
    rows: list[tuple[int, bool, int, tuple[int, ...]]] = []
    for k, s, b in _pairs(data, call):
        for stream, is_base in ((s, False), (b, True)):
            if stream is None:
                continue
            q = data.stream_quality(stream, baseline=is_base)
            if q is not None and q.loss is not None:
                rows.append((k, is_base, stream.index, q.loss.run_histogram))
    ax.set_title("Runs of consecutive lost packets")
    ax.set_xlabel("run length (packets lost in a row)")
    ax.set_ylabel("number of runs")
    if not rows:
        style.no_data(ax, "needs RTP streams")
        return
    n = len(rows)
    width = 0.8 / n
    x = np.arange(len(RUN_BUCKET_LABELS), dtype=np.float64)
    for i, (k, is_base, _idx, counts) in enumerate(rows):
        c = style.stream_colour(k)
        ax.bar(x - 0.4 + width * (i + 0.5), counts, width=width * 0.95,
               color="white" if is_base else c, edgecolor=c, hatch="////" if is_base else None,
               lw=0.8)
    ax.set_xticks(x, RUN_BUCKET_LABELS)
    ax.grid(False, axis="x")
    none = [f"{'baseline' if is_base else 'call'} #{idx}"
            for _k, is_base, idx, c in rows if sum(c) == 0]
    if len(none) == len(rows):
        ax.set_ylim(0, 1)
    else:
        ax.set_ylim(0, float(ax.get_ylim()[1]) * 1.3)  # room for the note
    if none:
        note = "\n".join(text.wrap("no packet lost: " + ", ".join(none), 34))
        ax.text(0.02, 0.97, note, transform=ax.transAxes, va="top",
                fontsize=style.BASE_FONT_PT - 1, color=style.GREY)


def call_start_s(data: ReportData, call: CallData) -> float:
    """When the call started, in seconds from its capture's first packet."""
    if call.call is not None:
        return float(call.call.start_s)
    return float(call.span_s[0])


def baseline_start_s(data: ReportData, stream: Stream) -> float:
    """When the baseline call a baseline stream belongs to started (its first packet when
    it belongs to none), in seconds from the baseline capture's first packet."""
    cap = data.baseline
    if cap is not None and stream.call is not None:
        calls = [c for c in cap.calls if c.index == stream.call]
        if calls:
            return float(calls[0].start_s)
    return float(stream.series.arrival_s[0]) if len(stream.series) else 0.0


def draw_rate(ax: Any, data: ReportData, call: CallData) -> None:
    """Delivered bit rate over the time since each call started: the call and its
    baseline aligned on their starts, the baseline drawn over the call (thick, dotted,
    half transparent) so that it stays visible where the two coincide."""
    t0 = call_start_s(data, call)
    m = marks.call_marks(data, call).shifted(t0)
    drew = False
    for k, s, b in _pairs(data, call):
        for stream, is_base in ((s, False), (b, True)):
            if stream is None:
                continue
            ws: WindowSeries | None = data.windows(stream, baseline=is_base)
            if ws is None:
                continue
            start = baseline_start_s(data, stream) if is_base else t0
            drew |= window_steps(ax, np.asarray(ws.start_s) - start,
                                 ip_rate_kbps(ws, stream), ws.window_s,
                                 colour=style.stream_colour(k),
                                 ls=style.BASELINE_STYLE if is_base else "-",
                                 lw=BASELINE_LW if is_base else 1.3,
                                 zorder=4 if is_base else 3, alpha=BASELINE_ALPHA
                                 if is_base else None)
    for cap in m.caps:
        ax.hlines(cap.rate_bps / 1000.0, cap.from_s, cap.to_s, color=style.CAP_COLOUR,
                  ls=(0, (4, 2)), lw=1.6, zorder=5)
    marks.shade(ax, m)
    ax.set_title("Delivered bit rate over time (IP layer)")
    ax.set_xlabel("time since each call started (s): the call and its baseline aligned")
    ax.set_ylabel("kbit/s")
    if drew:
        ax.set_ylim(bottom=0, top=float(ax.get_ylim()[1]) * 1.1)
        ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
    else:
        style.no_data(ax, "no packets")


def legend_handles(data: ReportData, call: CallData, *, bars: bool = False) -> list[Any]:
    """Call and baseline streams (as lines, or as bars for the loss-run histogram)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out: list[Any] = []
    for k, s, b in _pairs(data, call):
        c = style.stream_colour(k)
        call_label = f"call {data.describe(s)}"
        out.append(Patch(facecolor=c, edgecolor=c, label=call_label) if bars else
                   Line2D([], [], color=c, ls="-", lw=1.4, label=call_label))
        if b is not None:
            base_label = f"baseline #{b.index}:  {b.label}"
            out.append(Patch(facecolor="white", edgecolor=c, hatch="////", label=base_label)
                       if bars else Line2D([], [], color=c, ls=style.BASELINE_STYLE, lw=1.8,
                                           label=base_label))
    return out


def baseline_note(data: ReportData, call: CallData) -> str:
    if data.baseline is None:
        return ("No baseline capture was given: the call's own directions are drawn "
                "(one direction's curves can still be compared with the other's).")
    b = data.baseline
    matched = sum(x is not None for x in call.baseline_streams)
    return (f"Baseline: {b.path} ({text.fmt_duration(b.duration_s)}, "
            f"{text.fmt_num(b.packets)} packets); {matched} of the call's "
            f"{len(call.streams)} drawn streams matched to a baseline stream going the "
            "same way (dotted, same colour).")


def draw_compare_page(fig: Figure | SubFigure, data: ReportData, call: CallData) -> None:
    """The "against the baseline" page of one call."""
    fig.text(0.03, 0.985, f"{call.title}: against the baseline", fontsize=14,
             fontweight="bold", va="top")
    fig.text(0.03, 0.962, "\n".join(text.wrap(baseline_note(data, call), 120)),
             fontsize=style.BASE_FONT_PT, va="top", color=style.GREY)
    h_in = float(fig.figure.get_size_inches()[1])
    note_lines = len(text.wrap(baseline_note(data, call), 120))
    y_in = 0.45 + 0.17 * note_lines
    streams = legend_handles(data, call)
    fig.legend(handles=streams, loc="upper left", bbox_to_anchor=(0.025, 1 - y_in / h_in),
               ncol=1, fontsize=style.BASE_FONT_PT - 0.5, handlelength=2.6, borderaxespad=0)
    y_in += LEGEND_ROW_IN * len(streams)
    extra = marks.legend_handles(marks.call_marks(data, call))
    if extra:
        fig.legend(handles=extra, loc="upper left", bbox_to_anchor=(0.025, 1 - y_in / h_in),
                   ncol=2, fontsize=style.BASE_FONT_PT - 0.5, handlelength=2.6,
                   columnspacing=1.5, borderaxespad=0)
        y_in += LEGEND_ROW_IN * -(-len(extra) // 2)
    gs = fig.add_gridspec(3, 2, left=0.09, right=0.97, top=1 - (y_in + 0.35) / h_in,
                          bottom=0.085,
                          hspace=0.5, wspace=0.28, height_ratios=[1, 1, 0.95])
    draw_loss_cdf(fig.add_subplot(gs[0, 0]), data, call)
    draw_jitter_cdf(fig.add_subplot(gs[0, 1]), data, call)
    draw_interarrival_cdf(fig.add_subplot(gs[1, 0]), data, call)
    draw_loss_runs(fig.add_subplot(gs[1, 1]), data, call)
    draw_rate(fig.add_subplot(gs[2, :]), data, call)


def _standalone(data: ReportData, call: CallData, size: tuple[float, float], title: str,
                ncols: int, *, bars: bool = False, with_marks: bool = False
                ) -> tuple[Figure, list[Any]]:
    """A figure of its own: title, ``ncols`` axes, the legend below (one entry a row: the
    stream labels are long)."""
    fig = style.new_figure(size, constrained=True)
    fig.suptitle(f"{call.title}: {title}", x=0.01, ha="left", fontsize=12,
                 fontweight="bold")
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    handles = legend_handles(data, call, bars=bars)
    if with_marks:
        handles += marks.legend_handles(marks.call_marks(data, call))
    fig.legend(handles=handles, loc="outside lower left", ncol=1,
               fontsize=style.BASE_FONT_PT - 0.5, handlelength=2.6)
    return fig, axes


def distributions_figure(data: ReportData, call: int = 0) -> Figure:
    """Per-window loss, per-window jitter and inter-arrival CDFs, call vs baseline."""
    cd = data.calls[call]
    with style.report_style():
        fig, (a, b, c) = _standalone(data, cd, (12.0, 5.2), "distributions against the "
                                     "baseline" if data.baseline else "distributions", 3)
        draw_loss_cdf(a, data, cd)
        draw_jitter_cdf(b, data, cd)
        draw_interarrival_cdf(c, data, cd)
    return fig


def loss_runs_figure(data: ReportData, call: int = 0) -> Figure:
    """The loss-run histogram of a call's directions and their baselines."""
    cd = data.calls[call]
    with style.report_style():
        fig, (a,) = _standalone(data, cd, (8.0, 5.4), "loss runs", 1, bars=True)
        draw_loss_runs(a, data, cd)
    return fig


def rate_figure(data: ReportData, call: int = 0) -> Figure:
    """The delivered bit rate over time, call vs baseline, with any estimated cap."""
    cd = data.calls[call]
    with style.report_style():
        fig, (a,) = _standalone(data, cd, (10.0, 5.6), "delivered bit rate", 1,
                                with_marks=True)
        draw_rate(a, data, cd)
    return fig
