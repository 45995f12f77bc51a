"""What the time axes of a call mark: evidence windows, onsets, cut-offs, rate caps and ICMP
errors, gathered from the findings and the quality metrics; and the helpers that draw
them the same way on every panel."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.report import findings as fnd
from analyzer.report import style

if TYPE_CHECKING:
    from analyzer.report.data import CallData, ReportData

#: Evidence windows closer than this share of the call's span are merged for drawing.
MERGE_FRACTION = 1.0 / 600
#: An evidence window longer than this share of the view is a "span" (drawn pale): a
#: loss finding covering the whole call must not hide the drop windows of another.
SPAN_FRACTION = 0.25


@dataclass(frozen=True)
class CapLine:
    stream_pos: int  # position of the stream in CallData.streams
    rate_bps: float
    from_s: float
    to_s: float
    label: str


@dataclass(frozen=True)
class CallMarks:
    evidence: tuple[tuple[float, float], ...]  # short windows: drops, bursts, cap windows
    spans: tuple[tuple[float, float], ...]  # long stretches a finding covers
    onsets: tuple[float, ...]
    cutoffs: tuple[tuple[int | None, float], ...]  # (stream position, time)
    caps: tuple[CapLine, ...]
    icmp_s: np.ndarray  # ICMP unreachable errors about the call's flows

    def shifted(self, by_s: float) -> CallMarks:
        """The same marks ``by_s`` seconds earlier (on a clock starting with the call)."""
        return CallMarks(
            evidence=tuple((a - by_s, b - by_s) for a, b in self.evidence),
            spans=tuple((a - by_s, b - by_s) for a, b in self.spans),
            onsets=tuple(t - by_s for t in self.onsets),
            cutoffs=tuple((k, t - by_s) for k, t in self.cutoffs),
            caps=tuple(replace(c, from_s=c.from_s - by_s, to_s=c.to_s - by_s)
                       for c in self.caps),
            icmp_s=self.icmp_s - by_s)


def _merge(windows: list[tuple[float, float]], slack: float) -> tuple[tuple[float, float], ...]:
    out: list[list[float]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1] + slack:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def addr(raw: bytes) -> str:
    """A 16-byte (IPv4-mapped) or 4-byte address as text."""
    ip = ipaddress.ip_address(raw) if len(raw) == 4 else ipaddress.IPv6Address(raw)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


#: Onsets closer than this (or than a pixel or so of the view) are drawn as one line.
ONSET_SAME_S = 0.5


def _cluster(times: list[float], tol: float) -> tuple[float, ...]:
    """The first time of each cluster of times closer than ``tol``."""
    out: list[float] = []
    for t in times:
        if not out or t - out[-1] > tol:
            out.append(t)
    return tuple(out)


#: Caps of several streams within this relative difference share one line and label.
CAP_SAME = 0.03


def _cap_lines(caps: list[tuple[int, float, float, float, int]]) -> tuple[CapLine, ...]:
    """One line per distinct cap (both directions capped alike: one line, one label)."""
    out: list[CapLine] = []
    groups: list[list[tuple[int, float, float, float, int]]] = []
    for c in sorted(caps, key=lambda c: (c[1], c[4])):
        if groups and abs(c[1] - groups[-1][0][1]) <= CAP_SAME * groups[-1][0][1]:
            groups[-1].append(c)
        else:
            groups.append([c])
    for g in groups:
        rate = float(sum(c[1] for c in g) / len(g))
        who = ", ".join(f"#{c[4]}" for c in sorted(g, key=lambda c: c[4]))
        out.append(CapLine(g[0][0], rate, min(c[2] for c in g), max(c[3] for c in g),
                           f"estimated cap {rate / 1000:.1f} kbit/s ({who})"))
    return tuple(out)


def icmp_times(data: ReportData, call: CallData) -> np.ndarray:
    """Times (s from capture start) of ICMP unreachable errors quoting the call's flows."""
    cap = data.capture
    if not cap.icmp:
        return np.zeros(0)
    flows = {(s.src, s.sport, s.dst, s.dport) for s in call.streams}
    t = [e.ts_ns / 1e9 - cap.start_epoch_s for e in cap.icmp
         if (addr(e.src), e.sport, addr(e.dst), e.dport) in flows]
    return np.asarray(t, dtype=np.float64)


def call_marks(data: ReportData, call: CallData,
               view: tuple[float, float] | None = None) -> CallMarks:
    """The marks of ``call``; evidence windows closer than a pixel or so of ``view`` (the
    whole call by default) are merged."""
    lo, hi = call.span_s
    evidence: list[tuple[float, float]] = []
    onsets: set[float] = set()
    cutoffs: dict[tuple[int | None, float], None] = {}
    caps: list[tuple[int, float, float, float, int]] = []  # pos, rate, from, to, stream
    for f in call.findings:
        evidence.extend(fnd.evidence_windows(f, data.analysis))
        s = fnd.stream_of(f, call.streams)
        pos = call.streams.index(s) if s is not None else None
        on = fnd.onset_s(f)
        pat = fnd.pattern(f)
        if pat == "cutoff":
            at = on if on is not None else fnd.span(f)[0]
            if at is not None:
                cutoffs[(pos, round(at, 3))] = None
        elif on is not None and pat != "blocked_setup":
            onsets.add(round(on, 2))
        rate = fnd.rate_bps(f)
        if pat == "rate_cap" and rate is not None and pos is not None and s is not None:
            a, b = fnd.span(f)
            start = on if on is not None else (a if a is not None else lo)
            caps.append((pos, rate, start, b if b is not None else hi, s.index))
    for pos, s in enumerate(call.streams):
        q = data.stream_quality(s)
        if q is not None and q.cutoff is not None:
            at = round(q.cutoff.at_s, 3)
            if not any(p == pos and abs(t - at) < 1.0 for p, t in cutoffs):
                cutoffs[(pos, at)] = None
    v_lo, v_hi = view or (lo, hi)
    slack = (v_hi - v_lo) * MERGE_FRACTION
    long = (v_hi - v_lo) * SPAN_FRACTION
    evidence = [(max(a, v_lo), min(b, v_hi)) for a, b in evidence if b > v_lo and a < v_hi]
    narrow = [w for w in evidence if w[1] - w[0] < long]
    broad = [w for w in evidence if w[1] - w[0] >= long]
    return CallMarks(evidence=_merge(narrow, slack), spans=_merge(broad, slack),
                     onsets=_cluster(sorted(onsets), max(ONSET_SAME_S, slack)),
                     cutoffs=tuple(sorted(cutoffs, key=lambda x: x[1])),
                     caps=_cap_lines(caps),
                     icmp_s=icmp_times(data, call))


def _bands(ax: Any, windows: tuple[tuple[float, float], ...], alpha: float) -> None:
    """Full-height bands over ``windows`` as one collection (thousands of windows draw
    as fast as one; the axes limits are not touched)."""
    if not windows:
        return
    from matplotlib.collections import PolyCollection

    verts = [((a, 0.0), (a, 1.0), (b, 1.0), (b, 0.0)) for a, b in windows]
    ax.add_collection(PolyCollection(verts, facecolors=style.EVIDENCE_COLOUR, alpha=alpha,
                                     linewidths=0, zorder=0,
                                     transform=ax.get_xaxis_transform()), autolim=False)


def shade(ax: Any, marks: CallMarks, *, lines: bool = True) -> None:
    """Evidence windows, onsets and cut-offs on one panel."""
    _bands(ax, marks.spans, style.SPAN_ALPHA)
    _bands(ax, marks.evidence, style.EVIDENCE_ALPHA)
    if not lines:
        return
    for t in marks.onsets:
        ax.axvline(t, color=style.ONSET_COLOUR, ls="--", lw=1.2, zorder=3)
    for _, t in marks.cutoffs:
        ax.axvline(t, color=style.CUTOFF_COLOUR, ls="-", lw=1.4, zorder=3)


def legend_handles(marks: CallMarks) -> list[Any]:
    """Legend entries for the marks present."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out: list[Any] = []
    if marks.evidence:
        out.append(Patch(facecolor=style.EVIDENCE_COLOUR, alpha=style.EVIDENCE_ALPHA,
                         label="evidence windows of a finding (drops, bursts...)"))
    if marks.spans:
        out.append(Patch(facecolor=style.EVIDENCE_COLOUR, alpha=style.SPAN_ALPHA,
                         label="stretch a finding covers"))
    if marks.onsets:
        out.append(Line2D([], [], color=style.ONSET_COLOUR, ls="--", lw=1.2,
                          label="onset of degradation"))
    if marks.cutoffs:
        out.append(Line2D([], [], color=style.CUTOFF_COLOUR, ls="-", lw=1.4,
                          label="cut-off (stream stops)"))
    if marks.caps:
        out.append(Line2D([], [], color=style.CAP_COLOUR, ls=(0, (4, 2)), lw=1.6,
                          label="estimated rate cap"))
    return out
