"""Tunnels: find the innermost IP packet behind PPPoE, MPLS, GRE, VXLAN, GTP-U, IP-in-IP.

A router or a mobile core often captures calls inside a tunnel. :func:`unwrap_tunnels`
looks at a record batch before it is decoded; each record that carries a tunnel is
re-pointed at its innermost IP header and re-typed raw IP, so the IP/UDP decoder reads the
inner datagram as if it had been captured bare. Everything else is left as it is.

Layouts: PPPoE session (RFC 2516: 6-byte header, then the 2-byte PPP protocol, 0x0021 IPv4,
0x0057 IPv6); MPLS (RFC 3032: 4-byte labels until the bottom-of-stack bit, then IP by its
version nibble); GRE (RFC 2784/2890: 4 bytes plus 4 for each of the checksum, key and
sequence flags; protocol 0x0800/0x86DD IP, 0x6558 Ethernet, 0x8847 MPLS); VXLAN (RFC 7348:
UDP port 4789, 8 bytes, then Ethernet); GTP-U (3GPP TS 29.281: UDP port 2152, version 1,
8 bytes, 4 more when any of E/S/PN is set, then the extension headers, each ``4 × length``
bytes); IPv4/IPv6 in IP (protocols 4 and 41).

Records with a tunnel are unwrapped one by one in Python (a few µs each); records
without one cost a few vectorized comparisons per batch.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analyzer.capture.ipudp import UdpBatch
from analyzer.capture.linklayer import LINK_WINDOW, network_offsets
from analyzer.capture.records import RecordBatch
from analyzer.protocol import ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE_ETHERNET, LINKTYPE_RAW

ETHERTYPE_PPPOE_SESSION = 0x8864
ETHERTYPE_MPLS = (0x8847, 0x8848)
ETHERTYPE_VLAN = (0x8100, 0x88A8, 0x9100)
ETHERTYPE_TEB = 0x6558  # transparent Ethernet bridging (Ethernet in GRE)
PPP_IPV4, PPP_IPV6 = 0x0021, 0x0057
PPPOE_HEADER_LEN = 6
MPLS_LABEL_LEN = 4
IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE, IPPROTO_UDP = 4, 41, 47, 17
VXLAN_PORT, GTPU_PORT = 4789, 2152
VXLAN_HEADER_LEN = 8
GTPU_HEADER_LEN = 8
GTPU_GPDU = 0xFF
ETH_HEADER_LEN = 14
#: Tunnels inside tunnels unwrapped at most this deep.
MAX_DEPTH = 4


def _be16(b: bytes, i: int) -> int:
    return (b[i] << 8) | b[i + 1]


def _after_ethernet(b: bytes, p: int) -> int:
    """Offset of the IP header behind an Ethernet header at ``p`` (VLAN tags, PPPoE and
    MPLS allowed), or -1."""
    if p + ETH_HEADER_LEN > len(b):
        return -1
    et, p = _be16(b, p + 12), p + ETH_HEADER_LEN
    for _ in range(2):
        if et not in ETHERTYPE_VLAN or p + 4 > len(b):
            break
        et, p = _be16(b, p + 2), p + 4
    return _after_ethertype(b, p, et)


def _after_ethertype(b: bytes, p: int, et: int) -> int:
    if et in (ETHERTYPE_IPV4, ETHERTYPE_IPV6):
        return p
    if et == ETHERTYPE_PPPOE_SESSION and p + PPPOE_HEADER_LEN + 2 <= len(b):
        ppp = _be16(b, p + PPPOE_HEADER_LEN)
        return p + PPPOE_HEADER_LEN + 2 if ppp in (PPP_IPV4, PPP_IPV6) else -1
    if et in ETHERTYPE_MPLS:
        while p + MPLS_LABEL_LEN <= len(b):
            bottom = b[p + 2] & 1
            p += MPLS_LABEL_LEN
            if bottom:
                return p if p < len(b) and b[p] >> 4 in (4, 6) else -1
    return -1


def _gre(b: bytes, p: int) -> int:
    if p + 4 > len(b):
        return -1
    flags, proto = _be16(b, p), _be16(b, p + 2)
    if flags & 0x7:  # version 1 (PPTP's enhanced GRE) carries PPP, not IP
        return -1
    p += 4 + 4 * (bool(flags & 0x8000) + bool(flags & 0x2000) + bool(flags & 0x1000))
    if proto == ETHERTYPE_TEB:
        return _after_ethernet(b, p)
    return _after_ethertype(b, p, proto)


def _gtpu(b: bytes, p: int) -> int:
    if p + GTPU_HEADER_LEN > len(b) or b[p] >> 5 != 1 or b[p + 1] != GTPU_GPDU:
        return -1
    flags, q = b[p], p + GTPU_HEADER_LEN
    if flags & 0x07:
        if q + 4 > len(b):
            return -1
        nxt, q = b[q + 3], q + 4
        while flags & 0x04 and nxt and q < len(b):
            n = b[q] * 4
            if n == 0 or q + n > len(b):
                return -1
            nxt, q = b[q + n - 1], q + n
    return q if q < len(b) and b[q] >> 4 in (4, 6) else -1


def _inner_ip(b: bytes, ip: int) -> int:
    """Offset of the IP packet carried by the IP packet at ``ip``, or -1 (no tunnel)."""
    if ip + 20 > len(b):
        return -1
    ver = b[ip] >> 4
    if ver == 4:
        ihl = (b[ip] & 0x0F) * 4
        if ihl < 20 or _be16(b, ip + 6) & 0x3FFF:  # options-less or not, but no fragments
            return -1
        proto, l4 = b[ip + 9], ip + ihl
    elif ver == 6 and ip + 40 <= len(b):
        proto, l4 = b[ip + 6], ip + 40
    else:
        return -1
    if proto in (IPPROTO_IPIP, IPPROTO_IPV6):
        return l4 if l4 < len(b) and b[l4] >> 4 == (4 if proto == IPPROTO_IPIP else 6) else -1
    if proto == IPPROTO_GRE:
        return _gre(b, l4)
    if proto == IPPROTO_UDP and l4 + 8 <= len(b):
        dport = _be16(b, l4 + 2)
        if dport == VXLAN_PORT and b[l4 + 8] & 0x08:  # the "valid VNI" flag
            return _after_ethernet(b, l4 + 8 + VXLAN_HEADER_LEN)
        if dport == GTPU_PORT or _be16(b, l4) == GTPU_PORT:
            return _gtpu(b, l4 + 8)
    return -1


def may_carry(decoded: UdpBatch) -> bool:
    """Whether a batch, as decoded without looking into tunnels, may hold any: packets
    that are not IP (PPPoE, MPLS), IP that is neither TCP, UDP nor ICMP (GRE, IP-in-IP),
    or UDP to or from the VXLAN and GTP-U ports. The usual batch is ruled out at the cost
    of a few comparisons of its UDP ports."""
    c = decoded.counters
    if c.non_ip or c.other_ip:
        return True
    d, s = decoded.dport, decoded.sport
    return bool(((d == VXLAN_PORT) | (d == GTPU_PORT) | (s == GTPU_PORT)).any())


def _any_of(x: np.ndarray, values: tuple[int, ...]) -> np.ndarray:
    """``np.isin`` for a handful of values, without its sort."""
    out = x == values[0]
    for v in values[1:]:
        out |= x == v
    return out


def _candidates(batch: RecordBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which records may carry a tunnel, with each record's IP header offset (in the
    record) and IP version (0: none found), from a few single-byte gathers per record."""
    buf, off, cap = batch.buf, batch.data_off, batch.caplen
    n = len(batch)
    top = buf.size - 2
    eth = batch.linktype == LINKTYPE_ETHERNET
    cand = np.zeros(n, dtype=bool)
    if eth.all():  # the common case, without the general link-layer walk
        net_off = np.full(n, ETH_HEADER_LEN, dtype=np.int64)
        et = (buf[off + 12].astype(np.int32) << 8) | buf[off + 13]
        for _ in range(2):  # VLAN tags (a tunnel may travel on a tagged VLAN)
            tagged = _any_of(et, ETHERTYPE_VLAN)
            if not tagged.any():
                break
            p = np.minimum(off + net_off + 2, top)
            et = np.where(tagged, (buf[p].astype(np.int32) << 8) | buf[p + 1], et)
            net_off = np.where(tagged, net_off + 4, net_off)
        cand |= _any_of(et, (ETHERTYPE_PPPOE_SESSION, *ETHERTYPE_MPLS))
        ipver = np.where(et == ETHERTYPE_IPV4, 4, np.where(et == ETHERTYPE_IPV6, 6, 0))
        ipver = np.where(cap > net_off + 20, ipver, 0)
    else:
        link = np.lib.stride_tricks.sliding_window_view(buf, LINK_WINDOW)[
            np.minimum(off, buf.size - LINK_WINDOW)]
        net_off, ipver = network_offsets(link, batch.linktype, cap)
        et = (link[:, 12].astype(np.int32) << 8) | link[:, 13]
        cand |= eth & np.isin(et, (ETHERTYPE_PPPOE_SESSION, *ETHERTYPE_MPLS, *ETHERTYPE_VLAN))
    ip = np.flatnonzero(ipver != 0)
    if ip.size:
        start = off[ip] + net_off[ip]
        v4 = ipver[ip] == 4
        proto = np.where(v4, buf[np.minimum(start + 9, top)], buf[np.minimum(start + 6, top)])
        cand[ip] |= _any_of(proto, (IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE))
        u = np.flatnonzero(proto == IPPROTO_UDP)
        if u.size:
            s = start[u]
            l4 = np.where(v4[u], (buf[s] & 0x0F).astype(np.int64) * 4, 40)
            q = np.minimum(s + l4, top - 2)
            sport = (buf[q].astype(np.int32) << 8) | buf[q + 1]
            dport = (buf[q + 2].astype(np.int32) << 8) | buf[q + 3]
            cand[ip[u]] |= _any_of(dport, (VXLAN_PORT, GTPU_PORT)) | (sport == GTPU_PORT)
    return cand, net_off, ipver


def unwrap_tunnels(batch: RecordBatch) -> RecordBatch:
    """``batch`` with each tunnelled record pointing at its innermost IP packet (raw IP)."""
    if len(batch) == 0:
        return batch
    buf, off, cap = batch.buf, batch.data_off, batch.caplen
    eth = batch.linktype == LINKTYPE_ETHERNET
    cand, net_off, ipver = _candidates(batch)
    rows = np.flatnonzero(cand)
    if rows.size == 0:
        return batch
    new_off, new_cap = off.copy(), cap.copy()
    new_orig, lt = batch.origlen.copy(), batch.linktype.copy()
    changed = False
    for r in rows.tolist():
        s, c = int(off[r]), int(cap[r])
        b = buf[s: s + c].tobytes()
        if eth[r]:
            p = _after_ethernet(b, 0)
        elif ipver[r]:
            p = int(net_off[r])
        else:
            p = -1
        inner = p
        for _ in range(MAX_DEPTH):
            if inner < 0:
                break
            nxt = _inner_ip(b, inner)
            if nxt < 0:
                break
            inner = nxt
        if inner <= 0 or (inner == p and ipver[r]):
            continue  # no tunnel (or the link layer alone, which the decoder reads)
        new_off[r] = s + inner
        new_cap[r] = c - inner
        new_orig[r] = max(int(batch.origlen[r]) - inner, c - inner)
        lt[r] = LINKTYPE_RAW
        changed = True
    if not changed:
        return batch
    return replace(batch, data_off=new_off, caplen=new_cap, origlen=new_orig, linktype=lt)
