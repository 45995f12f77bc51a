"""``summary.pdf`` of a batch: the population statistics a reader can follow.

Pages: (1) what was found, in words, and every group's figures; (2) the share of calls
degraded and deliberate-looking per group with 95 % Wilson intervals beside each group's
control; (3) the daily share of deliberate-looking calls per series, with the onset day and
its interval; (4) the density of the cap rates of the flagged groups against their
controls, peaks marked; (5) when the interference began inside each call, seconds against
bytes (a time-based trigger lines up vertically, a byte-based one horizontally).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.atomic import atomic_write
from analyzer.population.rates import density_curve
from analyzer.population.rows import is_deliberate, truthy
from analyzer.population.summary import Group, Population, group_value
from analyzer.report import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_BARS = 40  # groups drawn on the bar chart (flagged first)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def _ci(iv: Sequence[float]) -> str:
    return f"{100 * iv[0]:.0f}–{100 * iv[1]:.0f} %"


def _p(p: float | None) -> str:
    return "n/a" if p is None else (f"{p:.1e}" if p < 1e-3 else f"{p:.3f}")


def describe(g: Group) -> list[str]:
    """What a flagged group's statistics say, in sentences."""
    lines = [f"{g.label}: {_pct(g.deliberate.share)} of {g.deliberate.n} calls look "
             f"deliberately degraded (95 % CI {_ci(g.deliberate.interval)})"]
    if g.control is not None and g.deliberate_vs_control is not None:
        d = g.deliberate_vs_control
        lines.append(f"    against {_pct(g.control.deliberate.share)} of "
                     f"{g.control.deliberate.n} calls in its control ({g.control.description}"
                     f"): difference {100 * d.difference:+.0f} points (CI "
                     f"{100 * d.interval[0]:+.0f} to {100 * d.interval[1]:+.0f}), Cohen's h "
                     f"{d.cohens_h:.2f}, Fisher p {_p(d.pvalue)}, Holm-adjusted "
                     f"{_p(d.adjusted_pvalue)}")
    peak = next((p for p in g.rate_peaks if p.affected_only), None)
    if peak is not None:
        lines.append(f"    cap rate {peak.rate_bps / 1000:.1f} kbit/s at the IP layer (95 % "
                     f"CI {peak.interval[0] / 1000:.1f}–{peak.interval[1] / 1000:.1f}; "
                     f"{peak.calls} calls), a density peak absent from the control")
    if g.onset is not None:
        lines.append(f"    began on {g.onset.day} (interval {g.onset.interval[0]} to "
                     f"{g.onset.interval[1]}; share {_pct(g.onset.share_before)} before, "
                     f"{_pct(g.onset.share_after)} after; permutation p {_p(g.onset.pvalue)})")
    if g.trigger is not None and g.trigger.median_s is not None:
        t = g.trigger
        lines.append(f"    inside a call: {t.kind} trigger - onset at {t.median_s:.1f} s "
                     f"(spread {_pct(t.spread_s)}) and {(t.median_bytes or 0) / 1000:.0f} kB "
                     f"(spread {_pct(t.spread_bytes)}) into the stream, {t.calls} calls")
    return lines


def _text_page(pop: Population | None, calls: Sequence[Mapping[str, Any]]) -> Figure:
    mpl_fig = _figure(style.A4_PORTRAIT)
    lines = ["Population summary", ""]
    if pop is None:
        lines.append("No call was analysed: nothing to summarise.")
    else:
        lines.append(f"{pop.calls} calls in {len({c.get('capture') for c in calls})} captures,"
                     f" grouped by {' × '.join(pop.group_by)}; a call looks deliberately "
                     "degraded when its analysis says interference is likely (or, without "
                     "that, a rate cap, periodic drops, a cut-off or a blocked setup is found).")
        lines.append(f"Each group is compared with its control (the same group over a VPN, "
                     f"else the other apps on the same vantage) by Fisher's exact test, "
                     f"Holm-corrected across {len(pop.groups)} groups; flagged when the "
                     f"adjusted p < {pop.settings.get('alpha')} and the difference is at least "
                     f"{100 * float(pop.settings.get('min_difference', 0)):.0f} points.")
        lines.append("")
        if pop.flagged:
            lines.append(f"Flagged: {len(pop.flagged)} group(s).")
            for g in pop.flagged:
                lines += describe(g)
        else:
            lines.append("No group is flagged: no group's share of deliberate-looking calls "
                         "stands out from its control.")
        lines += ["", "Every group (deliberate-looking share, 95 % CI; control; adjusted p):"]
        for g in pop.groups[:60]:
            c = g.control.deliberate if g.control else None
            adj = g.deliberate_vs_control.adjusted_pvalue if g.deliberate_vs_control else None
            lines.append(f"  {'*' if g.flagged else ' '} {g.label}: {g.deliberate.k}/"
                         f"{g.deliberate.n} = {_pct(g.deliberate.share)} "
                         f"({_ci(g.deliberate.interval)}); control "
                         f"{'n/a' if c is None else f'{c.k}/{c.n}'}; p {_p(adj)}")
        if len(pop.groups) > 60:
            lines.append(f"  ... and {len(pop.groups) - 60} more (population.json)")
    import textwrap
    wrapped = [w for line in lines for w in (textwrap.wrap(line, 110,
               subsequent_indent="      " if line.startswith("    ") else "") or [""])]
    mpl_fig.text(0.06, 0.96, "\n".join(wrapped[:95]), va="top", ha="left", fontsize=7.5,
                 family="monospace")
    return mpl_fig


def _figure(size: tuple[float, float]) -> Figure:
    style.mpl()
    from matplotlib.figure import Figure
    return Figure(figsize=size)


def _bars(pop: Population) -> Figure:
    groups = sorted(pop.groups, key=lambda g: (not g.flagged, g.label))[:MAX_BARS]
    fig = _figure(style.A4_LANDSCAPE)
    ax = fig.add_subplot(1, 1, 1)
    y = list(range(len(groups)))[::-1]
    h = 0.38
    for offset, attr, colour, name in ((h / 2, "deliberate", style.VERMILLION,
                                        "deliberate-looking"),
                                       (-h / 2, "degraded", style.SKY_BLUE, "degraded")):
        shares = [getattr(g, attr) for g in groups]
        vals = [s.share or 0.0 for s in shares]
        # rounding can put a share a hair outside its own interval: error bars are >= 0
        err = [[max(0.0, v - s.interval[0]) for v, s in zip(vals, shares, strict=True)],
               [max(0.0, s.interval[1] - v) for v, s in zip(vals, shares, strict=True)]]
        ax.barh([v + offset for v in y], vals, height=h, color=colour, xerr=err,
                error_kw={"elinewidth": 0.8, "capsize": 2}, label=f"{name} (95 % CI)")
        ctl = [getattr(g.control, attr).share if g.control else None for g in groups]
        ax.plot([c for c in ctl if c is not None],
                [v + offset for v, c in zip(y, ctl, strict=True) if c is not None], "|",
                color=style.BLACK, markersize=9, markeredgewidth=1.5,
                label=f"control's {name} share" if attr == "deliberate" else None)
    ax.set_yticks(y, [("* " if g.flagged else "") + g.label for g in groups])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of calls")
    ax.set_title("Share of calls degraded and deliberate-looking per group (* flagged)")
    ax.legend(loc="lower right")
    fig.subplots_adjust(left=0.3, right=0.97, top=0.93, bottom=0.08)
    return fig


def _timeline(pop: Population) -> Figure:
    fig = _figure(style.A4_LANDSCAPE)
    ax = fig.add_subplot(1, 1, 1)
    flagged_series = {tuple(g.keys.get(k) for k in s.keys) for s in pop.series
                      for g in pop.flagged if all(g.keys.get(k) == v for k, v in s.keys.items())}
    days = sorted({d for s in pop.series for d in s.days})
    index = {d: i for i, d in enumerate(days)}
    colours = iter(style.STREAM_COLOURS)
    for s in pop.series:
        x = [index[d] for d in s.days]
        share = [k / n if n else 0 for k, n in zip(s.k, s.n, strict=True)]
        hot = tuple(s.keys.values()) in flagged_series
        colour = next(colours, style.BLACK) if hot else style.GREY
        ax.plot(x, share, "o-" if hot else ".-", color=colour, alpha=1 if hot else 0.5,
                label=s.label if hot else None, markersize=4)
        if hot and s.change is not None:
            lo, hi = index[s.change.interval[0]], index[s.change.interval[1]]
            ax.axvspan(lo - 0.5, hi - 0.5 if hi > lo else lo + 0.1 - 0.5, color=colour,
                       alpha=0.12)
            ax.axvline(index[s.change.day] - 0.5, color=colour, ls="--")
            ax.annotate(f"onset {s.change.day}", (index[s.change.day] - 0.45, 1.02),
                        color=colour, fontsize=8)
    ax.plot([], [], ".-", color=style.GREY, label="other series")
    ax.set_xticks(range(len(days)), [d[5:] for d in days], rotation=45 if len(days) > 12
                  else 0)
    ax.set_ylim(-0.02, 1.08)
    ax.set_xlabel("day (month-day)")
    ax.set_ylabel("share of calls deliberate-looking")
    ax.set_title("Daily share of deliberate-looking calls; dashed: onset day (shaded: its "
                 "interval)")
    ax.legend(loc="center left")
    fig.subplots_adjust(left=0.08, right=0.97, top=0.92, bottom=0.1)
    return fig


def _rates(pop: Population, calls: Sequence[Mapping[str, Any]]) -> Figure:
    fig = _figure(style.A4_LANDSCAPE)
    ax = fig.add_subplot(1, 1, 1)
    shown = False
    colours = iter(style.STREAM_COLOURS)
    for g in pop.flagged:
        mine = [float(c["cap_rate_bps"]) for c in calls if _member(c, g)
                and is_deliberate(c) and c.get("cap_rate_bps") is not None]
        if not mine:
            continue
        others = [float(c["cap_rate_bps"]) for c in calls if not _member(c, g)
                  and c.get("cap_rate_bps") is not None]
        grid, dens, cdens = density_curve(mine, others)
        colour = next(colours, style.BLACK)
        ax.plot(grid / 1000, dens * 1000, color=colour, label=f"{g.label} ({len(mine)} calls)")
        ax.plot(grid / 1000, cdens * 1000, color=colour, ls=":",
                label=f"every other group ({len(others)} calls with a cap)")
        for p in g.rate_peaks[:3]:
            ax.axvspan(p.interval[0] / 1000, p.interval[1] / 1000, color=colour, alpha=0.15)
            ax.annotate(f"{p.rate_bps / 1000:.1f} kbit/s"
                        + ("" if p.affected_only else " (also in control)"),
                        (p.rate_bps / 1000, p.density * 1000), color=colour, fontsize=8,
                        xytext=(4, 4), textcoords="offset points")
        shown = True
    if not shown:
        every = [float(c["cap_rate_bps"]) for c in calls if c.get("cap_rate_bps") is not None]
        if every:
            grid, dens, _ = density_curve(every)
            ax.plot(grid / 1000, dens * 1000, color=style.GREY,
                    label=f"every call with a cap ({len(every)})")
        ax.text(0.5, 0.5, "no group flagged", transform=ax.transAxes, ha="center",
                color=style.GREY)
    ax.set_xlabel("delivered rate under the cap, kbit/s (IP layer)")
    ax.set_ylabel("calls per kbit/s (kernel density)")
    ax.set_title("Cap rates pooled across calls: peaks of the flagged group (shaded: 95 % "
                 "interval of the peak)")
    ax.legend(loc="upper right")
    fig.subplots_adjust(left=0.08, right=0.97, top=0.92, bottom=0.1)
    return fig


def _trigger(pop: Population, calls: Sequence[Mapping[str, Any]]) -> Figure:
    fig = _figure(style.A4_LANDSCAPE)
    ax = fig.add_subplot(1, 1, 1)
    colours = iter(style.STREAM_COLOURS)
    drawn = False
    for g in pop.flagged:
        pts = [(float(c["onset_after_s"]), float(c["onset_after_bytes"]) / 1000)
               for c in calls if _member(c, g) and is_deliberate(c)
               and c.get("onset_after_s") is not None
               and c.get("onset_after_bytes") is not None]
        if not pts:
            continue
        kind = g.trigger.kind if g.trigger else "undetermined"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", color=next(colours,
                style.BLACK), alpha=0.6, markersize=4, label=f"{g.label}: {kind} trigger")
        drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "no flagged group with onsets", transform=ax.transAxes,
                ha="center", color=style.GREY)
    else:
        ax.legend(loc="upper left")
        ax.set_xlim(left=0)  # from zero: a fixed time shows as a vertical line
        ax.set_ylim(bottom=0)
    ax.set_xlabel("onset: seconds into the stream")
    ax.set_ylabel("onset: kB of the stream before it (IP layer)")
    ax.set_title("When the interference began inside each call: a vertical line of points is "
                 "a time trigger, a horizontal one a byte trigger")
    fig.subplots_adjust(left=0.08, right=0.97, top=0.92, bottom=0.1)
    return fig


def _member(row: Mapping[str, Any], g: Group) -> bool:
    return not truthy(row.get("vpn")) and all(group_value(row, k) == v
                                             for k, v in g.keys.items())


def figures(pop: Population | None, calls: Sequence[Mapping[str, Any]]) -> list[Figure]:
    """The summary's pages as figures."""
    pages = [_text_page(pop, calls)]
    if pop is not None:
        pages += [_bars(pop), _timeline(pop), _rates(pop, calls), _trigger(pop, calls)]
    return pages


def write_summary(pop: Population | None, calls: Sequence[Mapping[str, Any]],
                  path: str | os.PathLike[str]) -> Path:
    """Write the population summary PDF (whole, or not at all)."""
    style.mpl()
    from matplotlib.backends.backend_pdf import PdfPages

    from analyzer.version import __version__
    out = Path(path)
    metadata = {"Title": "Population summary", "Creator": f"analyzer {__version__}",
                "CreationDate": None, "ModDate": None}
    with atomic_write(out, "wb") as fh, style.report_style(), \
            PdfPages(fh, metadata=metadata) as pdf:
        for number, fig in enumerate(figures(pop, calls), start=1):
            fig.text(0.99, 0.01, f"analyzer {__version__} · population summary · page "
                     f"{number}", ha="right", fontsize=7, color=style.GREY)
            pdf.savefig(fig)
    return out
