"""Features of every media stream of one call, with the call's confounders left out.

The call gives each stream its context: the reverse direction and the call's other flows
(STUN keep-alives, RTCP on the same addresses) are cut-off evidence, a SIP BYE marks a
hang-up, and pauses shared by both directions or a move to a new port are confounders
(:mod:`analyzer.detectors.confounders`) whose slots and windows the tests skip.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from analyzer.detectors.confounders import Confounder, ConfounderFinder
from analyzer.detectors.features import WINDOW_S, StreamFeatures, stream_features
from analyzer.detectors.nonspeech import not_speech
from analyzer.limits import MAX_WINDOWS_FLOOR, WINDOWS_PER_PACKET
from analyzer.metrics.quality import call_members
from analyzer.phases import timed

if TYPE_CHECKING:
    from analyzer.metrics.quality import StreamQuality
    from analyzer.streams.capture import Capture
    from analyzer.streams.model import Call, Stream

#: Media streams with fewer packets are left out (probes, retransmission bursts), and so
#: are streams averaging under MIN_RATE_PPS packets a second (keep-alives, merged traces).
MIN_PACKETS = 20
MIN_RATE_PPS = 1.0


def call_streams(capture: Capture, call: Call) -> list[Stream]:
    """The call's media streams plus the other flows on the same address pairs."""
    return call_members(capture.streams, call, {s.index: s for s in capture.streams})


def bye_time(capture: Capture, after_s: float) -> float | None:
    """Seconds from capture start of the first SIP BYE after ``after_s``, if any."""
    t0 = capture.start_epoch_s
    times = sorted(m.ts_ns / 1e9 - t0 for m in capture.sip if m.method == "BYE")
    return next((t for t in times if t >= after_s), None)


def reinvite_times(capture: Capture) -> list[float]:
    """Seconds from capture start of SIP re-INVITEs (INVITEs of a dialog already seen)."""
    seen: set[str] = set()
    out = []
    t0 = capture.start_epoch_s
    for m in capture.sip:
        if m.method != "INVITE" or m.call_id is None:
            continue
        if m.call_id in seen:
            out.append(m.ts_ns / 1e9 - t0)
        seen.add(m.call_id)
    return out


def dense(stream: Stream, min_packets: int = MIN_PACKETS) -> bool:
    """Enough packets, often enough, to be analysed as media."""
    n = len(stream.series)
    if n < min_packets:
        return False
    span = float(stream.series.arrival_s[-1] - stream.series.arrival_s[0])
    return span <= 0 or n / span >= MIN_RATE_PPS


def _classified(f: StreamFeatures, stream: Stream,
                by_flow: Mapping[tuple[str, int, str, int], list[Stream]]) -> StreamFeatures:
    """``f`` with the reason it is not speech, if it is not."""
    mates = by_flow.get((stream.src, stream.sport, stream.dst, stream.dport), [])
    why = not_speech(stream, mates)
    return f if why is None else replace(f, not_speech=why)


@timed("features")
def call_features(capture: Capture, call: Call, *, window_s: float = WINDOW_S,
                  min_packets: int = MIN_PACKETS,
                  finder: ConfounderFinder | None = None,
                  quality: Mapping[int, StreamQuality] | None = None,
                  only: Collection[int] | None = None,
                  max_windows_floor: int = MAX_WINDOWS_FLOOR,
                  windows_per_packet: int = WINDOWS_PER_PACKET
                  ) -> tuple[list[StreamFeatures], list[Confounder]]:
    """Features of the call's media streams (``min_packets`` or more, at least
    ``MIN_RATE_PPS`` a second) and its confounders (found among the speech-like streams
    whose timing is known: RTP or Telegram media). ``quality``: the streams' quality
    metrics when already computed (:func:`~analyzer.metrics.quality.capture_quality`),
    so that they are computed once per analysis. ``only``: the stream indices to take
    (default: all of the call's); ``max_windows_floor`` / ``windows_per_packet``: the
    bound on each stream's windows."""
    members = call_streams(capture, call)
    bye = bye_time(capture, call.start_s)
    q = quality or {}
    feats = [stream_features(capture.streams[i], call_streams=members, bye_s=bye,
                             window_s=window_s, quality=q.get(i),
                             max_windows_floor=max_windows_floor,
                             windows_per_packet=windows_per_packet)
             for i in call.streams if dense(capture.streams[i], min_packets)
             and (only is None or i in only)]
    by_flow: dict[tuple[str, int, str, int], list[Stream]] = {}
    for s in capture.streams:
        by_flow.setdefault((s.src, s.sport, s.dst, s.dport), []).append(s)
    feats = [_classified(f, capture.streams[f.stream], by_flow) if f.stream is not None
             else f for f in feats]
    media = [f for f in feats if f.speech_like and f.timing_known]
    confounders, masks = (finder or ConfounderFinder()).find(
        media, capture.streams, reinvite_times(capture), bye_s=bye)
    for f in feats:
        if f.not_speech is not None and f.not_speech.kind == "dtmf" and f.stream is not None:
            confounders.append(Confounder("dtmf", f.start_s, f.end_s, (f.stream,),
                                          f.not_speech.reason))
    feats = [f.with_confounders(masks.get(f.stream, ())) if f.stream is not None else f
             for f in feats]
    return feats, confounders
