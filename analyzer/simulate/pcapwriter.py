"""Write classic pcap files fast, and build Ethernet/IP/UDP frames for many packets at once.

Frames live in a :class:`PackedFrames` (one byte buffer plus a length per frame). The
builders (:func:`build_udp_frames`, :func:`build_udp6_frames`,
:func:`build_icmp_port_unreachable_frames`) fill header columns with numpy and lay headers
and payloads out with two vectorized copies; :class:`PcapWriter` packs record headers the
same way and writes in chunks. Writing a million packets takes well under a second or two.

Files are little-endian pcap 2.4, microsecond timestamps by default (``nanosecond=True``
writes the 0xA1B23C4D nanosecond variant). Timestamps are int64 nanoseconds since the Unix
epoch; microsecond files truncate them.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

import numpy as np

from analyzer.protocol import (
    ETH_HEADER_LEN,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    IPPROTO_ICMP,
    IPPROTO_UDP,
    IPV4_HEADER_LEN,
    IPV6_HEADER_LEN,
    LINKTYPE_ETHERNET,
    PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
    PCAP_RECORD_HEADER_LEN,
    PCAP_VERSION_MAJOR,
    PCAP_VERSION_MINOR,
    UDP_HEADER_LEN,
)
from analyzer.simulate.packing import (
    be16,
    be32,
    exclusive_cumsum,
    fold_checksum,
    gather_segments,
    interleave,
    ones_complement_word_sums,
)

DEFAULT_SNAPLEN = 262144
ICMP_HEADER_LENGTH = 8
IPV4_DONT_FRAGMENT = 0x4000
ICMP_TYPE_DEST_UNREACHABLE = 3
ICMP_CODE_PORT_UNREACHABLE = 3
MAX_UDP_PAYLOAD_IPV4 = 65535 - IPV4_HEADER_LEN - UDP_HEADER_LEN

DEFAULT_SRC_MAC = bytes.fromhex("020000000001")
DEFAULT_DST_MAC = bytes.fromhex("020000000002")
#: Records packed and written per step by :class:`PcapWriter`.
WRITE_CHUNK_RECORDS = 1 << 18

Link = Literal["ethernet", "raw"]


@dataclass(frozen=True, eq=False)
class PackedFrames:
    """Frames stored back to back: frame i is ``buf[offsets[i]:offsets[i] + lengths[i]]``."""

    buf: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        buf = np.ascontiguousarray(self.buf, dtype=np.uint8).reshape(-1)
        lengths = np.ascontiguousarray(self.lengths, dtype=np.int64).reshape(-1)
        if lengths.size and int(lengths.min()) < 0:
            raise ValueError("PackedFrames: negative frame length")
        if int(lengths.sum()) != buf.size:
            raise ValueError(
                f"PackedFrames: lengths add up to {int(lengths.sum())} bytes, buf has {buf.size}"
            )
        object.__setattr__(self, "buf", buf)
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "offsets", exclusive_cumsum(lengths))

    @classmethod
    def from_list(cls, frames: Sequence[bytes]) -> PackedFrames:
        lengths = np.fromiter((len(f) for f in frames), dtype=np.int64, count=len(frames))
        return cls(np.frombuffer(b"".join(frames), dtype=np.uint8), lengths)

    @classmethod
    def concat(cls, parts: Sequence[PackedFrames]) -> PackedFrames:
        if not parts:
            return cls(np.empty(0, np.uint8), np.empty(0, np.int64))
        return cls(
            np.concatenate([p.buf for p in parts]), np.concatenate([p.lengths for p in parts])
        )

    def __len__(self) -> int:
        return int(self.lengths.size)

    def __getitem__(self, i: int) -> bytes:
        start = int(self.offsets[i])
        return self.buf[start:start + int(self.lengths[i])].tobytes()

    def to_list(self) -> list[bytes]:
        return [self[i] for i in range(len(self))]

    def take(self, index: np.ndarray) -> PackedFrames:
        """The frames at ``index`` (any order, repeats allowed)."""
        index = np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        return PackedFrames(gather_segments(self.buf, self.offsets[index], lengths), lengths)

    def truncated(self, snaplen: int) -> PackedFrames:
        """Each frame cut to at most ``snaplen`` bytes."""
        if not (self.lengths > snaplen).any():
            return self
        return PackedFrames(
            gather_segments(self.buf, self.offsets, np.minimum(self.lengths, snaplen)),
            np.minimum(self.lengths, snaplen),
        )

    def window(self, start: int, length: int) -> np.ndarray:
        """Bytes ``start:start + length`` of every frame, shape ``(n, length)``.

        Every frame must be at least ``start + length`` bytes long.
        """
        if len(self) and int(self.lengths.min()) < start + length:
            raise ValueError(f"a frame is shorter than {start + length} bytes")
        index = (self.offsets + start)[:, None] + np.arange(length, dtype=np.int64)
        return self.buf[index]


def ipv4_to_int(address: str) -> int:
    """``"192.0.2.1"`` -> 3221225985."""
    return int(ipaddress.IPv4Address(address))


def ipv6_to_bytes(address: str) -> np.ndarray:
    """An IPv6 address as 16 bytes (uint8 array)."""
    return np.frombuffer(ipaddress.IPv6Address(address).packed, dtype=np.uint8).copy()


def _column(values: object, n: int, dtype: type, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size != n):
        raise ValueError(f"{name}: expected a scalar or {n} values, got shape {arr.shape}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > np.iinfo(dtype).max):
        raise ValueError(f"{name}: values out of range for {np.dtype(dtype).name}")
    return np.broadcast_to(arr.astype(dtype), (n,))


def _mac(value: bytes, name: str) -> np.ndarray:
    if len(value) != 6:
        raise ValueError(f"{name}: a MAC address is 6 bytes, got {len(value)}")
    return np.frombuffer(value, dtype=np.uint8)


def _link_header(n: int, link: Link, ethertype: int, src_mac: bytes, dst_mac: bytes
                 ) -> np.ndarray:
    if link == "raw":
        return np.empty((n, 0), dtype=np.uint8)
    if link != "ethernet":
        raise ValueError(f"link: expected 'ethernet' or 'raw', got {link!r}")
    row = np.concatenate([
        _mac(dst_mac, "dst_mac"), _mac(src_mac, "src_mac"), be16(np.array([ethertype]))[0]
    ])
    return np.broadcast_to(row, (n, ETH_HEADER_LEN))


def _payload_lengths(payload_len: np.ndarray, limit: int) -> np.ndarray:
    lengths = np.asarray(payload_len, dtype=np.int64).reshape(-1)
    if lengths.size and (int(lengths.min()) < 0 or int(lengths.max()) > limit):
        raise ValueError(f"payload_len: lengths must lie in [0, {limit}]")
    return lengths


def ipv4_headers(src_ip: np.ndarray, dst_ip: np.ndarray, proto: int, total_len: np.ndarray,
                 ip_id: np.ndarray, ttl: np.ndarray) -> np.ndarray:
    """IPv4 headers (no options, DF set) with correct header checksums, shape ``(n, 20)``."""
    n = total_len.size
    h = np.zeros((n, IPV4_HEADER_LEN), dtype=np.uint8)
    h[:, 0] = 0x45
    h[:, 2:4] = be16(total_len)
    h[:, 4:6] = be16(ip_id)
    h[:, 6:8] = be16(np.array([IPV4_DONT_FRAGMENT]))
    h[:, 8] = ttl
    h[:, 9] = proto
    h[:, 12:16] = be32(src_ip)
    h[:, 16:20] = be32(dst_ip)
    wide = h.astype(np.uint64)
    sums = ((wide[:, 0::2] << np.uint64(8)) | wide[:, 1::2]).sum(axis=1)
    h[:, 10:12] = be16(fold_checksum(sums))
    return h


def _udp_header(sport: np.ndarray, dport: np.ndarray, udp_len: np.ndarray) -> np.ndarray:
    h = np.zeros((udp_len.size, UDP_HEADER_LEN), dtype=np.uint8)
    h[:, 0:2] = be16(sport)
    h[:, 2:4] = be16(dport)
    h[:, 4:6] = be16(udp_len)
    return h


def _fill_udp_checksums(frames: PackedFrames, udp_start: int, pseudo_sums: np.ndarray) -> None:
    """Write UDP checksums in place (all frames have their UDP header at ``udp_start``)."""
    seg_start = frames.offsets + udp_start
    seg_len = frames.lengths - udp_start
    sums = ones_complement_word_sums(frames.buf, seg_start, seg_len) + pseudo_sums
    csum = fold_checksum(sums)
    csum[csum == 0] = 0xFFFF
    pos = seg_start + 6
    frames.buf[pos] = (csum >> 8).astype(np.uint8)
    frames.buf[pos + 1] = (csum & 0xFF).astype(np.uint8)


def _assemble(prefix: np.ndarray, payload_buf: np.ndarray, payload_off: np.ndarray,
              lengths: np.ndarray) -> PackedFrames:
    body = gather_segments(payload_buf, payload_off, lengths)
    return PackedFrames(interleave(prefix, body, lengths), lengths + prefix.shape[1])


def build_udp_frames(
    src_ip: np.ndarray | int,
    dst_ip: np.ndarray | int,
    sport: np.ndarray | int,
    dport: np.ndarray | int,
    payload_buf: np.ndarray,
    payload_off: np.ndarray,
    payload_len: np.ndarray,
    *,
    link: Link = "ethernet",
    src_mac: bytes = DEFAULT_SRC_MAC,
    dst_mac: bytes = DEFAULT_DST_MAC,
    ttl: np.ndarray | int = 64,
    ip_id: np.ndarray | int | None = None,
    udp_checksum: bool = False,
) -> PackedFrames:
    """Ethernet (or raw) + IPv4 + UDP frames, one per payload.

    Payload i is ``payload_buf[payload_off[i]:payload_off[i] + payload_len[i]]``. Address,
    port, ``ttl`` and ``ip_id`` arguments are scalars or one value per packet (IPv4
    addresses as integers, see :func:`ipv4_to_int`). The IPv4 header checksum is always
    correct; the UDP checksum is 0 ("none") unless ``udp_checksum`` is set. ``ip_id``
    defaults to the packet index modulo 65536.
    """
    lengths = _payload_lengths(payload_len, MAX_UDP_PAYLOAD_IPV4)
    n = lengths.size
    src = _column(src_ip, n, np.uint32, "src_ip")
    dst = _column(dst_ip, n, np.uint32, "dst_ip")
    ids = np.arange(n) & 0xFFFF if ip_id is None else _column(ip_id, n, np.uint16, "ip_id")
    udp_len = lengths + UDP_HEADER_LEN
    prefix = np.concatenate([
        _link_header(n, link, ETHERTYPE_IPV4, src_mac, dst_mac),
        ipv4_headers(src, dst, IPPROTO_UDP, udp_len + IPV4_HEADER_LEN, ids,
                     _column(ttl, n, np.uint8, "ttl")),
        _udp_header(_column(sport, n, np.uint16, "sport"),
                    _column(dport, n, np.uint16, "dport"), udp_len),
    ], axis=1)
    frames = _assemble(prefix, payload_buf, np.asarray(payload_off, np.int64), lengths)
    if udp_checksum:
        src64, dst64 = src.astype(np.uint64), dst.astype(np.uint64)
        mask = np.uint64(0xFFFF)
        pseudo = ((src64 >> np.uint64(16)) + (src64 & mask) + (dst64 >> np.uint64(16))
                  + (dst64 & mask) + np.uint64(IPPROTO_UDP) + udp_len.astype(np.uint64))
        _fill_udp_checksums(frames, prefix.shape[1] - UDP_HEADER_LEN, pseudo)
    return frames


def _ipv6_column(values: np.ndarray, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.uint8)
    if arr.shape == (16,):
        return np.broadcast_to(arr, (n, 16))
    if arr.shape != (n, 16):
        raise ValueError(f"{name}: expected shape (16,) or ({n}, 16), got {arr.shape}")
    return arr


def build_udp6_frames(
    src_ip: np.ndarray,
    dst_ip: np.ndarray,
    sport: np.ndarray | int,
    dport: np.ndarray | int,
    payload_buf: np.ndarray,
    payload_off: np.ndarray,
    payload_len: np.ndarray,
    *,
    link: Link = "ethernet",
    src_mac: bytes = DEFAULT_SRC_MAC,
    dst_mac: bytes = DEFAULT_DST_MAC,
    hop_limit: int = 64,
) -> PackedFrames:
    """Ethernet (or raw) + IPv6 + UDP frames; addresses as 16 bytes (shape (16,) or (n, 16)).

    The UDP checksum, mandatory over IPv6, is always computed.
    """
    lengths = _payload_lengths(payload_len, 65535 - UDP_HEADER_LEN)
    n = lengths.size
    src = _ipv6_column(src_ip, n, "src_ip")
    dst = _ipv6_column(dst_ip, n, "dst_ip")
    udp_len = lengths + UDP_HEADER_LEN
    ip = np.zeros((n, IPV6_HEADER_LEN), dtype=np.uint8)
    ip[:, 0] = 0x60
    ip[:, 4:6] = be16(udp_len)
    ip[:, 6] = IPPROTO_UDP
    ip[:, 7] = hop_limit
    ip[:, 8:24] = src
    ip[:, 24:40] = dst
    prefix = np.concatenate([
        _link_header(n, link, ETHERTYPE_IPV6, src_mac, dst_mac),
        ip,
        _udp_header(_column(sport, n, np.uint16, "sport"),
                    _column(dport, n, np.uint16, "dport"), udp_len),
    ], axis=1)
    frames = _assemble(prefix, payload_buf, np.asarray(payload_off, np.int64), lengths)
    addr = ip[:, 8:40].astype(np.uint64)
    pseudo = ((addr[:, 0::2] << np.uint64(8)) | addr[:, 1::2]).sum(axis=1)
    pseudo += np.uint64(IPPROTO_UDP) + udp_len.astype(np.uint64)
    _fill_udp_checksums(frames, prefix.shape[1] - UDP_HEADER_LEN, pseudo)
    return frames


def build_icmp_port_unreachable_frames(
    src_ip: np.ndarray | int,
    dst_ip: np.ndarray | int,
    quoted: np.ndarray,
    *,
    link: Link = "ethernet",
    src_mac: bytes = DEFAULT_SRC_MAC,
    dst_mac: bytes = DEFAULT_DST_MAC,
    ttl: int = 64,
) -> PackedFrames:
    """ICMPv4 destination-unreachable / port-unreachable frames.

    ``quoted`` holds, per packet, the offending datagram's IPv4 header and first 8 bytes
    (shape ``(n, 28)``; e.g. ``frames.window(14, 28)`` of the UDP frames being refused).
    """
    quoted = np.asarray(quoted, dtype=np.uint8)
    if quoted.ndim != 2 or quoted.shape[1] != IPV4_HEADER_LEN + 8:
        raise ValueError(f"quoted: expected shape (n, 28), got {quoted.shape}")
    n = quoted.shape[0]
    icmp = np.zeros((n, ICMP_HEADER_LENGTH + quoted.shape[1]), dtype=np.uint8)
    icmp[:, 0] = ICMP_TYPE_DEST_UNREACHABLE
    icmp[:, 1] = ICMP_CODE_PORT_UNREACHABLE
    icmp[:, ICMP_HEADER_LENGTH:] = quoted
    wide = icmp.astype(np.uint64)
    icmp[:, 2:4] = be16(fold_checksum(((wide[:, 0::2] << np.uint64(8)) | wide[:, 1::2]).sum(1)))
    total = np.full(n, IPV4_HEADER_LEN + icmp.shape[1], dtype=np.int64)
    prefix = np.concatenate([
        _link_header(n, link, ETHERTYPE_IPV4, src_mac, dst_mac),
        ipv4_headers(_column(src_ip, n, np.uint32, "src_ip"),
                     _column(dst_ip, n, np.uint32, "dst_ip"), IPPROTO_ICMP, total,
                     np.arange(n) & 0xFFFF, np.full(n, ttl, dtype=np.uint8)),
        icmp,
    ], axis=1)
    return PackedFrames(prefix.reshape(-1), np.full(n, prefix.shape[1], dtype=np.int64))


class PcapWriter:
    """Streaming pcap writer: the global header on open, then :meth:`write` batches of records.

    ``dest`` is a path or a binary file object (left open on :meth:`close`).
    """

    def __init__(self, dest: str | os.PathLike[str] | BinaryIO, *, linktype: int = 1,
                 nanosecond: bool = False, snaplen: int = DEFAULT_SNAPLEN) -> None:
        if not 0 < snaplen <= 0xFFFFFFFF:
            raise ValueError(f"snaplen: must be positive, got {snaplen}")
        if not 0 <= linktype <= 0xFFFF:
            raise ValueError(f"linktype: out of range: {linktype}")
        self.nanosecond = nanosecond
        self.snaplen = snaplen
        self.packets_written = 0
        if isinstance(dest, str | os.PathLike):
            self._file: BinaryIO = open(dest, "wb")  # noqa: SIM115 - closed in close()
            self._owned = True
        else:
            self._file = dest
            self._owned = False
        magic = PCAP_MAGIC_NS if nanosecond else PCAP_MAGIC_US
        header = np.zeros(6, dtype="<u4")
        header[0] = magic
        header[1] = PCAP_VERSION_MAJOR | (PCAP_VERSION_MINOR << 16)
        header[4] = snaplen
        header[5] = linktype
        self._file.write(header.tobytes())

    def write(self, ts_ns: np.ndarray, frames: Sequence[bytes] | PackedFrames) -> None:
        """Append one record per frame, with timestamps ``ts_ns`` (int64 ns since the epoch)."""
        if not isinstance(frames, PackedFrames):
            frames = PackedFrames.from_list(frames)
        ts = np.asarray(ts_ns)
        if ts.shape != (len(frames),):
            raise ValueError(f"ts_ns: expected {len(frames)} timestamps, got shape {ts.shape}")
        if not np.issubdtype(ts.dtype, np.integer):
            raise ValueError("ts_ns: expected integer nanoseconds")
        ts = ts.astype(np.int64)
        if ts.size and (int(ts.min()) < 0 or int(ts.max()) // 1_000_000_000 > 0xFFFFFFFF):
            raise ValueError("ts_ns: timestamps must lie between 1970 and 2106")
        orig_len = frames.lengths
        kept = frames.truncated(self.snaplen)
        n = len(kept)
        for i in range(0, n, WRITE_CHUNK_RECORDS):
            j = min(n, i + WRITE_CHUNK_RECORDS)
            t = ts[i:j]
            rec = np.empty((j - i, 4), dtype="<u4")
            rec[:, 0] = t // 1_000_000_000
            frac = t % 1_000_000_000
            rec[:, 1] = frac if self.nanosecond else frac // 1000
            rec[:, 2] = kept.lengths[i:j]
            rec[:, 3] = orig_len[i:j]
            lo = int(kept.offsets[i]) if i < n else 0
            hi = int(kept.offsets[j - 1] + kept.lengths[j - 1])
            out = interleave(rec.view(np.uint8).reshape(-1, PCAP_RECORD_HEADER_LEN),
                             kept.buf[lo:hi], kept.lengths[i:j])
            self._file.write(out.data)
        self.packets_written += n

    def close(self) -> None:
        if self._owned:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_pcap(
    dest: str | os.PathLike[str] | BinaryIO,
    ts_ns: np.ndarray,
    frames: Sequence[bytes] | PackedFrames,
    *,
    linktype: int = LINKTYPE_ETHERNET,
    nanosecond: bool = False,
    snaplen: int = DEFAULT_SNAPLEN,
) -> None:
    """Write a whole pcap file: one record per frame with timestamp ``ts_ns[i]`` (ns)."""
    with PcapWriter(dest, linktype=linktype, nanosecond=nanosecond, snaplen=snaplen) as w:
        w.write(ts_ns, frames)
