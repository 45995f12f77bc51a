"""Streams and calls: the per-stream column series everything downstream reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from analyzer.streams.rtpstats import StreamStats

#: Stream kinds.
KIND_RTP = "rtp"
KIND_RTCP = "rtcp"
KIND_STUN = "stun"
KIND_DTLS = "dtls"
KIND_TELEGRAM = "telegram"
KIND_OPAQUE = "opaque"
KIND_OTHER = "other"
KIND_SIP = "sip"


@dataclass(frozen=True)
class Series:
    """Per-packet columns of one stream, in capture order (read-only numpy arrays).

    Times are seconds from the capture's first packet. ``seq`` and ``rtp_ts`` are extended
    (unwrapped) and only meaningful for RTP streams (zeros otherwise).
    """

    frame: np.ndarray  # uint32, 1-based packet number in the capture
    arrival_s: np.ndarray  # float64
    size_bytes: np.ndarray  # uint16, UDP payload (or ChannelData payload) length
    seq: np.ndarray  # int32, extended
    rtp_ts: np.ndarray  # int64, extended
    marker: np.ndarray  # bool
    payload_type: np.ndarray  # int8 (-1 for non-RTP)

    def __post_init__(self) -> None:
        # Streams share these columns with whoever reads them: freeze them (views of the
        # builder's arrays become read-only; the arrays they view are not touched).
        for name in self.__dataclass_fields__:
            getattr(self, name).flags.writeable = False

    def __len__(self) -> int:
        return int(self.frame.size)

    def to_dict(self) -> dict[str, list[Any]]:
        return {k: getattr(self, k).tolist() for k in self.__dataclass_fields__}


#: IP + UDP header bytes per datagram.
IPV4_UDP_OVERHEAD = 28
IPV6_UDP_OVERHEAD = 48


@dataclass(frozen=True)
class Stream:
    """One direction of media (or other traffic) on a UDP flow.

    An RTP stream is identified like Wireshark's: addresses, ports and SSRC. Non-RTP flows
    (opaque encrypted media, Telegram reflector traffic, STUN, DTLS) are one stream each with
    ``ssrc`` ``None``.
    """

    index: int
    flow: int
    src: str
    sport: int
    dst: str
    dport: int
    ssrc: int | None
    kind: str
    app: str | None
    transport: str  # "udp" or "turn-channel"
    payload_types: tuple[int, ...]
    codec: str | None
    clock_rate_hz: int | None
    clock_source: str | None  # "static", "sdp", "inferred" or None
    sdp_signalled: bool
    series: Series
    stats: StreamStats
    reverse: int | None = None  # index of the stream going the other way, if any
    call: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.src}:{self.sport} → {self.dst}:{self.dport}"

    @property
    def is_media(self) -> bool:
        return self.kind in (KIND_RTP, KIND_TELEGRAM, KIND_OPAQUE)

    @property
    def ip_overhead_bytes(self) -> int:
        """IP + UDP header bytes per packet (28 for IPv4, 48 for IPv6): what a censor's
        token bucket counts on top of the UDP payload."""
        return IPV6_UDP_OVERHEAD if ":" in self.src else IPV4_UDP_OVERHEAD

    @property
    def payload_bps(self) -> float:
        """Mean bit rate of the UDP payloads (what TShark's stream table counts)."""
        return self.stats.bitrate_bps

    @property
    def ip_bps(self) -> float:
        """Mean bit rate at the IP layer (payload plus IP and UDP headers): the unit of every
        rate cap the analysis reports (``estimate.rate_bps``)."""
        dur = self.stats.duration_s
        if dur <= 0:
            return 0.0
        return (self.stats.bytes + self.stats.packets * self.ip_overhead_bytes) * 8 / dur

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "index": self.index, "src": self.src, "sport": self.sport, "dst": self.dst,
            "dport": self.dport, "ssrc": self.ssrc, "kind": self.kind, "app": self.app,
            "transport": self.transport,
            "payload_type": self.payload_types[0] if self.payload_types else None,
            "payload_types": list(self.payload_types), "codec": self.codec,
            "clock_rate_hz": self.clock_rate_hz, "clock_source": self.clock_source,
            "sdp_signalled": self.sdp_signalled, "reverse": self.reverse, "call": self.call,
            "ip_bps": self.ip_bps, "payload_bps": self.payload_bps,
        }
        d.update(self.stats.to_dict())
        d.update(self.extra)
        return d


#: Path switch kinds (how the media's 5-tuple changed).
SWITCH_IP_VERSION = "ip_version"  # IPv6 <-> IPv4
SWITCH_RELAY_TO_P2P = "relay_to_p2p"
SWITCH_P2P_TO_RELAY = "p2p_to_relay"
SWITCH_ADDRESS = "address"  # another address (another relay, Wi-Fi -> mobile)
SWITCH_PORT = "port"  # same addresses, new ports


@dataclass(frozen=True)
class PathSwitch:
    """Media of one direction moved to a new 5-tuple mid-call (ICE restart, handover,
    relay -> peer-to-peer upgrade): a confounder, not loss. ``at_s`` is the first packet on
    the new path, ``gap_s`` the silence between the old path's last packet and it (0 when
    the paths overlap); ``matched_by`` says what tied the two: ``ssrc`` (the same RTP
    source) or ``cadence`` (same packet rhythm and sizes right after the old path ended)."""

    at_s: float
    gap_s: float
    from_stream: int
    to_stream: int
    kind: str
    matched_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"at_s": self.at_s, "gap_s": self.gap_s, "from_stream": self.from_stream,
                "to_stream": self.to_stream, "kind": self.kind, "matched_by": self.matched_by}


@dataclass(frozen=True)
class Call:
    """Media streams that belong to one call: both directions (paired by ``Stream.reverse``,
    also on asymmetric ports), every path they took, joined by SIP dialog, SSRC, shared
    endpoints in time, or a path switch. ``sip_call_ids``: the SIP dialogs that set it up;
    ``app_evidence``: why ``app`` was chosen (strongest first)."""

    index: int
    streams: tuple[int, ...]
    app: str | None
    start_s: float
    end_s: float
    path_switches: tuple[PathSwitch, ...] = ()
    sip_call_ids: tuple[str, ...] = ()
    app_evidence: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        """The call's number in every output (from 1; ``index`` counts from 0)."""
        return self.index + 1

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "number": self.number, "streams": list(self.streams),
                "app": self.app, "start_s": self.start_s, "end_s": self.end_s,
                "path_switches": [p.to_dict() for p in self.path_switches],
                "sip_call_ids": list(self.sip_call_ids),
                "app_evidence": list(self.app_evidence)}
