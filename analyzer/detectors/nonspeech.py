"""Media streams that are not speech: told apart before any test (DOMAIN.md §8).

* ``dtmf``: RFC 4733 telephone events (DTMF). The payload type is signalled as
  ``telephone-event`` in SDP; without SDP the RTP shows it: every packet of an event keeps
  the event's start timestamp while the sequence number advances (speech never repeats a
  timestamp), and the payload is a few 4-byte event blocks. Without RTP (opaque media):
  packets of one tiny size sent in short bursts (a digit lasts 0.1-0.3 s, repeated end
  packets) separated by long pauses, and nothing else. Analysed as speech, the pauses
  between digits read as long loss runs;
* ``rtp_companion``: the non-RTP packets of a flow that carries RTP (SRTCP, keep-alives,
  DTLS, TURN control on the same 5-tuple): the RTP stream is the media, these are not;
* ``tunnel``: IPsec NAT-T (UDP 4500), IKE (500), OpenVPN (1194) and WireGuard (51820)
  flows carry every flow of a device inside one encrypted stream - speech, signalling and
  keep-alives mixed, which no slot grid describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from analyzer.protocol import RTP_HEADER_LEN

if TYPE_CHECKING:
    from analyzer.streams.model import Stream

#: UDP ports of VPN / IPsec tunnels.
TUNNEL_PORTS = {500: "IKE", 4500: "IPsec NAT-T", 1194: "OpenVPN", 51820: "WireGuard"}
#: RTP without SDP: this share of the steps to the next sequence number keeps the
#: timestamp (RFC 4733 §2.5.1.2: one timestamp per event).
EVENT_SAME_TS_SHARE = 0.5
#: RFC 4733 payloads are 4-byte event blocks; a few per packet at most.
EVENT_MAX_PAYLOAD = 16
#: Opaque: at most this UDP payload (RTP header + event + an SRTP tag), one size, and
#: bursts no longer than ``EVENT_MAX_BURST_S`` between pauses of ``EVENT_MIN_PAUSE_S``.
OPAQUE_EVENT_MAX_BYTES = 32
EVENT_MAX_BURST_S = 1.0
EVENT_MIN_PAUSE_S = 0.3
EVENT_MIN_BURSTS = 3


@dataclass(frozen=True)
class NotSpeech:
    """Why a media stream is not analysed as speech."""

    kind: str  # "dtmf", "rtp_companion", "tunnel"
    reason: str


def telephone_events(stream: Stream) -> bool:
    """RFC 4733 telephone events only (DTMF), by SDP or by the RTP header."""
    if stream.codec is not None and stream.codec.lower() == "telephone-event":
        return True
    se = stream.series
    n = len(se)
    if n < 2:
        return False
    if stream.kind == "rtp":
        payload = se.size_bytes.astype(np.int64) - RTP_HEADER_LEN
        if np.any(payload > EVENT_MAX_PAYLOAD) or np.any(payload <= 0):
            return False
        step = np.diff(se.seq) == 1
        same = step & (np.diff(se.rtp_ts) == 0)
        return bool(step.any() and same.sum() >= EVENT_SAME_TS_SHARE * step.sum())
    if stream.kind != "opaque":
        return False
    size = se.size_bytes
    if int(size.max()) > OPAQUE_EVENT_MAX_BYTES or int(size.min()) != int(size.max()):
        return False
    t = np.sort(se.arrival_s)
    pause = np.flatnonzero(np.diff(t) >= EVENT_MIN_PAUSE_S)
    starts = np.concatenate(([0], pause + 1))
    ends = np.concatenate((pause, [t.size - 1]))
    bursts = t[ends] - t[starts]
    return bool(starts.size >= EVENT_MIN_BURSTS and bursts.max() <= EVENT_MAX_BURST_S)


def not_speech(stream: Stream, flow_mates: Sequence[Stream] = ()) -> NotSpeech | None:
    """Why ``stream`` is media that is not speech (``flow_mates``: the other streams on
    its 5-tuple); ``None`` for speech (or anything this cannot tell)."""
    for port in (stream.sport, stream.dport):
        if port in TUNNEL_PORTS and stream.kind != "rtp":
            return NotSpeech("tunnel", f"an encrypted tunnel ({TUNNEL_PORTS[port]}, UDP "
                             f"{port}): every flow of a device inside one stream, not one "
                             "media stream")
    if stream.kind != "rtp" and any(m.kind == "rtp" for m in flow_mates
                                    if m.index != stream.index):
        return NotSpeech("rtp_companion", "the non-RTP packets of a flow carrying RTP "
                         "(RTCP, keep-alives, DTLS): the RTP stream is the media")
    if telephone_events(stream):
        return NotSpeech("dtmf", f"telephone events (RFC 4733 DTMF, {len(stream.series)} "
                         "packets), not speech: the pauses between digits are not loss")
    return None
