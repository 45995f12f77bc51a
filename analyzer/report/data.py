"""What a report draws, gathered once: the capture's calls, their media streams in drawing
order, each stream's quality metrics and windowed series, the findings that concern each
call, and the baseline streams matched to the call's directions.

Nothing here imports matplotlib. All statistics come from :mod:`analyzer.metrics` on the
full data; the figures only thin what they draw (:mod:`analyzer.report.downsample`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.report import findings as fnd
from analyzer.streams.addresses import orientation as address_orientation

if TYPE_CHECKING:
    from analyzer.metrics.quality import StreamQuality
    from analyzer.metrics.windows import WindowSeries
    from analyzer.streams.capture import Capture
    from analyzer.streams.model import Call, Stream
    from analyzer.verdict.model import Analysis

#: At most this many streams of one call are drawn on its timeline (the busiest ones);
#: the stream table lists them all.
MAX_TIMELINE_STREAMS = 6
#: At most this many calls get their own pages (those with findings first, then the
#: busiest); the stream table lists the streams of every call.
MAX_CALLS = 10
#: Voice is sent in frames of 10-120 ms: slower flows are connection attempts or keepalives.
MIN_MEDIA_PACKETS_PER_S = 5.0
#: The jitter buffer whose concealment and MOS the timelines show.
TIMELINE_BUFFER = "adaptive_500ms"


@dataclass(frozen=True, eq=False)
class CallData:
    """One call (or, with ``call`` None, the capture's traffic outside any call)."""

    number: int  # the call's index + 1, as in the stream table (0: outside any call)
    call: Call | None
    streams: tuple[Stream, ...]  # drawn, in order (colours follow this order)
    hidden_streams: int  # media streams of the call not drawn on the timeline
    findings: tuple[Any, ...]
    baseline_streams: tuple[Stream | None, ...]  # matched to ``streams`` one by one
    span_s: tuple[float, float]

    @property
    def title(self) -> str:
        if self.call is None:
            return "Traffic outside any call"
        app = f" ({self.call.app})" if self.call.app else ""
        return f"Call {self.number}{app}"

    @property
    def has_media(self) -> bool:
        """Whether a stream carried sound (media at a voice packet rate), not just
        connection attempts: only then is a comparison with a baseline drawn."""
        return any(s.is_media and len(s.series) > 1 and s.stats.duration_s > 0
                   and len(s.series) / s.stats.duration_s >= MIN_MEDIA_PACKETS_PER_S
                   for s in self.streams)


@dataclass(frozen=True, eq=False)
class ReportData:
    """Everything the pages and figures read. Build it with :func:`report_data`."""

    capture: Capture
    analysis: Analysis
    quality: Mapping[int, StreamQuality]
    baseline: Capture | None
    baseline_quality: Mapping[int, StreamQuality]
    calls: tuple[CallData, ...]
    findings: tuple[Any, ...]
    omitted_calls: int = 0  # calls not drawn (beyond MAX_CALLS); the stream table has all
    window_cache: dict[tuple[str, int, float | None], WindowSeries] = field(
        default_factory=dict)

    @property
    def verdict(self) -> str:
        return self.analysis.verdict

    def windows(self, stream: Stream, *, baseline: bool = False,
                window_s: float | None = None) -> WindowSeries | None:
        """The windowed series of a stream of the capture (or of the baseline), at the
        quality metrics' window length unless ``window_s`` is given."""
        q = (self.baseline_quality if baseline else self.quality).get(stream.index)
        if q is None:
            return None
        if window_s is not None and abs(window_s - q.window_s) < 1e-9:
            window_s = None
        key = ("baseline" if baseline else "call", stream.index, window_s)
        if key not in self.window_cache:
            self.window_cache[key] = (q.windows if window_s is None
                                      else q.window_series(window_s))
        return self.window_cache[key]

    def describe(self, stream: Stream) -> str:
        """``#0 caller→callee: 192.168.1.23:63730 → 157.240.195.62:3478 (sent by the
        local device)`` - how legends name a stream of the capture."""
        rep = self.analysis.stream_report(stream.index)
        d = rep.direction if rep is not None else None
        return f"#{stream.index}" + (f" {d}" if d else "") + f":  {direction_label(stream)}"

    def call_verdict(self, call: CallData) -> str | None:
        rep = None if call.call is None else self.analysis.call_report(call.call.index)
        return None if rep is None else rep.verdict

    def stream_quality(self, stream: Stream, *, baseline: bool = False
                       ) -> StreamQuality | None:
        return (self.baseline_quality if baseline else self.quality).get(stream.index)


def orientation(stream: Stream) -> str:
    """``"up"`` (local -> remote: from the phone), ``"down"``, or ``"?"``
    (:func:`analyzer.streams.addresses.orientation`)."""
    return address_orientation(stream.src, stream.dst)


def direction_label(stream: Stream) -> str:
    o = orientation(stream)
    way = {"up": "sent by the local device", "down": "received by the local device"}.get(o)
    return f"{stream.label}" + (f" ({way})" if way else "")


def _order_streams(streams: Sequence[Stream]) -> list[Stream]:
    """Uplink before downlink, a stream followed by its reverse, busiest first."""
    left = sorted(streams, key=lambda s: (-len(s.series), s.index))
    out: list[Stream] = []
    by_index = {s.index: s for s in streams}
    while left:
        s = left.pop(0)
        rev = by_index.get(s.reverse) if s.reverse is not None else None
        pair = [s] if rev is None or rev not in left else [s, rev]
        if rev is not None and rev in left:
            left.remove(rev)
        pair.sort(key=lambda x: (orientation(x) != "up", x.index))
        out.extend(pair)
    return out


def _span(streams: Sequence[Stream], call: Call | None) -> tuple[float, float]:
    lo, hi = np.inf, -np.inf
    for s in streams:
        if len(s.series):
            lo = min(lo, float(s.series.arrival_s[0]))
            hi = max(hi, float(s.series.arrival_s[-1]))
    if call is not None:
        lo, hi = min(lo, call.start_s), max(hi, call.end_s)
    if not np.isfinite(lo):
        return 0.0, 1.0
    return float(lo), float(max(hi, lo + 1e-3))


def _match_baseline(streams: Sequence[Stream], analysis: Analysis
                    ) -> tuple[Stream | None, ...]:
    """For each call stream, the baseline capture's stream the analysis compared it with
    (:func:`analyzer.baseline.choose.match_stream` chose it; the report draws that one,
    never a match of its own); ``None`` where the stream was compared with something else
    or not analysed."""
    baseline = analysis.baseline_capture
    out: list[Stream | None] = []
    for s in streams:
        rep = analysis.stream_report(s.index)
        ref = rep.reference if rep is not None else None
        idx = ref.source_stream if ref is not None and ref.kind == "capture" else None
        out.append(baseline.streams[idx] if baseline is not None and idx is not None
                   and 0 <= idx < len(baseline.streams) else None)
    return tuple(out)


def _streams_of(capture: Capture, call: Call | None) -> list[Stream]:
    if call is not None:
        return [capture.streams[i] for i in call.streams if capture.streams[i].is_media]
    in_call = {i for c in capture.calls for i in c.streams}
    rest = [s for s in capture.media_streams if s.index not in in_call]
    if rest or capture.calls:
        return rest
    # no media at all (a blocked call): show the setup attempts
    return [s for s in capture.streams if len(s.series)]


def report_data(analysis: Analysis) -> ReportData:
    """Gather what a report shows, from the analysis alone: its capture's streams, the
    quality metrics it computed, its findings and its baseline capture (a profile, having
    no packets to draw, is none here: the analysis still says it was used)."""
    capture = analysis.capture
    if capture is None:
        raise ValueError("the analysis keeps no capture to draw (it was read back from "
                         "JSON?): report from the Analysis that analyze() returned")
    baseline = analysis.baseline_capture
    findings = tuple(analysis.findings)
    calls: list[CallData] = []
    groups: list[Call | None] = list(capture.calls)
    in_call = {i for c in capture.calls for i in c.streams}
    if any(s.index not in in_call for s in capture.media_streams) or not capture.calls:
        groups.append(None)
    for call in groups:
        streams = _order_streams(_streams_of(capture, call))
        if call is None and not streams:
            continue
        shown = streams[:MAX_TIMELINE_STREAMS]
        mine = tuple(f for f in findings if fnd.concerns(f, streams, call))
        calls.append(CallData(
            number=call.index + 1 if call is not None else 0, call=call,
            streams=tuple(shown), hidden_streams=len(streams) - len(shown), findings=mine,
            baseline_streams=_match_baseline(shown, analysis), span_s=_span(streams, call)))
    kept = calls
    if len(calls) > MAX_CALLS:
        # the calls with findings first, then the busiest; drawn in capture order
        ranked = sorted(calls, key=lambda c: (not c.findings,
                                              -sum(len(s.series) for s in c.streams),
                                              c.number))
        keep = {id(c) for c in ranked[:MAX_CALLS]}
        kept = [c for c in calls if id(c) in keep]
    return ReportData(capture=capture, analysis=analysis, quality=analysis.quality,
                      baseline=baseline, baseline_quality=analysis.baseline_quality,
                      calls=tuple(kept), findings=findings,
                      omitted_calls=len(calls) - len(kept))
