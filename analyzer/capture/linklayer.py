"""Link-layer headers: where the IP header starts in each record, vectorized per link type.

Supported: Ethernet (with 802.1Q / 802.1ad / QinQ tags), BSD loopback (NULL and LOOP),
raw IP (IPv4/IPv6), Linux cooked capture v1 (SLL) and v2 (SLL2).
"""

from __future__ import annotations

import numpy as np

from analyzer.protocol import (
    ETH_HEADER_LEN,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    ETHERTYPE_VLAN,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    LINKTYPE_RAW_OLD_12,
    LINKTYPE_RAW_OLD_14,
)

VLAN_TAG_LEN = 4
SLL_HEADER_LEN = 16
SLL2_HEADER_LEN = 20
NULL_HEADER_LEN = 4
#: BSD address-family values meaning IPv6 (NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30).
BSD_AF_INET = 2
BSD_AF_INET6 = (24, 28, 30)

SUPPORTED_LINKTYPES = {
    LINKTYPE_NULL: "BSD loopback",
    LINKTYPE_ETHERNET: "Ethernet",
    LINKTYPE_RAW_OLD_12: "raw IP",
    LINKTYPE_RAW_OLD_14: "raw IP",
    LINKTYPE_RAW: "raw IP",
    LINKTYPE_LOOP: "OpenBSD loopback",
    LINKTYPE_LINUX_SLL: "Linux cooked (SLL)",
    LINKTYPE_IPV4: "raw IPv4",
    LINKTYPE_IPV6: "raw IPv6",
    LINKTYPE_LINUX_SLL2: "Linux cooked v2 (SLL2)",
}

LINK_WINDOW = 32


def _be16(w: np.ndarray, i: int) -> np.ndarray:
    return (w[:, i].astype(np.int32) << 8) | w[:, i + 1]


def network_offsets(link: np.ndarray, linktype: np.ndarray, caplen: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(net_off, ipver)`` per record from its first :data:`LINK_WINDOW` bytes.

    ``ipver`` is 4 or 6 where an IP header follows, 0 where the record carries something else
    (ARP, LLDP, an unsupported link type) or is too short to tell.
    """
    n = link.shape[0]
    if n and linktype[0] == LINKTYPE_ETHERNET and (linktype == LINKTYPE_ETHERNET).all():
        # the common case, fast: plain Ethernet with no VLAN tag anywhere in the batch
        et = _be16(link, 12)
        if not ((et == 0x8100) | (et == 0x88A8) | (et == 0x9100)).any():
            ipver = ((et == ETHERTYPE_IPV4) * 4 + (et == ETHERTYPE_IPV6) * 6).astype(np.int8)
            ipver[caplen <= ETH_HEADER_LEN] = 0
            return np.full(n, ETH_HEADER_LEN, dtype=np.int64), ipver
    net_off = np.zeros(n, dtype=np.int64)
    proto = np.zeros(n, dtype=np.int32)  # ethertype-like protocol of the payload
    raw_ver = link[:, 0] >> 4  # used by raw-IP link types

    eth = linktype == LINKTYPE_ETHERNET
    if eth.any():
        et = _be16(link, 12)
        off = np.full(n, ETH_HEADER_LEN, dtype=np.int64)
        for _ in range(2):  # up to two stacked VLAN tags (QinQ)
            tagged = np.isin(et, ETHERTYPE_VLAN)
            if not tagged.any():
                break
            nxt = (link[np.arange(n), np.minimum(off + 2, LINK_WINDOW - 2)].astype(np.int32)
                   << 8) | link[np.arange(n), np.minimum(off + 3, LINK_WINDOW - 1)]
            et = np.where(tagged, nxt, et)
            off = np.where(tagged, off + VLAN_TAG_LEN, off)
        net_off = np.where(eth, off, net_off)
        proto = np.where(eth, et, proto)

    sll = linktype == LINKTYPE_LINUX_SLL
    if sll.any():
        net_off = np.where(sll, SLL_HEADER_LEN, net_off)
        proto = np.where(sll, _be16(link, 14), proto)
    sll2 = linktype == LINKTYPE_LINUX_SLL2
    if sll2.any():
        net_off = np.where(sll2, SLL2_HEADER_LEN, net_off)
        proto = np.where(sll2, _be16(link, 0), proto)

    null = (linktype == LINKTYPE_NULL) | (linktype == LINKTYPE_LOOP)
    if null.any():
        le = link[:, 0].astype(np.int64) | (link[:, 1].astype(np.int64) << 8) | \
            (link[:, 2].astype(np.int64) << 16) | (link[:, 3].astype(np.int64) << 24)
        be = link[:, 3].astype(np.int64) | (link[:, 2].astype(np.int64) << 8) | \
            (link[:, 1].astype(np.int64) << 16) | (link[:, 0].astype(np.int64) << 24)
        # NULL is in the capturing host's byte order: accept whichever reading is small.
        fam = np.where(le < 256, le, be)
        fam_proto = np.where(fam == BSD_AF_INET, ETHERTYPE_IPV4,
                             np.where(np.isin(fam, BSD_AF_INET6), ETHERTYPE_IPV6, 0))
        net_off = np.where(null, NULL_HEADER_LEN, net_off)
        proto = np.where(null, fam_proto, proto)

    raw = np.isin(linktype, (LINKTYPE_RAW, LINKTYPE_RAW_OLD_12, LINKTYPE_RAW_OLD_14))
    raw_proto = np.where(raw_ver == 4, ETHERTYPE_IPV4,
                         np.where(raw_ver == 6, ETHERTYPE_IPV6, 0))
    proto = np.where(raw, raw_proto, proto)
    proto = np.where(linktype == LINKTYPE_IPV4, ETHERTYPE_IPV4, proto)
    proto = np.where(linktype == LINKTYPE_IPV6, ETHERTYPE_IPV6, proto)

    ipver = np.where(proto == ETHERTYPE_IPV4, 4, np.where(proto == ETHERTYPE_IPV6, 6, 0))
    ipver = np.where(caplen > net_off, ipver, 0).astype(np.int8)
    return net_off, ipver
