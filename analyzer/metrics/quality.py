"""Call quality of a stream, everything in one place: the entry point the rest of the package
calls (``analyzer flows --json``, ``analyzer stats``, ``--csv DIR``).

:func:`stream_quality` runs, on one stream's columns: frame timing
(:mod:`~analyzer.metrics.framing`), loss pattern (:mod:`~analyzer.metrics.losspattern`),
arrival gaps (:mod:`~analyzer.metrics.gaps`), delay variation
(:mod:`~analyzer.metrics.delay`), cut-off (:mod:`~analyzer.metrics.cutoff`), the three
jitter buffers (:mod:`~analyzer.metrics.jitterbuffer`) and the E-model
(:mod:`~analyzer.metrics.emodel`). Windowed series (:mod:`~analyzer.metrics.windows`) are
computed on first access of :attr:`StreamQuality.windows`, never for JSON.
:func:`capture_quality` does it for every media stream of a capture, with each stream's
call as cut-off evidence.

Streams without RTP headers (opaque encrypted media, Telegram reflector traffic) have
timing only: frame interval, gaps, inter-arrival times and cut-off; loss, PDV, buffers and
MOS are ``None`` - their loss cannot be seen on the wire.

``StreamQuality.to_dict()`` (JSON-safe; SI units, ms only for frame intervals):

* ``frame_interval_ms``, ``frame_interval_source`` (``rtp_timestamp`` / ``arrival``),
  ``frame_intervals_ms`` (one per packet-time segment), ``dtx`` (``periods``,
  ``total_s``, ``comfort_noise_packets``);
* ``loss`` (:meth:`LossPattern.to_dict`: expected/received/lost, duplicates, late,
  runs, Gilbert ``p``/``q``/``burst_ratio``, RFC 3611 burst/gap fields) and, flat,
  ``max_loss_run``, ``loss_run_histogram`` (``{"1": n, ..., "9": n, "10+": n}``),
  ``burst_density``, ``gap_density``, ``burst_ratio``, ``conditional_loss_probability``
  - all ``None`` without RTP;
* ``gaps`` (``count``, ``max_s``, ``total_s``, ``longest_start_s``, ``with_loss``,
  ``without_loss``, ``shared_with_reverse``);
* ``cutoff`` (``None`` or ``at_s``, ``continued_until_s``, ``duration_s``,
  ``missing_packets``, ``frame_interval_ms``, ``basis``, ``evidence``), ``cutoff_reason``;
* ``mos``, ``r_factor``, ``concealed_fraction``, ``late_discards`` - each
  ``{"fixed_50ms", "fixed_200ms", "adaptive_500ms"}`` - and ``mos_codec_profile``,
  ``mos_relative_index``, ``mos_note``;
* with ``detail=True`` also ``frame_segments``, ``interarrival`` and ``pdv``
  (distributions), ``jitter_buffers`` and ``emodel`` (every figure per buffer); with
  ``include_windows=True`` the windowed series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.limits import MAX_WINDOWS_FLOOR, WINDOWS_PER_PACKET
from analyzer.metrics.cutoff import (
    HANGUP_FRAMES,
    HANGUP_TOLERANCE_S,
    MIN_PACKETS,
    Cutoff,
    CutoffAssessment,
    Evidence,
    assess_cutoff,
)
from analyzer.metrics.delay import (
    Distribution,
    Pdv,
    interarrival,
    pdv,
    rfc3550_jitter_s,
    sender_time_s,
)
from analyzer.metrics.emodel import (
    RELATIVE_NOTE,
    CodecProfile,
    EModelResult,
    codec_profile,
    emodel,
    mos_from_r,
    r_factor,
)
from analyzer.metrics.framing import FrameTiming, frame_timing
from analyzer.metrics.gaps import GAP_FACTOR, Gaps, find_gaps, mark_shared
from analyzer.metrics.jitterbuffer import (
    DEFAULT_BUFFERS,
    BufferConfig,
    Frames,
    JitterBufferResult,
    prepare_frames,
    simulate,
)
from analyzer.metrics.losspattern import GMIN, LossPattern, loss_pattern
from analyzer.metrics.windows import WINDOW_S, WindowSeries, window_index, window_series
from analyzer.phases import timed

if TYPE_CHECKING:
    from analyzer.streams.capture import Capture
    from analyzer.streams.model import Call, Stream

BUFFER_NAMES = tuple(c.name for c in DEFAULT_BUFFERS)
NO_RTP_NOTE = ("no RTP sequence numbers or timestamps (opaque or Telegram media): loss and "
               "late arrival cannot be measured, so no MOS")


@dataclass(frozen=True, eq=False)
class StreamQuality:
    """Quality metrics of one stream.

    ``to_dict()`` is JSON-safe (no NaN) and holds at least ``frame_interval_ms``,
    ``max_loss_run``, ``loss_run_histogram`` (``{"1": n, ..., "9": n, "10+": n}``: runs of
    that many consecutive lost packets), ``burst_density``, ``gap_density``, ``cutoff``
    (``null`` or ``{"at_s", "missing_packets", ...}``) and ``mos`` (``{"fixed_50ms",
    "fixed_200ms", "adaptive_500ms"}``). ``to_dict(detail=True)`` adds the packet-time
    segments, PDV and inter-arrival distributions and every jitter-buffer figure; those
    distributions (:attr:`pdv`, :attr:`interarrival`) and :attr:`windows` are computed on
    first use only.
    """

    stream: int
    kind: str
    packets: int
    timing: FrameTiming
    loss: LossPattern | None
    gaps: Gaps
    cutoff_assessment: CutoffAssessment
    buffers: Mapping[str, JitterBufferResult]
    emodel: Mapping[str, EModelResult]
    codec: CodecProfile | None
    window_s: float
    network_delay_s: float
    _arrival_s: np.ndarray = field(repr=False)
    _size_bytes: np.ndarray = field(repr=False)
    _rtp_ts: np.ndarray | None = field(repr=False)
    _clock_rate_hz: int | None = field(repr=False)
    _frames: Frames | None = field(repr=False)
    _span_s: tuple[float, float] = field(repr=False)
    #: False when made with ``detail=False``: the per-frame play-out kept for the windowed
    #: concealment/MOS columns was dropped, so the detail views are not available.
    _detail: bool = field(default=True, repr=False)
    #: The bound on the windows of :meth:`window_series` (``analyzer.limits.Limits``).
    _max_windows_floor: int = field(default=MAX_WINDOWS_FLOOR, repr=False)
    _windows_per_packet: int = field(default=WINDOWS_PER_PACKET, repr=False)

    def _require_detail(self, what: str) -> None:
        if not self._detail:
            raise ValueError(f"stream {self.stream}: {what} needs the quality computed with "
                             "detail=True")

    @property
    def cutoff(self) -> Cutoff | None:
        return self.cutoff_assessment.cutoff

    @property
    def mos(self) -> dict[str, float | None]:
        return {name: (self.emodel[name].mos if name in self.emodel else None)
                for name in BUFFER_NAMES}

    @property
    def relative_index(self) -> bool | None:
        return None if self.codec is None else self.codec.relative_index

    @cached_property
    def interarrival(self) -> Distribution:
        """Distribution of inter-arrival times."""
        self._require_detail("the inter-arrival distribution")
        return interarrival(self._arrival_s)

    @cached_property
    def pdv(self) -> Pdv | None:
        """RFC 5481 PDV (RTP with a known clock only)."""
        self._require_detail("the PDV distribution")
        if self._rtp_ts is None or not self._clock_rate_hz:
            return None
        dup = self.loss.duplicate if self.loss is not None else None
        # the sender clock in seconds is a unit conversion of the RTP timestamps: made when
        # asked, not kept per packet
        return pdv(self._arrival_s, self._rtp_ts, self._clock_rate_hz, duplicate=dup,
                   sender_s=sender_time_s(self._rtp_ts, self._clock_rate_hz))

    @cached_property
    def jitter_s(self) -> np.ndarray | None:
        """RFC 3550 interarrival jitter after each packet (RTP with a known clock)."""
        self._require_detail("the per-packet jitter")
        if self.loss is None or self._rtp_ts is None or not self._clock_rate_hz:
            return None
        return rfc3550_jitter_s(self._arrival_s, self._rtp_ts, self._clock_rate_hz)

    @cached_property
    def windows(self) -> WindowSeries:
        """Windowed series at ``window_s``, with per-buffer concealment and MOS columns."""
        return self.window_series(self.window_s)

    def window_series(self, window_s: float = WINDOW_S, *, start_s: float | None = None,
                      end_s: float | None = None) -> WindowSeries:
        """Windowed series at any window length (``concealed_<buffer>`` and
        ``mos_<buffer>`` columns for RTP streams), over the stream's span or, with
        ``start_s`` / ``end_s``, a longer one (e.g. the call's: a cut-off stream's last
        windows then show no packets). A view: it bins the per-packet and per-frame
        results computed once (loss, jitter, the jitter buffers' concealment) into
        windows; no metric is computed again."""
        self._require_detail("the windowed series")
        jit = self.jitter_s
        lo = self._span_s[0] if start_s is None else min(start_s, self._span_s[0])
        hi = self._span_s[1] if end_s is None else max(end_s, self._span_s[1])
        ws = window_series(self._arrival_s, self._size_bytes, window_s=window_s, start_s=lo,
                           end_s=hi, loss=self.loss, jitter_s=jit, gaps=self.gaps,
                           max_windows_floor=self._max_windows_floor,
                           windows_per_packet=self._windows_per_packet)
        if not self.buffers or self._frames is None or self.codec is None:
            return ws
        times = frame_times(self._frames)
        origin = float(ws.start_s[0])
        wi = window_index(times, origin, len(ws), ws.window_s)
        expected = np.bincount(wi, minlength=len(ws)).astype(np.float64)
        cols: dict[str, np.ndarray] = {}
        for name, res in self.buffers.items():
            missing = np.bincount(wi, weights=res.missing, minlength=len(ws))
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(expected > 0, missing / expected, np.nan)
            r = r_factor(100.0 * frac, max(res.gilbert.burst_ratio, 1.0),
                         res.mean_delay_s + self.network_delay_s, self.codec)
            cols[f"concealed_{name}"] = frac
            cols[f"mos_{name}"] = mos_from_r(r)
        return ws.with_columns(**cols)

    def to_dict(self, *, detail: bool = False, include_windows: bool = False
                ) -> dict[str, Any]:
        lp = self.loss
        bg = None if lp is None else lp.burst_gap
        tm = self.timing
        d: dict[str, Any] = {
            "frame_interval_ms": tm.frame_interval_ms,
            "frame_interval_source": tm.source,
            "frame_intervals_ms": [s.frame_interval_s * 1000.0 for s in tm.segments],
            "dtx": {"periods": tm.dtx_periods, "total_s": tm.dtx_total_s,
                    "comfort_noise_packets": tm.comfort_noise_packets},
            "loss": None if lp is None else lp.to_dict(),
            "max_loss_run": None if lp is None else lp.max_run,
            "loss_run_histogram": None if lp is None else lp.run_histogram_dict,
            "burst_density": None if bg is None else bg.burst_density,
            "gap_density": None if bg is None else bg.gap_density,
            "burst_ratio": None if lp is None else lp.gilbert.burst_ratio,
            "conditional_loss_probability": None if lp is None
            else lp.conditional_loss_probability,
            "gaps": self.gaps.to_dict(),
            "cutoff": None if self.cutoff is None else self.cutoff.to_dict(),
            "cutoff_reason": self.cutoff_assessment.reason,
            "mos": self.mos,
            "r_factor": {name: (self.emodel[name].r if name in self.emodel else None)
                         for name in BUFFER_NAMES},
            "concealed_fraction": {name: (self.buffers[name].concealed_fraction
                                          if name in self.buffers else None)
                                   for name in BUFFER_NAMES},
            "late_discards": {name: (self.buffers[name].late_discards
                                     if name in self.buffers else None)
                              for name in BUFFER_NAMES},
            "mos_codec_profile": None if self.codec is None else self.codec.name,
            "mos_relative_index": self.relative_index,
            "mos_note": (NO_RTP_NOTE if self.codec is None
                         else RELATIVE_NOTE if self.codec.relative_index else None),
        }
        if detail:
            d["frame_segments"] = [s.to_dict() for s in tm.segments]
            d["interarrival"] = self.interarrival.to_dict()
            d["pdv"] = None if self.pdv is None else self.pdv.to_dict()
            d["jitter_buffers"] = ({k: v.to_dict() for k, v in self.buffers.items()}
                                   or None)
            d["emodel"] = {k: v.to_dict() for k, v in self.emodel.items()} or None
        if include_windows:
            d["windows"] = self.windows.to_dict()
        return json_safe(d)


_INF = float("inf")


def json_safe(x: Any) -> Any:
    """``x`` with NaN/inf as ``None`` and numpy scalars as Python numbers."""
    t = type(x)
    if t is float:
        return x if x == x and x != _INF and x != -_INF else None
    if t is dict:
        return {k: json_safe(v) for k, v in x.items()}
    if t is int or t is str or t is bool or x is None:
        return x
    if t is list or t is tuple:
        return [json_safe(v) for v in x]
    if isinstance(x, np.generic):
        return json_safe(x.item())
    if isinstance(x, float):
        return json_safe(float(x))
    return x


def frame_times(frames: Frames) -> np.ndarray:
    """A time for every expected frame: its arrival when it came, else interpolated
    between the arrivals of the nearest frames that came (by position)."""
    pos, t = frames.position, frames.arrival_s
    if pos.size == 0:
        return np.zeros(frames.expected)
    if not bool(np.all(np.diff(pos) > 0)):
        order = np.argsort(pos, kind="stable")
        pos, t = pos[order], t[order]
    return np.interp(np.arange(frames.expected, dtype=np.float64), pos.astype(np.float64), t)


def _direction(s: Stream, o: Stream) -> str:
    """Whether ``o`` runs the same way as ``s``, the opposite way, or cannot be told."""
    same = (o.src, o.sport) == (s.src, s.sport) or (o.dst, o.dport) == (s.dst, s.dport)
    opp = (o.src, o.sport) == (s.dst, s.dport) or (o.dst, o.dport) == (s.src, s.sport)
    if same != opp:
        return "same" if same else "opposite"
    same = o.src == s.src or o.dst == s.dst
    opp = o.src == s.dst or o.dst == s.src
    if same != opp:
        return "same" if same else "opposite"
    return "unknown"


def _cutoff_inputs(stream: Stream, others: Iterable[Stream], at_s: float, tol_s: float
                   ) -> tuple[list[Evidence], str | None, Stream | None]:
    evidence: list[Evidence] = []
    successor: str | None = None
    reverse: Stream | None = None
    for o in others:
        if o.index == stream.index or len(o.series) == 0:
            continue
        first = float(o.series.arrival_s[0])
        last = float(o.series.arrival_s[-1])
        way = _direction(stream, o) if o.index != stream.reverse else "opposite"
        if o.is_media and way == "same":
            # the media moved when another stream carried on the same way: long enough not
            # to be strays, or - whatever its length - the same sender (address, port and
            # SSRC) re-targeted, which a network cutting the flow cannot make happen
            resent = (o.ssrc is not None and o.ssrc == stream.ssrc
                      and (o.src, o.sport) == (stream.src, stream.sport))
            if last > at_s + tol_s and successor is None and \
                    (len(o.series) >= MIN_PACKETS or resent):
                pause = first - at_s
                successor = (f"stream #{o.index}" if pause <= tol_s else
                             f"stream #{o.index} after a {pause:.3f} s pause")
            continue
        if o.is_media and way == "opposite":
            if reverse is None or o.index == stream.reverse:
                reverse = o
            evidence.append(Evidence(last, "reverse_media",
                                     f"media the other way (stream #{o.index}) until "
                                     f"{last:.3f} s"))
        else:
            evidence.append(Evidence(last, "other_flow",
                                     f"{o.kind} flow of the call (stream #{o.index}) until "
                                     f"{last:.3f} s"))
    return evidence, successor, reverse


def _is_rtp(stream: Stream) -> bool:
    return stream.kind == "rtp" and len(stream.series) > 0 and \
        bool((stream.series.payload_type >= 0).all())


def stream_timing(stream: Stream, *, rtp: bool | None = None) -> FrameTiming:
    """Frame timing of a stream (RTP timestamps when it has them)."""
    se = stream.series
    if _is_rtp(stream) if rtp is None else rtp:
        return frame_timing(se.arrival_s, se.size_bytes, seq=se.seq, rtp_ts=se.rtp_ts,
                            clock_rate_hz=stream.clock_rate_hz, payload_type=se.payload_type)
    return frame_timing(se.arrival_s, se.size_bytes)


def stream_gaps(stream: Stream, timing: FrameTiming, *, factor: float = GAP_FACTOR,
                rtp: bool | None = None) -> Gaps:
    """Arrival gaps of a stream, given its frame timing."""
    se = stream.series
    use_seq = _is_rtp(stream) if rtp is None else rtp
    return find_gaps(se.arrival_s, timing.interval_s, explained=timing.dtx_step,
                     seq=se.seq if use_seq else None, factor=factor)


def stream_quality(stream: Stream, *, call_streams: Iterable[Stream] = (),
                   call_continued_until_s: float | None = None, bye_s: float | None = None,
                   window_s: float = WINDOW_S, gmin: int = GMIN,
                   network_delay_s: float = 0.0, gap_factor: float = GAP_FACTOR,
                   buffers: Sequence[BufferConfig] = DEFAULT_BUFFERS,
                   timing: FrameTiming | None = None, gaps: Gaps | None = None,
                   reverse_gaps: Gaps | None = None, detail: bool = True,
                   max_windows_floor: int = MAX_WINDOWS_FLOOR,
                   windows_per_packet: int = WINDOWS_PER_PACKET) -> StreamQuality:
    """All quality metrics of ``stream``.

    ``call_streams``: the other streams of its call (any kind; the stream itself is
    skipped) - the reverse direction's media and other flows are cut-off evidence, a
    same-direction media stream that carries on means the media moved, not stopped.
    ``call_continued_until_s``: further evidence (e.g. the call's end known elsewhere).
    ``bye_s``: time of the SIP BYE ending the call, if any. ``network_delay_s`` is added to
    each buffer's delay for the E-model (0 by default: the capture cannot see it).
    ``timing`` / ``gaps`` (this stream's, with ``gap_factor``) and ``reverse_gaps`` (of
    ``stream.reverse``) may be passed when already computed. ``max_windows_floor`` and
    ``windows_per_packet`` bound the windows of :attr:`StreamQuality.windows`
    (:func:`~analyzer.metrics.windows.window_series`).
    """
    se = stream.series
    t = np.asarray(se.arrival_s, dtype=np.float64)
    n = t.size
    rtp = _is_rtp(stream)
    tm = timing if timing is not None else stream_timing(stream, rtp=rtp)
    f = tm.frame_interval_s
    if gaps is None:
        gaps = stream_gaps(stream, tm, factor=gap_factor, rtp=rtp)
    lp: LossPattern | None = None
    sender: np.ndarray | None = None
    frames: Frames | None = None
    results: dict[str, JitterBufferResult] = {}
    models: dict[str, EModelResult] = {}
    prof: CodecProfile | None = None
    clock = stream.clock_rate_hz if rtp else None
    if rtp:
        lp = loss_pattern(se.seq, t, frame_interval_s=f, gmin=gmin)
        if clock:
            sender = sender_time_s(se.rtp_ts, clock)
        if f:
            play = sender if sender is not None else lp.position * f
            frames = prepare_frames(t, lp.position, play, f, loss=lp)
            prof = codec_profile(stream.codec)
            for cfg in buffers:
                res = simulate(frames, cfg)
                results[cfg.name] = res
                models[cfg.name] = emodel(res.effective_loss_fraction,
                                          res.gilbert.burst_ratio,
                                          res.mean_delay_s + network_delay_s, prof)
    # cut-off
    others = [o for o in call_streams if o.index != stream.index]
    at = float(t[-1]) if n else 0.0
    tol = max(HANGUP_FRAMES * f, HANGUP_TOLERANCE_S) if f else HANGUP_TOLERANCE_S
    evidence, successor, reverse = _cutoff_inputs(stream, others, at, tol)
    if call_continued_until_s is not None:
        evidence.append(Evidence(call_continued_until_s, "given",
                                 f"call known to continue until {call_continued_until_s:.3f} s"))
    assessment = assess_cutoff(at, f, evidence, bye_s=bye_s, packets=n, successor=successor,
                               ended_in_silence=bool(n and tm.comfort_noise[-1]))
    # gaps shared with the reverse direction (handover / path change)
    if reverse is not None:
        rg = reverse_gaps if reverse_gaps is not None and reverse.index == stream.reverse \
            else stream_gaps(reverse, stream_timing(reverse), factor=gap_factor)
        gaps = mark_shared(gaps, rg)
    span_lo = float(t[0]) if n else 0.0
    span_hi = at
    return StreamQuality(
        stream=stream.index, kind=stream.kind, packets=n, timing=tm, loss=lp, gaps=gaps,
        cutoff_assessment=assessment, buffers=results, emodel=models, codec=prof,
        window_s=float(window_s), network_delay_s=float(network_delay_s), _arrival_s=t,
        _size_bytes=se.size_bytes, _rtp_ts=se.rtp_ts if rtp else None, _clock_rate_hz=clock,
        _frames=frames if detail else None, _span_s=(span_lo, span_hi), _detail=detail,
        _max_windows_floor=max_windows_floor, _windows_per_packet=windows_per_packet)


def call_members(streams: Sequence[Stream], call: Call, by_index: Mapping[int, Stream],
                 by_tuple: Mapping[tuple[str, int, str, int], Sequence[int]] | None = None
                 ) -> list[Stream]:
    """A call's streams plus the other flows on the same address pairs (STUN, RTCP on
    the media ports: cut-off evidence). ``by_tuple`` (:func:`streams_by_tuple` of
    ``streams``) saves scanning every stream for every call."""
    media = [by_index[i] for i in call.streams if i in by_index]
    pairs = {(s.src, s.sport, s.dst, s.dport) for s in media}
    pairs |= {(d, dp, s, sp) for s, sp, d, dp in pairs}
    mine = set(call.streams)
    if by_tuple is None:
        by_tuple = streams_by_tuple(streams)
    rows = sorted({k for p in pairs for k in by_tuple.get(p, ())})
    return media + [streams[k] for k in rows if streams[k].index not in mine]


def streams_by_tuple(streams: Sequence[Stream]) -> dict[tuple[str, int, str, int], list[int]]:
    """Positions in ``streams`` of the streams of each (src, sport, dst, dport)."""
    out: dict[tuple[str, int, str, int], list[int]] = {}
    for k, s in enumerate(streams):
        out.setdefault((s.src, s.sport, s.dst, s.dport), []).append(k)
    return out


def capture_quality(streams: Sequence[Stream], calls: Sequence[Call] = (), *,
                    bye_times_s: Sequence[float] = (), window_s: float = WINDOW_S,
                    network_delay_s: float = 0.0, detail: bool = True,
                    max_windows_floor: int = MAX_WINDOWS_FLOOR,
                    windows_per_packet: int = WINDOWS_PER_PACKET
                    ) -> dict[int, StreamQuality]:
    """:func:`stream_quality` of every media stream, keyed by stream index.

    Each stream's call (``Stream.call`` indexing ``calls``) supplies the cut-off evidence;
    without a call, its reverse stream does. ``bye_times_s`` are SIP BYE times in seconds
    from the capture start; a stream takes the first BYE after its first packet.
    """
    by_index = {s.index: s for s in streams}
    media = [s for s in streams if s.is_media]
    rtp = {s.index: _is_rtp(s) for s in media}
    timings = {s.index: stream_timing(s, rtp=rtp[s.index]) for s in media}
    gaps = {i: stream_gaps(by_index[i], tm, rtp=rtp[i]) for i, tm in timings.items()}
    by_tuple = streams_by_tuple(streams)
    members_of = {c.index: call_members(streams, c, by_index, by_tuple) for c in calls}
    byes = np.sort(np.asarray(bye_times_s, dtype=np.float64))
    out: dict[int, StreamQuality] = {}
    for s in media:
        members = members_of.get(s.call, []) if s.call is not None else []
        if not members and s.reverse is not None and s.reverse in by_index:
            members = [by_index[s.reverse]]
        bye = None
        if byes.size and len(s.series):
            k = int(np.searchsorted(byes, float(s.series.arrival_s[0])))
            bye = float(byes[k]) if k < byes.size else None
        rg = gaps.get(s.reverse) if s.reverse is not None else None
        out[s.index] = stream_quality(s, call_streams=members, bye_s=bye, window_s=window_s,
                                      network_delay_s=network_delay_s,
                                      timing=timings[s.index], gaps=gaps[s.index],
                                      reverse_gaps=rg, detail=detail,
                                      max_windows_floor=max_windows_floor,
                                      windows_per_packet=windows_per_packet)
    return out


@timed("quality")
def quality_of(capture: Capture, *, window_s: float = WINDOW_S, network_delay_s: float = 0.0,
               detail: bool = True, max_windows_floor: int = MAX_WINDOWS_FLOOR,
               windows_per_packet: int = WINDOWS_PER_PACKET) -> dict[int, StreamQuality]:
    """:func:`capture_quality` of a whole capture: its streams, its calls and its SIP BYE
    times. Keyed by stream index; re-exported as ``analyzer.quality_of``.

    ``detail=False`` keeps only the summary figures (``to_dict()``), not what the windowed
    series and distributions are later made from: less memory on a big capture.
    ``max_windows_floor`` / ``windows_per_packet``: the bound on each stream's windows."""
    return capture_quality(capture.streams, capture.calls, bye_times_s=capture.bye_times_s,
                           window_s=window_s, network_delay_s=network_delay_s, detail=detail,
                           max_windows_floor=max_windows_floor,
                           windows_per_packet=windows_per_packet)
