"""What the detectors read: one stream's per-slot loss, per-packet timing and windowed series.

:func:`stream_features` runs the metrics layer (:func:`analyzer.metrics.quality.
stream_quality`: frame timing, loss from sequence numbers, gaps, cut-off, jitter buffers)
and adds what the detectors need on top:

* a loss indicator per *expected slot* - from RTP sequence numbers, or, for media without
  RTP (Telegram, opaque), from send slots inferred from arrival times
  (:mod:`analyzer.detectors.slots`), so every stream gets loss, runs and jitter buffers;
* per packet: the sender time (RTP timestamp / clock, or the slot grid), the IPDV ``D``
  and the relative one-way delay ``transit - min(transit)`` (RFC 5481 PDV; only with RTP
  timestamps - a slot grid absorbs constant delay);
* per window (``window_s``, 1 s by default, on a grid from capture time 0 so that both
  directions line up): expected and lost slots, delivered packets and IP-layer bytes (UDP
  payload + 28 B for IPv4, 48 B for IPv6: the unit of a censor's token bucket), the
  offered rate (expected slots x mean packet size), mean ``|D|`` (the jitter metric the
  detectors test; for media without RTP the dispersion of the count of packets in
  flight, which reads the same for independent delays and, unlike ``|D|`` of arrivals
  whose send order is unknown, keeps growing when packets reorder:
  :mod:`analyzer.detectors.inflight`), median / 95th-percentile relative delay,
  inter-arrival quantiles, the share of the window the sender was silent (DTX) and
  whether a confounder (handover, outage) touches it.

Windows that are not entirely inside the stream, or are confounded, are left out of the
distribution tests (:meth:`WindowTable.usable`); silent windows are also left out of rate
tests (:meth:`WindowTable.usable_for_rate`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.detectors.inflight import InflightJitter, inflight_jitter
from analyzer.detectors.slots import (
    Slots,
    estimate_interval,
    infer_slots,
    opening_interval,
    small_packets,
)
from analyzer.limits import MAX_WINDOWS_FLOOR, WINDOWS_PER_PACKET
from analyzer.metrics.delay import sender_time_s
from analyzer.metrics.framing import FrameTiming, frame_timing
from analyzer.metrics.jitterbuffer import (
    DEFAULT_BUFFERS,
    JitterBufferResult,
    prepare_frames,
    simulate,
)
from analyzer.metrics.losspattern import LossPattern, loss_pattern
from analyzer.metrics.seqmath import group_quantiles
from analyzer.metrics.windows import bounded_window_s
from analyzer.streams.model import IPV4_UDP_OVERHEAD

if TYPE_CHECKING:
    from analyzer.detectors.nonspeech import NotSpeech
    from analyzer.metrics.quality import StreamQuality
    from analyzer.streams.model import Stream

WINDOW_S = 1.0
#: A window at least this silent (DTX) is left out of bit-rate tests.
SILENT_WINDOW_FRACTION = 0.1
#: Media whose packet time lies outside this range is not speech (video, bulk transfer).
MIN_FRAME_INTERVAL_S = 0.005
MAX_FRAME_INTERVAL_S = 0.15
#: RTP may pack several frames a packet (AMR, or WhatsApp's 8 x 20 ms at low rates: 160 ms
#: packets are real calls); its sequence numbers keep loss exact at that spacing. Media
#: without them stays within MAX_FRAME_INTERVAL_S: there a sparse flow is no speech cadence.
MAX_RTP_FRAME_INTERVAL_S = 0.2


@dataclass(frozen=True, eq=False)
class WindowTable:
    """Per-window series of one stream (equal-length arrays)."""

    window_s: float
    start_s: np.ndarray
    full: np.ndarray  # bool: the window lies inside the stream's span
    confounded: np.ndarray  # bool: touches a confounder interval (handover, outage)
    silence: np.ndarray  # fraction of the window the sender was silent (DTX)
    expected: np.ndarray  # expected slots (silence excluded, confounded slots excluded)
    lost: np.ndarray
    packets: np.ndarray
    bytes_ip: np.ndarray
    mean_size_ip: float  # stream-wide mean IP-layer packet size (bytes)
    ipdv_s: np.ndarray  # mean |D| of packet pairs ending in the window
    delay_s: np.ndarray  # median relative one-way delay (NaN without RTP timestamps)
    delay_p95_s: np.ndarray
    iat_p50_s: np.ndarray
    iat_p95_s: np.ndarray

    def __len__(self) -> int:
        return int(self.start_s.size)

    @property
    def bitrate_bps(self) -> np.ndarray:
        """Delivered IP-layer bit rate."""
        return self.bytes_ip * 8.0 / self.window_s

    @property
    def offered_bps(self) -> np.ndarray:
        """What the sender sent: expected slots times the mean packet size."""
        return self.expected * self.mean_size_ip * 8.0 / self.window_s

    @property
    def loss_fraction(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.expected > 0, self.lost / np.maximum(self.expected, 1),
                            np.nan)

    @property
    def usable(self) -> np.ndarray:
        return self.full & ~self.confounded & (self.expected > 0)

    @property
    def usable_for_rate(self) -> np.ndarray:
        return self.usable & (self.silence < SILENT_WINDOW_FRACTION)

    def metric(self, name: str) -> np.ndarray:
        """A metric over usable windows: ``loss``, ``jitter`` (mean |D|), ``interarrival``
        (median), ``bitrate``, ``delay`` (median relative delay)."""
        if name == "loss":
            return self.loss_fraction[self.usable]
        if name == "jitter":
            v = self.ipdv_s[self.usable]
        elif name == "interarrival":
            v = self.iat_p50_s[self.usable_for_rate]
        elif name == "bitrate":
            v = self.bitrate_bps[self.usable_for_rate]
        elif name == "delay":
            v = self.delay_s[self.usable]
        else:
            raise ValueError(f"unknown window metric {name!r}")
        return v[np.isfinite(v)]

    def to_dict(self) -> dict[str, Any]:
        from analyzer.detectors.result import jsonable
        return jsonable({
            "window_s": self.window_s, "start_s": self.start_s, "full": self.full,
            "confounded": self.confounded, "silence": self.silence,
            "expected": self.expected, "lost": self.lost, "packets": self.packets,
            "bitrate_bps": self.bitrate_bps, "ipdv_s": self.ipdv_s, "delay_s": self.delay_s})


@dataclass(frozen=True, eq=False)
class StreamFeatures:
    """Everything the detectors read about one stream (times: seconds from capture start)."""

    stream: int | None
    label: str
    src: str
    sport: int
    dst: str
    dport: int
    kind: str
    app: str | None
    codec: str | None
    source: str  # "rtp" (sequence numbers) or "arrival" (inferred slots)
    delay_measurable: bool  # relative one-way delay from RTP timestamps
    transport: str
    frame_interval_s: float
    frame_segments: tuple[tuple[float, float], ...]  # (start_s, frame_interval_s)
    start_s: float
    end_s: float
    ip_overhead_bytes: int
    timing: FrameTiming
    loss: LossPattern
    silence: tuple[tuple[float, float], ...]
    confounders: tuple[tuple[float, float], ...]
    windows: WindowTable
    buffers: dict[str, JitterBufferResult] = field(repr=False)
    arrival_s: np.ndarray = field(repr=False)  # per packet, capture order
    size_bytes: np.ndarray = field(repr=False)
    duplicate: np.ndarray = field(repr=False)
    position: np.ndarray = field(repr=False)  # per packet, slot index
    sender_s: np.ndarray = field(repr=False)
    #: per packet |D| (NaN for the first); without RTP, the in-flight dispersion of the
    #: period the packet arrived in (:mod:`analyzer.detectors.inflight`)
    ipdv_s: np.ndarray = field(repr=False)
    delay_s: np.ndarray = field(repr=False)  # relative one-way delay (NaN if unknown)
    slot_time_s: np.ndarray = field(repr=False)  # per expected slot
    slot_lost: np.ndarray = field(repr=False)  # per expected slot
    slot_usable: np.ndarray = field(repr=False)  # not inside a confounder interval
    quality: StreamQuality | None = field(default=None, repr=False)
    #: why this media stream is not speech (telephone events, a tunnel, the non-RTP
    #: packets of an RTP flow: :mod:`analyzer.detectors.nonspeech`), ``None`` for speech
    not_speech: NotSpeech | None = None
    ssrc: int | None = None  # RTP only: the same SSRC on a new 5-tuple is a path switch
    #: media without RTP: the slot grid of the speech packets alone (NaN for small ones),
    #: what the in-flight jitter is read against (:attr:`Slots.speech_sender_s`)
    speech_grid_s: np.ndarray | None = field(default=None, repr=False)
    #: The bound on the windows of the stream (``analyzer.limits.Limits``): at most
    #: ``max(max_windows_floor, windows_per_packet x packets)``, longer windows where the
    #: span needs more (``windows.window_s`` says which).
    max_windows_floor: int = field(default=MAX_WINDOWS_FLOOR, repr=False)
    windows_per_packet: int = field(default=WINDOWS_PER_PACKET, repr=False)

    @property
    def loss_note(self) -> str | None:
        """Why network loss cannot be read from this stream (``None``: it can)."""
        if self.transport.endswith("tcp"):
            return ("media carried over TCP: the network cannot lose packets, missing "
                    "sequence numbers were never sent")
        if not self.timing_known:
            return ("traffic of unknown structure (no sequence numbers, not media): loss "
                    "cannot be inferred from arrival times")
        return None

    @property
    def timing_known(self) -> bool:
        """Loss and timing can be read: RTP sequence numbers, or media without RTP
        (Telegram reflector media, any opaque encrypted media) whose send slots are
        inferred from a speech cadence (:mod:`analyzer.detectors.slots`)."""
        if self.not_speech is not None:
            return False
        return self.source == "rtp" or self.kind in ("telegram", "opaque")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def packets(self) -> int:
        return int(self.arrival_s.size)

    @property
    def speech_like(self) -> bool:
        f = self.frame_interval_s
        hi = MAX_RTP_FRAME_INTERVAL_S if self.source == "rtp" else MAX_FRAME_INTERVAL_S
        return bool(np.isfinite(f) and MIN_FRAME_INTERVAL_S <= f <= hi)

    def cumulative_at(self, t_s: float) -> tuple[int, int]:
        """Packets and IP-layer bytes of this stream that arrived before ``t_s``."""
        before = self.arrival_s < t_s
        b = int(np.sum(self.size_bytes[before].astype(np.int64)) +
                int(before.sum()) * self.ip_overhead_bytes)
        return int(before.sum()), b

    def with_confounders(self, intervals: Iterable[tuple[float, float]]) -> StreamFeatures:
        """A copy whose slots and windows inside ``intervals`` are left out of tests."""
        iv = tuple(sorted((float(a), float(b)) for a, b in intervals))
        if iv == self.confounders:
            return self
        usable = ~_inside(self.slot_time_s, iv)
        win = _windows(self, usable, iv, self.windows.window_s)
        return replace(self, confounders=iv, slot_usable=usable, windows=win)


def _inside(t: np.ndarray, intervals: Sequence[tuple[float, float]]) -> np.ndarray:
    m = np.zeros(t.size, dtype=bool)
    for a, b in intervals:
        m |= (t >= a) & (t < b)
    return m


def _overlap(starts: np.ndarray, w: float, intervals: Sequence[tuple[float, float]]
             ) -> np.ndarray:
    """Fraction of each window ``[s, s + w)`` covered by ``intervals``."""
    cover = np.zeros(starts.size)
    for a, b in intervals:
        cover += np.clip(np.minimum(starts + w, b) - np.maximum(starts, a), 0, None)
    return np.minimum(cover / w, 1.0)


def _window_quantiles(values: np.ndarray, w: np.ndarray, nw: int, qs: tuple[float, ...]
                      ) -> np.ndarray:
    ok = np.isfinite(values)
    if not ok.any():
        return np.full((nw, len(qs)), np.nan)
    return group_quantiles(values[ok], w[ok], nw, qs)


def _windows(f: StreamFeatures, slot_usable: np.ndarray,
             confounders: Sequence[tuple[float, float]], window_s: float) -> WindowTable:
    # sized by packets, not by span: a sparse stream over weeks gets longer windows
    window_s = bounded_window_s(window_s, f.end_s - f.start_s, f.packets, start_s=f.start_s,
                                max_windows_floor=f.max_windows_floor,
                                windows_per_packet=f.windows_per_packet)
    origin = math.floor(f.start_s / window_s) * window_s
    nw = max(1, math.floor((f.end_s - origin) / window_s) + 1)
    starts = origin + np.arange(nw) * window_s
    full = (starts >= f.start_s - 1e-9) & (starts + window_s <= f.end_s + 1e-9)

    def idx(t: np.ndarray) -> np.ndarray:
        return np.clip(((t - origin) / window_s).astype(np.int64), 0, nw - 1)

    keep = ~f.duplicate
    t = f.arrival_s[keep]
    wp = idx(t)
    size_ip = f.size_bytes[keep].astype(np.float64) + f.ip_overhead_bytes
    packets = np.bincount(wp, minlength=nw)
    bytes_ip = np.bincount(wp, weights=size_ip, minlength=nw)
    ws = idx(f.slot_time_s)
    expected = np.bincount(ws, weights=slot_usable, minlength=nw)
    lost = np.bincount(ws, weights=slot_usable & f.slot_lost, minlength=nw)
    if f.source == "arrival":
        ipdv_w = _inflight(f, origin, window_s, nw).window_s
    else:
        ipdv = f.ipdv_s[keep]
        ok = np.isfinite(ipdv)
        with np.errstate(invalid="ignore", divide="ignore"):
            ipdv_w = np.bincount(wp[ok], weights=ipdv[ok], minlength=nw) / np.bincount(
                wp[ok], minlength=nw)
    dq = _window_quantiles(f.delay_s[keep], wp, nw, (0.5, 0.95))
    order = np.argsort(t, kind="stable")
    ts = t[order]
    iat = np.diff(ts)
    iq = _window_quantiles(iat, idx(ts[1:]), nw, (0.5, 0.95)) if iat.size else np.full(
        (nw, 2), np.nan)
    return WindowTable(
        window_s=float(window_s), start_s=starts, full=full,
        confounded=_overlap(starts, window_s, confounders) > 0,
        silence=_overlap(starts, window_s, f.silence), expected=expected, lost=lost,
        packets=packets, bytes_ip=bytes_ip,
        mean_size_ip=float(size_ip.mean()) if size_ip.size else float("nan"),
        ipdv_s=ipdv_w, delay_s=dq[:, 0], delay_p95_s=dq[:, 1], iat_p50_s=iq[:, 0],
        iat_p95_s=iq[:, 1])


def _inflight(f: StreamFeatures, origin: float, window_s: float, nw: int) -> InflightJitter:
    """The in-flight dispersion of media without RTP (:mod:`analyzer.detectors.inflight`):
    duplicates and comfort-noise packets left out with their slots."""
    grid = f.speech_grid_s if f.speech_grid_s is not None else f.sender_s
    return inflight_jitter(f.arrival_s, grid, f.frame_segments, origin_s=origin,
                           window_s=window_s, n_windows=nw,
                           exclude=f.duplicate | small_packets(f.size_bytes))


def window_table(f: StreamFeatures, window_s: float) -> WindowTable:
    """The windowed series of ``f`` on another window length (same confounders)."""
    return _windows(f, f.slot_usable, f.confounders, window_s)


def _slot_columns(loss: LossPattern, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time and lost flag of every expected slot."""
    exp = loss.expected
    slot_t = np.full(exp, np.nan)
    lost = np.zeros(exp, dtype=bool)
    pos = loss.position[~loss.duplicate]
    ok = (pos >= 0) & (pos < exp)
    slot_t[pos[ok]] = t[~loss.duplicate][ok]
    if loss.lost:
        ln = loss.run_length
        within = np.arange(loss.lost) - np.repeat(np.cumsum(ln) - ln, ln)
        lpos = np.repeat(loss.run_start_position, ln) + within
        good = (lpos >= 0) & (lpos < exp)
        lost[lpos[good]] = True
        slot_t[lpos[good]] = loss.lost_time_s[good]
    if np.isnan(slot_t).any():  # should not happen; interpolate defensively
        k = np.arange(exp)
        have = np.isfinite(slot_t)
        slot_t = np.interp(k, k[have], slot_t[have]) if have.any() else np.zeros(exp)
    return slot_t, lost


def _is_rtp(stream: Stream) -> bool:
    se = stream.series
    return stream.kind == "rtp" and len(se) > 0 and bool((se.payload_type >= 0).all())


def _speech_segments(timing: FrameTiming) -> tuple[tuple[float, float], ...]:
    """Packet-time segments of an RTP stream, without the comfort-noise cadence (a
    "segment" of one packet every 0.4 s is silence, not a codec change)."""
    out: list[tuple[float, float]] = []
    for seg in timing.segments:
        c = seg.frame_interval_s
        if not MIN_FRAME_INTERVAL_S <= c <= MAX_FRAME_INTERVAL_S:
            continue
        if out and abs(out[-1][1] - c) <= 0.1 * c:
            continue
        out.append((seg.start_s, c))
    return tuple(out) or tuple((s.start_s, s.frame_interval_s) for s in timing.segments[:1])


def _small_gaps(t: np.ndarray, size: np.ndarray, f: float) -> list[tuple[float, float]]:
    """Gaps of more than 1.5 frames next to a comfort-noise-sized packet (silence)."""
    if t.size < 2 or not np.isfinite(f):
        return []
    order = np.argsort(t, kind="stable")
    ts = t[order]
    sm = small_packets(size)[order]
    gap = (np.diff(ts) > 1.5 * f) & (sm[1:] | sm[:-1])
    return list(zip(ts[:-1][gap].tolist(), ts[1:][gap].tolist(), strict=True))


def _rtp_silence(timing: FrameTiming, t: np.ndarray, size: np.ndarray, f: float
                 ) -> tuple[tuple[float, float], ...]:
    """Silence of an RTP stream: the timing's DTX periods and gaps next to comfort noise."""
    iv = list(zip(timing.dtx_start_s.tolist(), timing.dtx_end_s.tolist(), strict=True))
    iv += _small_gaps(t, size, f)
    out: list[list[float]] = []
    for a, b in sorted(iv):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def _opaque_interval(t: np.ndarray, size: np.ndarray, timing_f: float) -> float:
    """The packet interval of media without RTP: the cadence of the stream's opening when
    the network spaced the rest wider (:func:`~analyzer.detectors.slots.opening_interval`);
    else the metrics layer's estimate when it is a common packet time close to the speech
    packets' typical spacing, else the latter."""
    small = small_packets(size)
    own = estimate_interval(t, small)
    order = np.argsort(t, kind="stable")
    opening = opening_interval(t[order], size[order], small[order], own)
    if opening is not None:  # spaced wider by the network after the opening: loss, queue
        return opening
    if np.isfinite(timing_f) and np.isfinite(own) and abs(timing_f - own) <= 0.1 * own:
        return timing_f
    return own if np.isfinite(own) else timing_f


def _opaque_loss(t: np.ndarray, size: np.ndarray, f: float
                 ) -> tuple[LossPattern, Slots, tuple]:
    """Loss, inferred slots and silence of media without RTP."""
    slots = infer_slots(t, size, f)
    loss = loss_pattern(slots.seq, t, frame_interval_s=f if np.isfinite(f) else None)
    # gaps next to small packets (comfort noise) that the slot grid closed up
    silence = tuple(_small_gaps(t, size, f))
    return loss, slots, silence


def _buffers(t: np.ndarray, loss: LossPattern, sender: np.ndarray, f: float
             ) -> dict[str, JitterBufferResult]:
    if not np.isfinite(f) or not loss.expected:
        return {}
    frames = prepare_frames(t, loss.position, sender, f, loss=loss)
    return {c.name: simulate(frames, c) for c in DEFAULT_BUFFERS}


def _assemble(meta: dict[str, Any], *, t: np.ndarray, size: np.ndarray, timing: FrameTiming,
              loss: LossPattern, sender: np.ndarray, f: float, source: str, delay_ok: bool,
              segments: tuple, silence: tuple, buffers: dict[str, JitterBufferResult],
              window_s: float, quality: StreamQuality | None = None,
              speech_grid: np.ndarray | None = None,
              max_windows_floor: int = MAX_WINDOWS_FLOOR,
              windows_per_packet: int = WINDOWS_PER_PACKET) -> StreamFeatures:
    keep = ~loss.duplicate
    ki = np.flatnonzero(keep)
    ipdv = np.full(t.size, np.nan)
    if ki.size > 1 and source == "rtp":
        order = ki[np.argsort(t[ki], kind="stable")]
        ipdv[order[1:]] = np.abs(np.diff(t[order]) - np.diff(sender[order]))
    delay = np.full(t.size, np.nan)
    if delay_ok and ki.size:
        transit = t - sender
        delay[ki] = transit[ki] - float(np.min(transit[ki]))
    slot_t, slot_lost = _slot_columns(loss, t)
    feats = StreamFeatures(
        **meta, source=source, delay_measurable=delay_ok, frame_interval_s=float(f),
        frame_segments=tuple((float(a), float(b)) for a, b in segments),
        start_s=float(t.min()) if t.size else 0.0, end_s=float(t.max()) if t.size else 0.0,
        timing=timing, loss=loss, silence=tuple(silence), confounders=(),
        windows=None,  # type: ignore[arg-type]
        buffers=buffers, arrival_s=t, size_bytes=size, duplicate=loss.duplicate,
        position=loss.position, sender_s=sender, ipdv_s=ipdv, delay_s=delay,
        slot_time_s=slot_t, slot_lost=slot_lost,
        slot_usable=np.ones(slot_t.size, dtype=bool), quality=quality,
        speech_grid_s=speech_grid, max_windows_floor=max_windows_floor,
        windows_per_packet=windows_per_packet)
    if source == "arrival" and t.size:
        # no send order: each packet carries its period's in-flight dispersion instead
        # (on the windows the stream gets: within the bound, like its window table)
        window_s = bounded_window_s(window_s, feats.end_s - feats.start_s, feats.packets,
                                    start_s=feats.start_s,
                                    max_windows_floor=max_windows_floor,
                                    windows_per_packet=windows_per_packet)
        origin = math.floor(feats.start_s / window_s) * window_s
        nw = max(1, math.floor((feats.end_s - origin) / window_s) + 1)
        feats = replace(feats, ipdv_s=_inflight(feats, origin, window_s, nw).packet_s)
    return replace(feats, windows=_windows(feats, feats.slot_usable, (), window_s))


def stream_features(stream: Stream, *, call_streams: Iterable[Stream] = (),
                    bye_s: float | None = None, window_s: float = WINDOW_S,
                    quality: StreamQuality | None = None,
                    max_windows_floor: int = MAX_WINDOWS_FLOOR,
                    windows_per_packet: int = WINDOWS_PER_PACKET) -> StreamFeatures:
    """Features of one media stream (``call_streams``: the rest of its call, for cut-off
    evidence; ``bye_s``: a SIP BYE time, seconds from capture start), its windows within
    ``max(max_windows_floor, windows_per_packet x packets)``."""
    from analyzer.metrics.quality import stream_quality
    se = stream.series
    t = np.asarray(se.arrival_s, dtype=np.float64)
    size = np.asarray(se.size_bytes)
    q = quality if quality is not None else stream_quality(
        stream, call_streams=call_streams, bye_s=bye_s, window_s=window_s,
        max_windows_floor=max_windows_floor, windows_per_packet=windows_per_packet)
    f = q.timing.frame_interval_s
    f = float(f) if f is not None and np.isfinite(f) and f > 0 else float("nan")
    meta = {"stream": stream.index, "label": stream.label, "src": stream.src,
            "sport": stream.sport, "dst": stream.dst, "dport": stream.dport,
            "kind": stream.kind, "app": stream.app, "codec": stream.codec,
            "ip_overhead_bytes": stream.ip_overhead_bytes, "transport": stream.transport,
            "ssrc": stream.ssrc}
    if _is_rtp(stream) and q.loss is not None:
        loss = q.loss
        clock = stream.clock_rate_hz
        sender = (sender_time_s(se.rtp_ts, clock) if clock
                  else loss.position * (f if np.isfinite(f) else 0.02))
        silence = _rtp_silence(q.timing, t, size, f)
        segments = _speech_segments(q.timing)
        buffers = dict(q.buffers) or _buffers(t, loss, sender, f)
        return _assemble(meta, t=t, size=size, timing=q.timing, loss=loss, sender=sender, f=f,
                         source="rtp", delay_ok=bool(clock), segments=segments,
                         silence=silence, buffers=buffers, window_s=window_s, quality=q,
                         max_windows_floor=max_windows_floor,
                         windows_per_packet=windows_per_packet)
    f = _opaque_interval(t, size, f)
    loss, slots, silence = _opaque_loss(t, size, f)
    return _assemble(meta, t=t, size=size, timing=q.timing, loss=loss, sender=slots.sender_s,
                     f=f, source="arrival", delay_ok=False, segments=slots.segments,
                     silence=silence, buffers=_buffers(t, loss, slots.sender_s, f),
                     window_s=window_s, quality=q, speech_grid=slots.speech_sender_s,
                     max_windows_floor=max_windows_floor, windows_per_packet=windows_per_packet)


def features_from_arrays(arrival_s: Any, size_bytes: Any, *, seq: Any = None,
                         rtp_ts: Any = None, clock_rate_hz: int | None = None,
                         window_s: float = WINDOW_S, label: str = "synthetic",
                         ip_overhead_bytes: int = IPV4_UDP_OVERHEAD,
                         stream: int | None = None, src: str = "", sport: int = 0,
                         dst: str = "", dport: int = 0,
                         max_windows_floor: int = MAX_WINDOWS_FLOOR,
                         windows_per_packet: int = WINDOWS_PER_PACKET) -> StreamFeatures:
    """Features from bare columns (tests, lab scripts): RTP when ``seq`` is given, else
    Telegram-like media whose send slots are inferred from the arrival times."""
    t = np.asarray(arrival_s, dtype=np.float64)
    size = np.asarray(size_bytes)
    meta = {"stream": stream, "label": label, "src": src, "sport": sport, "dst": dst,
            "dport": dport,
            "kind": "rtp" if seq is not None else "telegram",
            "app": None if seq is not None else "telegram", "codec": None,
            "ip_overhead_bytes": ip_overhead_bytes, "transport": "udp"}
    if seq is not None:
        s = np.asarray(seq, dtype=np.int64)
        ts = np.asarray(rtp_ts, dtype=np.int64) if rtp_ts is not None else None
        tm = frame_timing(t, size, seq=s, rtp_ts=ts, clock_rate_hz=clock_rate_hz)
        f = float(tm.frame_interval_s or float("nan"))
        loss = loss_pattern(s, t, frame_interval_s=f)
        clocked = ts is not None and bool(clock_rate_hz)
        if ts is not None and clock_rate_hz:
            sender = sender_time_s(ts, clock_rate_hz)
        else:
            sender = loss.position * f
        segments = _speech_segments(tm)
        silence = _rtp_silence(tm, t, size, f)
        return _assemble(meta, t=t, size=size, timing=tm, loss=loss, sender=sender, f=f,
                         source="rtp", delay_ok=clocked, segments=segments, silence=silence,
                         buffers=_buffers(t, loss, sender, f), window_s=window_s,
                         max_windows_floor=max_windows_floor,
                         windows_per_packet=windows_per_packet)
    tm = frame_timing(t, size)
    f = _opaque_interval(t, size, float(tm.frame_interval_s or float("nan")))
    loss, slots, silence = _opaque_loss(t, size, f)
    return _assemble(meta, t=t, size=size, timing=tm, loss=loss, sender=slots.sender_s, f=f,
                     source="arrival", delay_ok=False, segments=slots.segments,
                     silence=silence, buffers=_buffers(t, loss, slots.sender_s, f),
                     window_s=window_s, speech_grid=slots.speech_sender_s,
                     max_windows_floor=max_windows_floor, windows_per_packet=windows_per_packet)
