"""Tiny crafted captures for tests.

Frames are built with scapy; pcap and pcapng files are assembled byte by byte, so every
header field (byte order, time resolution, snap length, block lengths) is under the test's
control and a test can damage exactly the byte it means to. Everything returns ``bytes``;
tests hand them to the reader as a ``BytesIO`` or write them to ``tmp_path``.

Typical use::

    frames = [Rec(ts_ns, frame(LINKTYPE_ETHERNET, udp4(payload=b"hi")))]
    table = read_packets(io.BytesIO(pcap_bytes(frames)))
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.packet import Packet, Raw

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_USER0 = 147
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
SHB_TYPE = 0x0A0D0D0A
IDB_TYPE = 0x00000001
OPB_TYPE = 0x00000002
SPB_TYPE = 0x00000003
NRB_TYPE = 0x00000004
ISB_TYPE = 0x00000005
EPB_TYPE = 0x00000006
CUSTOM_TYPE = 0x00000BAD
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14

ETH_HEADER_LEN = 14
IPV4_HEADER_LEN = 20
IPV6_HEADER_LEN = 40
UDP_HEADER_LEN = 8
RTP_HEADER_LEN = 12

#: Every link type the reader decodes, with a short id for test names.
DECODED_LINKTYPES = {
    "ethernet": LINKTYPE_ETHERNET,
    "sll": LINKTYPE_LINUX_SLL,
    "sll2": LINKTYPE_LINUX_SLL2,
    "raw": LINKTYPE_RAW,
    "null": LINKTYPE_NULL,
    "loop": LINKTYPE_LOOP,
}

SRC4, DST4 = "192.0.2.1", "198.51.100.2"
SRC6, DST6 = "2001:db8::1", "2001:db8::2"


@dataclass(frozen=True)
class Rec:
    """One captured record: its time, the bytes as captured, and the length on the wire."""

    ts_ns: int
    data: bytes
    origlen: int | None = None  # None: same as len(data)

    @property
    def wire_len(self) -> int:
        return len(self.data) if self.origlen is None else self.origlen


# -- frames ---------------------------------------------------------------------------------

def udp4(sport: int = 5004, dport: int = 6004, payload: bytes = b"", *, src: str = SRC4,
         dst: str = DST4) -> Packet:
    """An IPv4/UDP datagram (scapy packet)."""
    return IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)


def udp6(sport: int = 5004, dport: int = 6004, payload: bytes = b"", *, src: str = SRC6,
         dst: str = DST6, ext: Sequence[Packet] = ()) -> Packet:
    """An IPv6/UDP datagram, with the given extension headers between IPv6 and UDP."""
    pkt: Packet = IPv6(src=src, dst=dst)
    for h in ext:
        pkt = pkt / h
    return pkt / UDP(sport=sport, dport=dport) / Raw(payload)


def frame(linktype: int, l3: Packet | bytes, *, vlans: Sequence[int] = (),
          qinq: bool = False, null_big: bool = False) -> bytes:
    """Wrap an IP packet in the link-layer header of ``linktype``.

    ``vlans`` adds 802.1Q tags to an Ethernet frame (``qinq`` makes the outer one 802.1ad);
    ``null_big`` writes a BSD NULL family field big-endian instead of little-endian.
    """
    raw = bytes(l3)
    version = raw[0] >> 4
    if linktype == LINKTYPE_ETHERNET:
        eth: Packet = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        for i, vid in enumerate(vlans):
            eth = eth / (Dot1AD(vlan=vid) if qinq and i == 0 else Dot1Q(vlan=vid))
        if not vlans:
            eth.type = 0x0800 if version == 4 else 0x86DD
        else:
            eth.lastlayer().type = 0x0800 if version == 4 else 0x86DD
        return bytes(eth) + raw
    if linktype == LINKTYPE_LINUX_SLL:
        return bytes(CookedLinux(proto=0x0800 if version == 4 else 0x86DD)) + raw
    if linktype == LINKTYPE_LINUX_SLL2:
        return bytes(CookedLinuxV2(proto=0x0800 if version == 4 else 0x86DD)) + raw
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        family = 2 if version == 4 else 30  # AF_INET, Darwin AF_INET6
        big = null_big or linktype == LINKTYPE_LOOP
        return struct.pack(">I" if big else "<I", family) + raw
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return raw
    raise ValueError(f"no frame builder for link type {linktype}")


def rtp(seq: int, ts: int, ssrc: int, *, pt: int = 0, marker: bool = False,
        payload: bytes = b"\xd5" * 160) -> bytes:
    """An RTP packet (RFC 3550 fixed header, no CSRC or extension)."""
    b0 = 0x80
    b1 = (0x80 if marker else 0) | (pt & 0x7F)
    return struct.pack("!BBHII", b0, b1, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


# -- pcap -----------------------------------------------------------------------------------

def pcap_header(*, linktype: int = LINKTYPE_ETHERNET, big: bool = False, nanos: bool = False,
                snaplen: int = 65535) -> bytes:
    e = ">" if big else "<"
    magic = PCAP_MAGIC_NS if nanos else PCAP_MAGIC_US
    return struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(rec: Rec, *, big: bool = False, nanos: bool = False,
                snaplen: int = 65535) -> bytes:
    e = ">" if big else "<"
    sec, ns = divmod(rec.ts_ns, 1_000_000_000)
    frac = ns if nanos else ns // 1000
    data = rec.data[:snaplen]
    return struct.pack(e + "IIII", sec, frac, len(data), rec.wire_len) + data


def pcap_bytes(records: Iterable[Rec], *, linktype: int = LINKTYPE_ETHERNET, big: bool = False,
               nanos: bool = False, snaplen: int = 65535) -> bytes:
    """A classic pcap file; each record's data is cut to ``snaplen`` as a capture would."""
    out = [pcap_header(linktype=linktype, big=big, nanos=nanos, snaplen=snaplen)]
    out += [pcap_record(r, big=big, nanos=nanos, snaplen=snaplen) for r in records]
    return b"".join(out)


# -- pcapng ---------------------------------------------------------------------------------

def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def block(btype: int, body: bytes, *, big: bool = False) -> bytes:
    """A pcapng block: type, total length, body padded to 4 bytes, total length again."""
    e = ">" if big else "<"
    body = _pad4(body)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def option(code: int, value: bytes, *, big: bool = False) -> bytes:
    return struct.pack((">" if big else "<") + "HH", code, len(value)) + _pad4(value)


def end_of_options(*, big: bool = False) -> bytes:
    return struct.pack((">" if big else "<") + "HH", 0, 0)


def shb(*, big: bool = False) -> bytes:
    e = ">" if big else "<"
    return block(SHB_TYPE, struct.pack(e + "IHHq", BYTE_ORDER_MAGIC, 1, 0, -1), big=big)


def idb(linktype: int, *, snaplen: int = 0, tsresol: int | None = None,
        tsoffset_s: int | None = None, big: bool = False) -> bytes:
    """An interface description block; ``tsresol`` is the raw if_tsresol byte (6 = µs,
    9 = ns, 0x80 | k = 2^-k s)."""
    e = ">" if big else "<"
    body = struct.pack(e + "HHI", linktype, 0, snaplen)
    opts = b""
    if tsresol is not None:
        opts += option(OPT_IF_TSRESOL, bytes([tsresol]), big=big)
    if tsoffset_s is not None:
        opts += option(OPT_IF_TSOFFSET, struct.pack(e + "q", tsoffset_s), big=big)
    if opts:
        opts += end_of_options(big=big)
    return block(IDB_TYPE, body + opts, big=big)


def ticks(ts_ns: int, tsresol: int | None = None, tsoffset_s: int = 0) -> int:
    """The pcapng timestamp of ``ts_ns`` for an interface with that resolution and offset
    (rounded down for resolutions coarser than 1 ns)."""
    units = _units(tsresol)
    return ((ts_ns - tsoffset_s * 1_000_000_000) * units) // 1_000_000_000


def ticks_to_ns(t: int, tsresol: int | None = None, tsoffset_s: int = 0) -> int:
    """What a correct reader makes of ``t`` ticks: the exact value, rounded down to a ns."""
    return (t * 1_000_000_000) // _units(tsresol) + tsoffset_s * 1_000_000_000


def _units(tsresol: int | None) -> int:
    if tsresol is None:
        return 1_000_000
    return 2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10 ** tsresol


def epb(iface: int, t: int, data: bytes, *, origlen: int | None = None,
        big: bool = False) -> bytes:
    """An enhanced packet block of ``t`` ticks."""
    e = ">" if big else "<"
    hdr = struct.pack(e + "IIIII", iface, t >> 32, t & 0xFFFFFFFF, len(data),
                      len(data) if origlen is None else origlen)
    return block(EPB_TYPE, hdr + data, big=big)


def opb(iface: int, t: int, data: bytes, *, origlen: int | None = None,
        big: bool = False) -> bytes:
    """An obsolete packet block (16-bit interface id and drops counter)."""
    e = ">" if big else "<"
    hdr = struct.pack(e + "HHIIII", iface, 0, t >> 32, t & 0xFFFFFFFF, len(data),
                      len(data) if origlen is None else origlen)
    return block(OPB_TYPE, hdr + data, big=big)


def spb(data: bytes, *, origlen: int | None = None, big: bool = False) -> bytes:
    """A simple packet block (interface 0, no timestamp, captured length implied)."""
    e = ">" if big else "<"
    return block(SPB_TYPE, struct.pack(e + "I", len(data) if origlen is None else origlen)
                 + data, big=big)


def nrb(*, big: bool = False) -> bytes:
    """A name resolution block mapping 192.0.2.1 to a name."""
    e = ">" if big else "<"
    rec = bytes([192, 0, 2, 1]) + b"host.example\0"
    body = struct.pack(e + "HH", 1, len(rec)) + _pad4(rec) + struct.pack(e + "HH", 0, 0)
    return block(NRB_TYPE, body, big=big)


def isb(iface: int = 0, *, big: bool = False) -> bytes:
    """An interface statistics block with no options."""
    return block(ISB_TYPE, struct.pack((">" if big else "<") + "III", iface, 0, 0), big=big)


def custom_block(*, big: bool = False) -> bytes:
    """A custom block (PEN 32473, the documentation enterprise number)."""
    return block(CUSTOM_TYPE, struct.pack((">" if big else "<") + "I", 32473) + b"opaque",
                 big=big)


def pcapng_bytes(records: Iterable[Rec], *, linktype: int = LINKTYPE_ETHERNET,
                 big: bool = False, tsresol: int | None = 9, snaplen: int = 0) -> bytes:
    """A one-section, one-interface pcapng of enhanced packet blocks."""
    out = [shb(big=big), idb(linktype, snaplen=snaplen, tsresol=tsresol, big=big)]
    for r in records:
        data = r.data[:snaplen] if snaplen else r.data
        out.append(epb(0, ticks(r.ts_ns, tsresol), data, origlen=r.wire_len, big=big))
    return b"".join(out)


# -- files ----------------------------------------------------------------------------------

def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def rtp_capture(packets: Iterable[tuple[int, bytes]], *, linktype: int = LINKTYPE_ETHERNET,
                fmt: str = "pcap", ipv6: bool = False, sport: int = 40000,
                dport: int = 50000, src: str | None = None, dst: str | None = None,
                compress: bool = False) -> bytes:
    """A capture of one UDP flow carrying ``packets`` ((ts_ns, RTP bytes) pairs).

    ``fmt`` is ``"pcap"``, ``"pcap-ns"`` or ``"pcapng"``; ``compress`` gzips the result.
    """
    recs = []
    for ts_ns, payload in packets:
        l3 = (udp6(sport, dport, payload, src=src or SRC6, dst=dst or DST6) if ipv6
              else udp4(sport, dport, payload, src=src or SRC4, dst=dst or DST4))
        recs.append(Rec(ts_ns, frame(linktype, l3)))
    if fmt == "pcapng":
        data = pcapng_bytes(recs, linktype=linktype)
    elif fmt in ("pcap", "pcap-ns"):
        data = pcap_bytes(recs, linktype=linktype, nanos=fmt == "pcap-ns")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return gz(data) if compress else data


def write_rtp_capture(path: str | Path, packets: Iterable[tuple[int, bytes]],
                      **kwargs: object) -> Path:
    """Write :func:`rtp_capture` to ``path`` and return the path."""
    p = Path(path)
    p.write_bytes(rtp_capture(packets, **kwargs))  # type: ignore[arg-type]
    return p
