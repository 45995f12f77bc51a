"""The decoded capture as columns: one row per UDP datagram, plus the table of UDP flows."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

import numpy as np

from analyzer.capture.ipudp import DecodeCounters, IcmpError
from analyzer.capture.pcapdroid import AppTable


def udp_length(length: np.ndarray) -> np.ndarray:
    """Payload lengths as stored (uint16): a UDP datagram carries at most 65 535 bytes, so
    only a malformed header (whose captured payload stood in for its length) is clipped."""
    return np.clip(length, 0, 0xFFFF).astype(np.uint16)


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
    sport: np.ndarray  # uint16
    dport: np.ndarray
    proto: np.ndarray  # uint8: 17 UDP, 6 TCP (TURN ChannelData framed in TCP)
    #: The app that sent each flow where the capture says so (PCAPdroid), else None.
    apps: AppTable | None = None
    #: Each flow's opposite direction (index or -1) where the reader found it with
    #: its flow map; else :meth:`reverse_index` works it out.
    reverse: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.sport.size)

    def src_str(self, i: int) -> str:
        return format_address(self.src[i])

    def dst_str(self, i: int) -> str:
        return format_address(self.dst[i])
    def reverse_index(self) -> np.ndarray:
        """For each flow, the index of the flow in the opposite direction, or -1.

        Vectorised (a capture may hold millions of flows): each flow's reverse key is
        looked up by its 64-bit hash in the sorted hashes of the flows, and every match is
        confirmed field by field, so a hash collision never pairs two unrelated flows."""
        if self.reverse is not None:
            return self.reverse
        m = len(self)
        rev = np.full(m, -1, dtype=np.int64)
        if m == 0:
            return rev
        h = flow_hash(self.src, self.dst, self.sport, self.dport, self.proto)
        back = flow_hash(self.dst, self.src, self.dport, self.sport, self.proto)
        order = np.argsort(h, kind="stable")
        hs = h[order]
        del h
        lo = np.searchsorted(hs, back, side="left")
        hi = np.searchsorted(hs, back, side="right")
        del back, hs
        rows = np.flatnonzero(hi > lo)
        for k in range(int((hi - lo).max(initial=0))):  # usually one candidate per hash
            rows = rows[lo[rows] + k < hi[rows]]
            cand = order[lo[rows] + k]
            same = self._reverse_of(rows, cand)
            rev[rows[same]] = cand[same]
            rows = rows[~same]
        return rev

    def _reverse_of(self, rows: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Whether flow ``cand[i]`` is exactly the reverse of flow ``rows[i]``."""
        return ((self.sport[cand] == self.dport[rows]) & (self.dport[cand] == self.sport[rows])
                & (self.proto[cand] == self.proto[rows])
                & (self.src[cand] == self.dst[rows]).all(axis=1)
                & (self.dst[cand] == self.src[rows]).all(axis=1))


_MIX1 = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)
#: A secret per process, mixed into every flow hash. The mix is invertible, so without it a
#: crafted capture could give thousands of flows one hash and make every lookup walk them
#: all; with it, collisions cannot be aimed (as Python salts its own str hashes). Flow ids
#: and every output are the same whatever it is: hashes only find keys, which are then
#: confirmed byte for byte.
_SALT = np.uint64(int.from_bytes(os.urandom(8), "little"))


def flow_hash(src: np.ndarray, dst: np.ndarray, sport: np.ndarray, dport: np.ndarray,
              proto: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each flow key (16-byte addresses, ports, protocol)."""
    s = np.ascontiguousarray(src).view(np.uint64)
    d = np.ascontiguousarray(dst).view(np.uint64)
    ports = (sport.astype(np.uint64) << np.uint64(16)) | dport.astype(np.uint64) | \
        (proto.astype(np.uint64) << np.uint64(32))
    h = (ports ^ _SALT) * _MIX1
    for col in (s[:, 0], s[:, 1], d[:, 0], d[:, 1]):
        h = (h ^ col) * _MIX2
        h ^= h >> np.uint64(29)
    return h


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
    udp_len: np.ndarray  # uint16 payload length (UDP header; ChannelData frame over TCP)
    encap: np.ndarray  # uint8: 0 as captured, 2 unwrapped from a TURN Send/Data indication
    flags: np.ndarray  # uint8 F_* bits of analyzer.capture.dissect
    payload_type: np.ndarray  # uint8 RTP payload type (0 where not RTP)
    seq: np.ndarray  # uint16 RTP sequence number
    rtp_ts: np.ndarray  # uint32 RTP timestamp
    ssrc: np.ndarray  # uint32
    stun_type: np.ndarray  # uint16 STUN message type (0 where not STUN)
    tag: np.ndarray  # uint16 hash of the first 16 payload bytes
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
