"""The decoded capture as columns: one row per UDP datagram, plus the table of UDP flows."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import numpy as np

from analyzer.capture.ipudp import DecodeCounters, IcmpError
from analyzer.capture.pcapdroid import AppTable


def format_address(addr16: bytes | np.ndarray) -> str:
    """Text form of a 16-byte address; IPv4-mapped addresses print as dotted quads."""
    b = bytes(addr16)
    if b[:12] == b"\x00" * 10 + b"\xff\xff":
        return ".".join(str(x) for x in b[12:])
    return str(ipaddress.IPv6Address(b))


@dataclass(frozen=True)
class FlowTable:
    """Unique UDP flows (one direction each): addresses as 16-byte rows, ports as ints."""

    src: np.ndarray  # (m, 16) uint8
    dst: np.ndarray
    sport: np.ndarray  # int32
    dport: np.ndarray
    proto: np.ndarray  # int32: 17 UDP, 6 TCP (TURN ChannelData framed in TCP)
    #: The app that sent each flow where the capture says so (PCAPdroid), else None.
    apps: AppTable | None = None

    def __len__(self) -> int:
        return int(self.sport.size)

    def src_str(self, i: int) -> str:
        return format_address(self.src[i])

    def dst_str(self, i: int) -> str:
        return format_address(self.dst[i])

    def reverse_index(self) -> np.ndarray:
        """For each flow, the index of the flow in the opposite direction, or -1."""
        lookup = {self._key(i): i for i in range(len(self))}
        rev = np.full(len(self), -1, dtype=np.int64)
        for i in range(len(self)):
            k = (bytes(self.dst[i]), bytes(self.src[i]), int(self.dport[i]), int(self.sport[i]),
                 int(self.proto[i]))
            rev[i] = lookup.get(k, -1)
        return rev

    def _key(self, i: int) -> tuple[bytes, bytes, int, int, int]:
        return (bytes(self.src[i]), bytes(self.dst[i]), int(self.sport[i]), int(self.dport[i]),
                int(self.proto[i]))


@dataclass(frozen=True)
class PacketTable:
    """Every complete UDP datagram of a capture, as read-only numpy columns.

    ``ts_ns`` is absolute (ns since the Unix epoch); ``t0_ns`` is the time of the capture's
    first record of any kind, the origin of every ``*_s`` time the package reports (like
    Wireshark's relative time). ``sha256`` and ``file_size_bytes`` describe the file as
    stored on disk (before gunzip; for a file object, the bytes read from it);
    ``content_secret`` is derived from the same bytes but cannot be computed from ``sha256``
    (see :meth:`analyzer.capture.source.ByteSource.content_secret`).
    """

    path: str
    fmt: str
    frame: np.ndarray  # uint32, 1-based record number in the capture
    ts_ns: np.ndarray  # int64
    flow: np.ndarray  # int32 index into ``flows``
    udp_len: np.ndarray  # int32 payload length (UDP header; ChannelData frame over TCP)
    encap: np.ndarray  # uint8: 0 as captured, 2 unwrapped from a TURN Send/Data indication
    flags: np.ndarray  # uint8 F_* bits of analyzer.capture.dissect
    payload_type: np.ndarray  # uint8 RTP payload type (0 where not RTP)
    seq: np.ndarray  # uint16 RTP sequence number
    rtp_ts: np.ndarray  # uint32 RTP timestamp
    ssrc: np.ndarray  # uint32
    stun_type: np.ndarray  # uint16 STUN message type (0 where not STUN)
    tag: np.ndarray  # uint32 hash of the first 16 payload bytes
    flows: FlowTable
    t0_ns: int
    records: int
    linktypes: tuple[int, ...]
    counters: DecodeCounters
    kept: dict[int, bytes] = field(default_factory=dict)
    tcp_sip: tuple[tuple[int, int, bytes], ...] = ()
    #: App evidence (DNS responses, STUN with attributes, TLS ClientHellos), bounded:
    #: (src, sport, dst, dport, payload), addresses as 16 bytes (IPv4 mapped).
    hints: tuple[tuple[bytes, int, bytes, int, bytes], ...] = ()
    icmp: tuple[IcmpError, ...] = ()
    warnings: tuple[str, ...] = ()
    sha256: str = ""
    file_size_bytes: int = 0
    content_secret: bytes = field(default=b"", repr=False)

    def __len__(self) -> int:
        return int(self.frame.size)

    @property
    def duration_s(self) -> float:
        if self.ts_ns.size == 0:
            return 0.0
        return float(self.ts_ns.max() - self.t0_ns) / 1e9
