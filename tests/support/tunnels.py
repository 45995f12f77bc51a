"""Wrap every IP packet of a capture in a tunnel, as a router or a mobile core captures it.

Each wrapper takes the inner IP packet and returns the outer frame (Ethernet); the outer
headers are built byte by byte from the RFC layouts (IPv4 checksum computed, UDP checksum 0).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from tests.support.pcapdroid import ip_packets

MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
OUTER_SRC, OUTER_DST = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7])


def _checksum(h: bytes) -> int:
    s = sum(struct.unpack(f">{len(h) // 2}H", h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto: int, payload: bytes, ident: int = 0) -> bytes:
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64,
                    proto, 0, OUTER_SRC, OUTER_DST)
    return h[:10] + struct.pack(">H", _checksum(h)) + h[12:] + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def ether(ethertype: int, payload: bytes) -> bytes:
    return MAC_B + MAC_A + struct.pack(">H", ethertype) + payload


def ip_ethertype(ip: bytes) -> int:
    return 0x0800 if ip[0] >> 4 == 4 else 0x86DD


def gtpu(ip: bytes, *, extension: bool = False) -> bytes:
    """GTP-U G-PDU (TEID 0x1234) over IPv4/UDP 2152; with a PDU-session extension header."""
    if extension:  # E flag: sequence/N-PDU/next-type word, then one 4-byte extension
        body = struct.pack(">HBB", 0, 0, 0x85) + bytes([1, 0x10, 0x01, 0]) + ip
        hdr = struct.pack(">BBHI", 0x34, 0xFF, len(body), 0x1234)
    else:
        body = ip
        hdr = struct.pack(">BBHI", 0x30, 0xFF, len(body), 0x1234)
    return ether(0x0800, ipv4(17, udp(2152, 2152, hdr + body)))


def vxlan(ip: bytes) -> bytes:
    """VXLAN (VNI 42) over IPv4/UDP 4789, carrying an Ethernet frame."""
    inner = ether(ip_ethertype(ip), ip)
    return ether(0x0800, ipv4(17, udp(49152, 4789, struct.pack(">II", 0x08000000, 42 << 8)
                                      + inner)))


def gre(ip: bytes) -> bytes:
    """GRE with a key (flags 0x2000) over IPv4, carrying the IP packet."""
    return ether(0x0800, ipv4(47, struct.pack(">HHI", 0x2000, ip_ethertype(ip), 7) + ip))


def mpls(ip: bytes) -> bytes:
    """Two MPLS labels (the second bottom of stack) over Ethernet."""
    labels = struct.pack(">II", (100 << 12) | 64, (200 << 12) | 0x100 | 64)
    return ether(0x8847, labels + ip)


def pppoe(ip: bytes) -> bytes:
    """A PPPoE session frame (session 0x0011) carrying the IP packet."""
    proto = 0x0021 if ip[0] >> 4 == 4 else 0x0057
    return ether(0x8864, struct.pack(">BBHHH", 0x11, 0, 0x0011, len(ip) + 2, proto) + ip)


WRAPPERS: dict[str, Callable[[bytes], bytes]] = {
    "gtpu": gtpu, "gtpu-ext": lambda ip: gtpu(ip, extension=True), "vxlan": vxlan,
    "gre": gre, "mpls": mpls, "pppoe": pppoe,
}


def encapsulate(src: str | Path, dst: str | Path, wrap: Callable[[bytes], bytes]) -> int:
    """Write ``src``'s IP packets to ``dst`` (Ethernet pcap), each wrapped by ``wrap``."""
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
    pkts = ip_packets(src)
    for sec, usec, ip in pkts:
        frame = wrap(ip)
        parts.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    Path(dst).write_bytes(b"".join(parts))
    return len(pkts)


RADIOTAP_MIN = bytes([0, 0, 8, 0, 0, 0, 0, 0])  # version 0, length 8, no fields present
LINKTYPE_IEEE802_11_RADIOTAP = 127


def wifi(ip: bytes) -> bytes:
    """An 802.11 data frame (to the AP) with a minimal radiotap header and LLC/SNAP."""
    hdr = bytes([0x08, 0x01, 0, 0]) + MAC_B + MAC_A + MAC_B + bytes(2)
    snap = bytes([0xAA, 0xAA, 0x03, 0, 0, 0]) + struct.pack(">H", ip_ethertype(ip))
    return RADIOTAP_MIN + hdr + snap + ip


def encapsulate_wifi(src: str | Path, dst: str | Path) -> int:
    """Write ``src``'s IP packets as a radiotap 802.11 capture (link type 127)."""
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144,
                         LINKTYPE_IEEE802_11_RADIOTAP)]
    pkts = ip_packets(src)
    for sec, usec, ip in pkts:
        frame = wifi(ip)
        parts.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    Path(dst).write_bytes(b"".join(parts))
    return len(pkts)


ERF_TYPE_ETH = 2
ERF_FLAG_VLEN = 0x04


def erf(src: str | Path, dst: str | Path) -> int:
    """Write an Ethernet pcap as Endace ERF (editcap cannot): per record a 16-byte header
    (timestamp: 64-bit little-endian, 32.32 fixed-point seconds; type 2 Ethernet; flags
    "varying length"; record length, loss counter, wire length, big-endian), 2 pad bytes,
    the frame, zeros to 8-byte alignment."""
    data = Path(src).read_bytes()
    out, pos, n = [], 24, 0
    while pos + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16: pos + 16 + incl]
        pos += 16 + incl
        ts = (sec << 32) | ((usec << 32) // 1_000_000)
        body = b"\0\0" + frame
        pad = -(16 + len(body)) % 8
        out.append(struct.pack("<Q", ts) + struct.pack(">BBHHH", ERF_TYPE_ETH, ERF_FLAG_VLEN,
                                                       16 + len(body) + pad, 0, len(frame))
                   + body + bytes(pad))
        n += 1
    Path(dst).write_bytes(b"".join(out))
    return n
