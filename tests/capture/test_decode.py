"""Link layers, IPv4/IPv6 (extension headers, fragments), snap-length truncation and ICMP
errors, each from a frame crafted with scapy."""

from __future__ import annotations

import io
import socket

import numpy as np
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror, fragment
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    IPerror6,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from analyzer.capture.ipudp import HEAD_BYTES, UdpBatch, decode_batch
from analyzer.capture.reader import read_packets
from analyzer.capture.records import RecordWalker
from analyzer.capture.source import ByteSource
from analyzer.capture.table import PacketTable
from tests.support.craft import (
    DECODED_LINKTYPES,
    DST4,
    DST6,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    SRC4,
    SRC6,
    Rec,
    frame,
    pcap_bytes,
    rtp,
    rtp_capture,
    udp4,
    udp6,
)

T0 = 1_600_000_000_000_000_000


def read(data: bytes) -> PacketTable:
    return read_packets(io.BytesIO(data), name="crafted.pcap")


def one_link(linktype: int, *l3s: object, snaplen: int = 65535) -> PacketTable:
    recs = [Rec(T0 + i * 1000, frame(linktype, p)) for i, p in enumerate(l3s)]  # type: ignore[arg-type]
    return read(pcap_bytes(recs, linktype=linktype, snaplen=snaplen))


def decode(data: bytes) -> UdpBatch:
    """The decoder's view of a (single-chunk) capture, with ``cap_len`` and ``head``."""
    with ByteSource(io.BytesIO(data)) as src:
        (batch,) = list(RecordWalker(src))
    return decode_batch(batch)


def rows(t: PacketTable) -> list[tuple[str, str, int, int, int]]:
    return [(t.flows.src_str(f), t.flows.dst_str(f), int(t.flows.sport[f]),
             int(t.flows.dport[f]), int(n)) for f, n in zip(t.flow, t.udp_len, strict=True)]


# -- link types -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(DECODED_LINKTYPES))
@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_link_types(name: str, v6: bool) -> None:
    lt = DECODED_LINKTYPES[name]
    pkt = udp6(1111, 2222, b"v6 payload") if v6 else udp4(3333, 4444, b"v4")
    t = one_link(lt, pkt)
    want = (SRC6, DST6, 1111, 2222, 10) if v6 else (SRC4, DST4, 3333, 4444, 2)
    assert rows(t) == [want]
    assert t.linktypes == (lt,)
    assert t.counters.ipv6 == int(v6) and t.counters.ipv4 == int(not v6)


@pytest.mark.parametrize(("lt", "pkt"), [(LINKTYPE_IPV4, udp4(5, 6, b"abc")),
                                         (LINKTYPE_IPV6, udp6(5, 6, b"abc"))],
                         ids=["228-ipv4", "229-ipv6"])
def test_raw_ipv4_and_ipv6_link_types(lt: int, pkt: object) -> None:
    t = one_link(lt, pkt)
    assert [r[2:] for r in rows(t)] == [(5, 6, 3)]


@pytest.mark.parametrize("big", [False, True], ids=["le-family", "be-family"])
@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_bsd_null_family_in_either_byte_order(big: bool, v6: bool) -> None:
    pkt = udp6(7, 8, b"n") if v6 else udp4(7, 8, b"n")
    data = pcap_bytes([Rec(T0, frame(LINKTYPE_NULL, pkt, null_big=big))], linktype=LINKTYPE_NULL)
    assert [r[2:] for r in rows(read(data))] == [(7, 8, 1)]


@pytest.mark.parametrize(("vlans", "qinq"), [((100,), False), ((100, 200), True),
                                             ((100, 200), False)],
                         ids=["802.1q", "qinq-88a8-8100", "double-8100"])
@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_vlan_tags(vlans: tuple[int, ...], qinq: bool, v6: bool) -> None:
    pkt = udp6(9, 10, b"tagged") if v6 else udp4(9, 10, b"tagged")
    raw = frame(LINKTYPE_ETHERNET, pkt, vlans=vlans, qinq=qinq)
    outer = int.from_bytes(raw[12:14], "big")
    assert outer == (0x88A8 if qinq else 0x8100)
    t = read(pcap_bytes([Rec(T0, raw)]))
    assert [r[2:] for r in rows(t)] == [(9, 10, 6)]


def test_non_ip_and_tcp_are_counted_not_rows() -> None:
    arp = bytes(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP())
    tcp = frame(LINKTYPE_ETHERNET, IP(src=SRC4, dst=DST4) / TCP(sport=1, dport=2))
    t = read(pcap_bytes([Rec(T0, arp), Rec(T0 + 1, tcp),
                         Rec(T0 + 2, frame(LINKTYPE_ETHERNET, udp4(payload=b"u")))]))
    assert len(t) == 1 and t.frame.tolist() == [3]
    assert t.counters.non_ip == 1 and t.counters.tcp == 1 and t.counters.udp == 1
    assert t.t0_ns == T0  # the first record of any kind


def test_ethernet_padding_is_not_payload() -> None:
    raw = frame(LINKTYPE_ETHERNET, udp4(1, 2, b"hi"))
    padded = raw + b"\xee" * (60 - len(raw))
    data = pcap_bytes([Rec(T0, padded)])
    assert read(data).udp_len.tolist() == [2]
    ub = decode(data)
    assert ub.cap_len.tolist() == [2]
    assert ub.head[0, :3].tolist() == [ord("h"), ord("i"), 0]


# -- IPv6 extension headers and fragments ----------------------------------------------------

@pytest.mark.parametrize("ext", [
    [IPv6ExtHdrHopByHop()],
    [IPv6ExtHdrDestOpt()],
    [IPv6ExtHdrRouting(addresses=["2001:db8::99"])],
    [IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(addresses=["2001:db8::98", "2001:db8::99"]),
     IPv6ExtHdrDestOpt()],
    [IPv6ExtHdrFragment(offset=0, m=0, id=7)],  # an atomic fragment is a whole datagram
], ids=["hop-by-hop", "destination", "routing", "chain-of-three", "atomic-fragment"])
@pytest.mark.parametrize("linktype", [LINKTYPE_ETHERNET, LINKTYPE_RAW])
def test_ipv6_extension_headers(ext: list[object], linktype: int) -> None:
    t = one_link(linktype, udp6(4000, 4001, b"x" * 33, ext=ext))
    assert rows(t) == [(SRC6, DST6, 4000, 4001, 33)]
    assert t.counters.fragments == 0


@pytest.mark.parametrize(("offset", "m"), [(0, 1), (100, 1), (100, 0)],
                         ids=["first", "middle", "last"])
def test_ipv6_fragments_are_not_rows(offset: int, m: int) -> None:
    pkt = udp6(4000, 4001, b"y" * 64, ext=[IPv6ExtHdrFragment(offset=offset, m=m, id=9)])
    t = one_link(LINKTYPE_ETHERNET, pkt, udp6(1, 2, b"whole"))
    assert rows(t) == [(SRC6, DST6, 1, 2, 5)]
    assert t.counters.fragments == 1


def test_ipv4_fragments_are_counted_never_rows() -> None:
    big = IP(src=SRC4, dst=DST4, id=77) / UDP(sport=5000, dport=6000) / Raw(bytes(3000))
    frags = fragment(big, fragsize=1000)
    assert len(frags) >= 3
    assert frags[0].flags.MF and frags[0].frag == 0 and frags[-1].frag > 0
    t = one_link(LINKTYPE_ETHERNET, *frags, udp4(1, 2, b"ok"))
    assert rows(t) == [(SRC4, DST4, 1, 2, 2)]
    assert t.counters.fragments == len(frags)
    assert t.counters.udp == 1


def test_ipv4_last_fragment_alone_with_udp_looking_bytes() -> None:
    # a later fragment whose data happens to look like a UDP header must not become a row
    frag = IP(src=SRC4, dst=DST4, proto=17, frag=185, flags=0) / Raw(bytes(UDP(sport=1, dport=2)))
    t = one_link(LINKTYPE_RAW, frag)
    assert len(t) == 0 and t.counters.fragments == 1


# -- truncation by the snap length ----------------------------------------------------------

def test_snaplen_cuts_payload() -> None:
    payload = bytes(range(1, 101))
    recs = [Rec(T0, frame(LINKTYPE_ETHERNET, udp4(1, 2, payload))),
            Rec(T0 + 1, b"\xff" * 60)]  # nonzero bytes right after the cut record
    data = pcap_bytes(recs, snaplen=60)
    t = read(data)
    assert t.udp_len.tolist() == [100]
    ub = decode(data)
    assert ub.wire_len.tolist() == [42 + 100]
    assert ub.cap_len.tolist() == [60 - 42]
    assert ub.udp_len.tolist() == [100]
    want = np.zeros(HEAD_BYTES, dtype=np.uint8)
    want[:18] = list(payload[:18])
    np.testing.assert_array_equal(ub.head[0], want)  # zero beyond the captured bytes


@pytest.mark.parametrize("snaplen", [14, 20, 33, 41])
def test_snaplen_cutting_headers_counts_short(snaplen: int) -> None:
    t = one_link(LINKTYPE_ETHERNET, udp4(1, 2, b"abc"), snaplen=snaplen)
    assert len(t) == 0
    if snaplen > 14:
        assert t.counters.short == 1
    assert t.counters.records == 1


def test_snaplen_cutting_ipv6_extension_header_counts_short() -> None:
    pkt = udp6(1, 2, b"p", ext=[IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt()])
    t = one_link(LINKTYPE_RAW, pkt, snaplen=40 + 8 + 4)
    assert len(t) == 0 and t.counters.short == 1


# -- ICMP errors ------------------------------------------------------------------------------

def test_icmp_port_unreachable_quotes_udp() -> None:
    quoted = IPerror(src=SRC4, dst=DST4) / UDPerror(sport=40000, dport=3478) / Raw(b"stun")
    icmp = IP(src=DST4, dst=SRC4) / ICMP(type=3, code=3) / quoted
    t = one_link(LINKTYPE_ETHERNET, udp4(40000, 3478, b"stun"), icmp)
    assert len(t) == 1
    (e,) = t.icmp
    assert (e.icmp_type, e.code, e.sport, e.dport) == (3, 3, 40000, 3478)
    assert e.frame == 2 and e.ts_ns == T0 + 1000
    assert e.src[-4:] == bytes([192, 0, 2, 1]) and e.dst[-4:] == bytes([198, 51, 100, 2])


def test_icmpv6_port_unreachable_quotes_udp() -> None:
    quoted = IPerror6(src=SRC6, dst=DST6) / UDPerror(sport=40001, dport=3479)
    icmp = IPv6(src=DST6, dst=SRC6) / ICMPv6DestUnreach(code=4) / quoted
    t = one_link(LINKTYPE_LINUX_SLL, icmp)
    (e,) = t.icmp
    assert (e.icmp_type, e.code, e.sport, e.dport) == (1, 4, 40001, 3479)
    assert e.src == socket.inet_pton(socket.AF_INET6, SRC6)
    assert e.dst == socket.inet_pton(socket.AF_INET6, DST6)


def test_icmp_cut_by_snaplen_is_not_misread() -> None:
    quoted = IPerror(src=SRC4, dst=DST4) / UDPerror(sport=40000, dport=3478)
    icmp = IP(src=DST4, dst=SRC4) / ICMP(type=3, code=3) / quoted
    raw = bytes(icmp)
    # cut inside the quoted IP header; the next record's bytes must not be taken as ports
    recs = [Rec(T0, raw), Rec(T0 + 1, b"\x45" + b"\x11" * 59)]
    t = read(pcap_bytes(recs, linktype=LINKTYPE_RAW, snaplen=20 + 8 + 12))
    assert t.icmp == ()


# -- the RTP helper other tests use -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["pcap", "pcap-ns", "pcapng"])
@pytest.mark.parametrize("linktype", [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW])
def test_rtp_capture_helper(fmt: str, linktype: int) -> None:
    pkts = [(T0 + i * 20_000_000, rtp(100 + i, 160 * i, 0xDEADBEEF)) for i in range(5)]
    t = read(rtp_capture(pkts, linktype=linktype, fmt=fmt))
    assert t.ts_ns.tolist() == [ts for ts, _ in pkts]
    assert rows(t) == [(SRC4, DST4, 40000, 50000, 172)] * 5


def test_ip_with_a_bad_version_counts_short() -> None:
    raw = bytearray(frame(LINKTYPE_ETHERNET, udp4(1, 2, b"v")))
    raw[14] = (5 << 4) | 5  # "IPv5", header length 20
    t = read(pcap_bytes([Rec(T0, bytes(raw))]))
    assert len(t) == 0
    c = t.counters
    assert (c.short, c.ipv4, c.ipv6, c.non_ip) == (1, 0, 0, 0)
