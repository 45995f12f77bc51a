"""IPv4/IPv6 and UDP headers, decoded for a whole record batch at once.

Output is a :class:`UdpBatch`: one row per complete (non-fragment) UDP datagram with its
addresses, ports, lengths and the first :data:`HEAD_BYTES` bytes of its payload, plus the
rare packets worth keeping whole (SIP, RTCP) and ICMP errors that quote a UDP datagram.
IPv4 fragments are counted and never read as UDP.

The per-record work runs compiled when ``_walk`` was built (``decode_udp`` in ``_walk.c``:
link layer, IP and UDP headers and the payload heads, one pass over the records without
the GIL); the TCP and ICMP packets it finds, the payloads kept whole and the hints are
then taken in Python exactly as here. The numpy decoding below is the fallback and the
reference: both give the same columns (tests/capture/test_compiled.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from analyzer.capture import records as _records
from analyzer.capture.linklayer import LINK_WINDOW, network_offsets
from analyzer.capture.records import PAD_BYTES, RecordBatch
from analyzer.protocol import (
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPV6_HEADER_LEN,
    RTCP_PT_MAX,
    RTCP_PT_MIN,
    STUN_MAGIC_COOKIE,
    UDP_HEADER_LEN,
)

IP_WINDOW = 128
#: Payload bytes kept per UDP datagram: enough for an RTP header behind a TURN ChannelData
#: header, a STUN header with its transaction id, and a Telegram reflector hello.
HEAD_BYTES = 40
IPV6_EXT_HEADERS = (0, 43, 60, 51)  # hop-by-hop, routing, destination options, AH
IPV6_FRAGMENT = 44
V4_MAPPED_PREFIX = np.array([0] * 10 + [0xFF, 0xFF], dtype=np.uint8)
SIP_STARTS = (b"SIP/2.0 ", b"INVITE ", b"ACK ", b"BYE ", b"CANCEL ", b"OPTIONS ", b"UPDATE ",
              b"PRACK ", b"REGISTER ", b"NOTIFY ", b"INFO ", b"REFER ", b"SUBSCRIBE ",
              b"MESSAGE ", b"MEGACO/", b"!/1 ")
_SIP_PREFIXES = np.array([int.from_bytes(m[:4], "big") for m in SIP_STARTS], dtype=">u4")
_SIP_PREFIX_BYTES = b"".join(m[:4] for m in SIP_STARTS)
#: At most this many whole payloads are kept per capture (SIP and RTCP are sparse; this
#: bounds memory on a capture that is nothing but RTCP).
MAX_KEPT_PAYLOADS = 200_000
#: App evidence kept whole (DNS responses, STUN messages with attributes, TLS ClientHellos):
#: at most this many per batch of records; the reader bounds the capture's total.
MAX_HINTS_PER_BATCH = 64
DNS_PORT = 53
TLS_HANDSHAKE = 0x16
TLS_CLIENT_HELLO = 0x01


@dataclass
class DecodeCounters:
    """What the decoder saw besides complete UDP datagrams."""

    records: int = 0
    non_ip: int = 0
    ipv4: int = 0
    ipv6: int = 0
    udp: int = 0
    tcp: int = 0
    icmp: int = 0
    other_ip: int = 0
    fragments: int = 0
    short: int = 0  # IP/UDP header cut off by the snap length or malformed
    unsupported_linktype: int = 0

    def add(self, other: DecodeCounters) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class IcmpError:
    """An ICMP destination-unreachable that quotes a UDP datagram we may have sent."""

    frame: int
    ts_ns: int
    icmp_type: int
    code: int
    src: bytes  # 16-byte address of the quoted datagram's source
    dst: bytes
    sport: int
    dport: int


@dataclass
class UdpBatch:
    frame: np.ndarray  # int64, 1-based record number
    ts_ns: np.ndarray  # int64
    src: np.ndarray  # (n, 16) uint8, IPv4 as ::ffff:a.b.c.d
    dst: np.ndarray
    sport: np.ndarray  # int32
    dport: np.ndarray
    ipver: np.ndarray  # int8
    udp_len: np.ndarray  # int32 payload length from the UDP header
    cap_len: np.ndarray  # int32 payload bytes actually captured
    wire_len: np.ndarray  # int32 frame length on the wire
    head: np.ndarray  # (n, HEAD_BYTES) uint8, zero beyond cap_len
    kept: dict[int, bytes] = field(default_factory=dict)  # row -> whole payload
    tcp_sip: list[tuple[int, int, bytes]] = field(default_factory=list)  # (frame, ts_ns, data)
    tcp: TcpSegments | None = None
    proto: np.ndarray | None = None  # uint8 17/6, set by the reader
    #: App evidence: (src, sport, dst, dport, payload), addresses as 16 bytes (see
    #: :func:`_hints`; read by analyzer.streams.apps).
    hints: list[tuple[bytes, int, bytes, int, bytes]] = field(default_factory=list)
    encap: np.ndarray | None = None  # uint8: 0 as captured, 2 unwrapped from a STUN DATA attr
    icmp: list[IcmpError] = field(default_factory=list)
    counters: DecodeCounters = field(default_factory=DecodeCounters)


def _addresses(ipw: np.ndarray, is6: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source and destination of each IP header window as 16-byte rows (IPv4 mapped)."""
    n = ipw.shape[0]
    src = np.empty((n, 16), dtype=np.uint8)
    dst = np.empty((n, 16), dtype=np.uint8)
    src[:, :12] = V4_MAPPED_PREFIX
    dst[:, :12] = V4_MAPPED_PREFIX
    src[:, 12:] = ipw[:, 12:16]
    dst[:, 12:] = ipw[:, 16:20]
    if is6.any():
        src[is6] = ipw[is6, 8:24]
        dst[is6] = ipw[is6, 24:40]
    return src, dst


def _windows(buf: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    view = sliding_window_view(buf, width)
    return view[np.minimum(start, view.shape[0] - 1)]


def _be16(w: np.ndarray, i: int | np.ndarray) -> np.ndarray:
    if isinstance(i, np.ndarray):
        r = np.arange(w.shape[0])
        return (w[r, i].astype(np.int32) << 8) | w[r, i + 1]
    return (w[:, i].astype(np.int32) << 8) | w[:, i + 1]


def decode_batch(batch: RecordBatch, kept_budget: int = MAX_KEPT_PAYLOADS) -> UdpBatch:
    """Decode the IP and UDP headers of every record in ``batch`` (compiled when built)."""
    walk = _records._compiled
    if walk is not None and hasattr(walk, "decode_udp"):
        out = _decode_compiled(walk, batch, kept_budget)
        if out is not None:
            return out
    return _decode_numpy(batch, kept_budget)


#: bits of the per-row mark ``decode_udp`` sets (see _walk.c)
M_KEEP, M_KEEP_SURE, M_DNS, M_STUN = 1, 2, 4, 8
#: (column, dtype, bytes per row) of the UDP rows ``decode_udp`` fills, in its order
_COMPILED_COLUMNS = (("rec", np.int64, 1), ("frame", np.int64, 1), ("ts_ns", np.int64, 1),
                     ("src", np.uint8, 16), ("dst", np.uint8, 16), ("sport", np.int32, 1),
                     ("dport", np.int32, 1), ("ipver", np.int8, 1), ("udp_len", np.int32, 1),
                     ("cap_len", np.int32, 1), ("wire_len", np.int32, 1),
                     ("head", np.uint8, HEAD_BYTES), ("pay_start", np.int64, 1),
                     ("mark", np.uint8, 1))


def _decode_compiled(walk: ModuleType, batch: RecordBatch, kept_budget: int
                     ) -> UdpBatch | None:
    """:func:`decode_batch` with the per-record loop in C; ``None`` when this batch is not
    laid out as the C loop needs (then the numpy decoding runs)."""
    buf = batch.buf
    if buf.dtype != np.uint8 or buf.ndim != 1 or not buf.flags.c_contiguous:
        return None
    n = len(batch)
    i64 = np.int64
    off = np.ascontiguousarray(batch.data_off, dtype=i64)
    caplen = np.ascontiguousarray(batch.caplen, dtype=i64)
    cols: dict[str, np.ndarray] = {k: np.empty((n, w) if w > 1 else n, dtype=d)
                                   for k, d, w in _COMPILED_COLUMNS}
    rare = (np.empty(n, i64), np.empty(n, i64), np.empty(n, i64), np.empty(n, np.int32))
    res = walk.decode_udp(buf, off, caplen, np.ascontiguousarray(batch.linktype, np.int32),
                          np.ascontiguousarray(batch.origlen, dtype=i64),
                          np.ascontiguousarray(batch.ts_ns, dtype=i64), batch.first_frame,
                          _SIP_PREFIX_BYTES, tuple(cols[k] for k, _, _ in _COMPILED_COLUMNS),
                          rare)
    if res is None:
        return None
    m, r, counts = res
    u = {k: a[:m] for k, a in cols.items()}
    c = DecodeCounters(records=n, udp=m)
    (c.non_ip, c.ipv4, c.ipv6, c.tcp, c.icmp, c.other_ip, c.fragments, c.short) = counts
    tcp_sip: list[tuple[int, int, bytes]] = []
    tcp_segs: TcpSegments | None = None
    out_icmp: list[IcmpError] = []
    if r:  # TCP and ICMP packets: rare, decoded further as the numpy path does
        rec, ip_start, l4, proto = (a[:r] for a in rare)
        ipw = _windows(buf, ip_start, IP_WINDOW)
        avail = caplen[rec] - (ip_start - off[rec])
        v6 = (ipw[:, 0] >> 4) == 6
        frames, ts = batch.first_frame + rec, batch.ts_ns[rec]
        tcp = proto == IPPROTO_TCP
        icmp = ~tcp
        out_icmp = _icmp_errors(ipw[icmp], l4[icmp], v6[icmp], avail[icmp], frames[icmp],
                                ts[icmp])
        tcp_sip = _tcp_sip(buf, ipw, tcp, l4, avail, ip_start, frames, ts)
        tcp_segs = _tcp_segments(buf, ipw, tcp, l4, avail, v6, ip_start, frames, ts)
    mark, start, cap_len = u["mark"], u["pay_start"], u["cap_len"]
    kept: dict[int, bytes] = {}
    for row in np.flatnonzero(mark & M_KEEP)[:kept_budget]:
        s0, ln = int(start[row]), int(cap_len[row])
        data = buf[s0: s0 + ln].tobytes()
        if mark[row] & M_KEEP_SURE or data.startswith(SIP_STARTS):
            kept[int(row)] = data
    hints = _collect_hints(buf, start, cap_len, u["sport"], u["src"], u["dst"], u["dport"],
                           tcp_segs, (np.flatnonzero(mark & M_DNS),
                                      np.flatnonzero(mark & M_STUN)))
    return UdpBatch(frame=u["frame"], ts_ns=u["ts_ns"], src=u["src"], dst=u["dst"],
                    sport=u["sport"], dport=u["dport"], ipver=u["ipver"],
                    udp_len=u["udp_len"], cap_len=cap_len, wire_len=u["wire_len"],
                    head=u["head"], kept=kept, tcp_sip=tcp_sip, tcp=tcp_segs, icmp=out_icmp,
                    counters=c, hints=hints)


def _decode_numpy(batch: RecordBatch, kept_budget: int) -> UdpBatch:
    """The numpy decoding (the fallback of the compiled one, and its reference)."""
    assert PAD_BYTES >= IP_WINDOW
    c = DecodeCounters(records=len(batch))
    buf, off, caplen = batch.buf, batch.data_off, batch.caplen
    link = _windows(buf, off, LINK_WINDOW)
    net_off, ipver = network_offsets(link, batch.linktype, caplen)
    c.non_ip = int((ipver == 0).sum())
    ip_rows = np.flatnonzero(ipver != 0)
    ipw = _windows(buf, off[ip_rows] + net_off[ip_rows], IP_WINDOW)
    avail = caplen[ip_rows] - net_off[ip_rows]  # captured bytes from the IP header on
    ver = ipw[:, 0] >> 4
    v4 = ver == 4
    v6 = ver == 6
    c.ipv4 = int(v4.sum())
    c.ipv6 = int(v6.sum())
    n = ip_rows.size
    proto = np.zeros(n, dtype=np.int32)
    l4 = np.zeros(n, dtype=np.int64)  # offset of the transport header within ipw
    ok = np.zeros(n, dtype=bool)
    frag = np.zeros(n, dtype=bool)
    # IPv4
    ihl = (ipw[:, 0] & 0x0F).astype(np.int64) * 4
    ff = _be16(ipw, 6)
    v4frag = v4 & (((ff & 0x2000) != 0) | ((ff & 0x1FFF) != 0))
    v4ok = v4 & (ihl >= 20) & (avail >= ihl)
    proto = np.where(v4, ipw[:, 9], proto)
    l4 = np.where(v4, ihl, l4)
    ok |= v4ok
    frag |= v4frag
    # IPv6 with its extension-header chain
    if v6.any():
        nh = ipw[:, 6].astype(np.int32)
        p = np.full(n, IPV6_HEADER_LEN, dtype=np.int64)
        rows = np.arange(n)
        for _ in range(4):
            ext = v6 & np.isin(nh, IPV6_EXT_HEADERS) & (p + 8 <= IP_WINDOW)
            isfrag = v6 & (nh == IPV6_FRAGMENT) & (p + 8 <= IP_WINDOW)
            if not (ext.any() or isfrag.any()):
                break
            pc = np.minimum(p, IP_WINDOW - 8)
            hlen = np.where(nh == 51, (ipw[rows, pc + 1].astype(np.int64) + 2) * 4,
                            (ipw[rows, pc + 1].astype(np.int64) + 1) * 8)
            fo = _be16(ipw, pc + 2)
            frag |= isfrag & (((fo & 0xFFF8) != 0) | ((fo & 1) != 0))
            nxt = ipw[rows, pc].astype(np.int32)
            nh = np.where(ext | isfrag, nxt, nh)
            p = np.where(ext, p + hlen, np.where(isfrag, p + 8, p))
        proto = np.where(v6, nh, proto)
        l4 = np.where(v6, p, l4)
        ok |= v6 & (avail >= p)
    c.fragments = int((frag & ok).sum())
    # cut short, or claiming to be IP with a version that is neither 4 nor 6 (malformed)
    c.short = int(((v4 | v6) & ~ok).sum()) + int((~(v4 | v6)).sum())
    good = ok & ~frag
    c.tcp = int((good & (proto == IPPROTO_TCP)).sum())
    icmp_rows = good & ((v4 & (proto == IPPROTO_ICMP)) | (v6 & (proto == IPPROTO_ICMPV6)))
    c.icmp = int(icmp_rows.sum())
    udp = good & (proto == IPPROTO_UDP) & (l4 + UDP_HEADER_LEN <= np.minimum(avail, IP_WINDOW))
    c.short += int((good & (proto == IPPROTO_UDP) & ~udp).sum())
    c.other_ip = int((good & ~np.isin(proto, (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP,
                                                IPPROTO_ICMPV6))).sum())
    out_icmp = _icmp_errors(ipw[icmp_rows], l4[icmp_rows], v6[icmp_rows], avail[icmp_rows],
                            batch.first_frame + ip_rows[icmp_rows], batch.ts_ns[ip_rows[icmp_rows]])

    tcp_sip = _tcp_sip(buf, ipw, good & (proto == IPPROTO_TCP), l4, avail,
                       off[ip_rows] + net_off[ip_rows], batch.first_frame + ip_rows,
                       batch.ts_ns[ip_rows])
    tcp_segs = _tcp_segments(buf, ipw, good & (proto == IPPROTO_TCP), l4, avail, v6,
                             off[ip_rows] + net_off[ip_rows], batch.first_frame + ip_rows,
                             batch.ts_ns[ip_rows])
    u = np.flatnonzero(udp)
    c.udp = int(u.size)
    w = ipw if u.size == n else ipw[u]
    uo = l4[u]
    is6 = v6[u]
    src, dst = _addresses(w, is6)
    rec = ip_rows[u]
    if u.size and (uo == uo[0]).all() and int(uo[0]) + UDP_HEADER_LEN + HEAD_BYTES <= IP_WINDOW:
        # the common case: one header layout for the whole batch, so plain column slices
        o0 = int(uo[0])
        ports = np.ascontiguousarray(w[:, o0: o0 + 6]).view(">u2").astype(np.int32)
        sport, dport, ulen = ports[:, 0], ports[:, 1], ports[:, 2] - UDP_HEADER_LEN
        head = np.ascontiguousarray(w[:, o0 + UDP_HEADER_LEN: o0 + UDP_HEADER_LEN + HEAD_BYTES])
    else:
        sport = _be16(w, uo)
        dport = _be16(w, uo + 2)
        ulen = _be16(w, uo + 4) - UDP_HEADER_LEN
        head = None
    pay_start = off[rec] + net_off[rec] + uo + UDP_HEADER_LEN
    cap_pay = np.clip(avail[u] - uo - UDP_HEADER_LEN, 0, None)
    # A UDP length field smaller than 8 is malformed; use what was captured instead.
    ulen = np.where(ulen < 0, cap_pay, ulen)
    cap_len = np.minimum(cap_pay, ulen)
    if head is None:
        head = np.array(_windows(buf, pay_start, HEAD_BYTES))
    short = np.flatnonzero(cap_len < HEAD_BYTES)
    if short.size:  # zero what lies beyond the captured payload (it belongs to the next record)
        head[short[:, None], np.arange(HEAD_BYTES)[None, :]] *= \
            (np.arange(HEAD_BYTES)[None, :] < cap_len[short, None])
    kept = _keep_payloads(buf, head, pay_start, cap_len, kept_budget)
    hints = _hints(buf, head, pay_start, cap_len, sport, src, dst, dport, tcp_segs)
    return UdpBatch(frame=batch.first_frame + rec, ts_ns=batch.ts_ns[rec], src=src, dst=dst,
                    sport=sport, dport=dport, ipver=np.where(is6, 6, 4).astype(np.int8),
                    udp_len=ulen.astype(np.int32), cap_len=cap_len.astype(np.int32),
                    wire_len=batch.origlen[rec].astype(np.int32), head=head, kept=kept,
                    tcp_sip=tcp_sip, tcp=tcp_segs, icmp=out_icmp, counters=c, hints=hints)


@dataclass(frozen=True)
class TcpSegments:
    """TCP segments with payload, as columns (for TURN-over-TCP framing)."""

    buf: np.ndarray
    frame: np.ndarray
    ts_ns: np.ndarray
    src: np.ndarray  # (n, 16)
    dst: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    seq: np.ndarray  # int64, 32-bit sequence number
    start: np.ndarray  # payload offset in buf
    length: np.ndarray  # captured payload bytes
    first8: np.ndarray  # (n, 8) first payload bytes, zero beyond length


def _tcp_segments(buf: np.ndarray, ipw: np.ndarray, tcp: np.ndarray, l4: np.ndarray,
                  avail: np.ndarray, v6: np.ndarray, ip_start: np.ndarray,
                  frames: np.ndarray, ts: np.ndarray) -> TcpSegments | None:
    rows = np.flatnonzero(tcp & (l4 + 20 <= IP_WINDOW))
    if rows.size == 0:
        return None
    p = l4[rows]
    w = ipw[rows]
    r = np.arange(rows.size)
    doff = (w[r, p + 12] >> 4).astype(np.int64) * 4
    plen = avail[rows] - p - doff
    ok = (doff >= 20) & (plen > 0)
    rows, p, w, doff, plen = rows[ok], p[ok], w[ok], doff[ok], plen[ok]
    if rows.size == 0:
        return None
    r = np.arange(rows.size)
    is6 = v6[rows]
    src, dst = _addresses(w, is6)
    seq = ((w[r, p + 4].astype(np.int64) << 24) | (w[r, p + 5].astype(np.int64) << 16)
           | (w[r, p + 6].astype(np.int64) << 8) | w[r, p + 7])
    start = ip_start[rows] + p + doff
    first8 = np.array(_windows(buf, start, 8))
    first8[np.arange(8)[None, :] >= plen[:, None]] = 0
    return TcpSegments(buf=buf, frame=frames[rows], ts_ns=ts[rows], src=src, dst=dst,
                       sport=_be16(w, p), dport=_be16(w, p + 2), seq=seq, start=start,
                       length=plen, first8=first8)


def _tcp_sip(buf: np.ndarray, ipw: np.ndarray, tcp: np.ndarray, l4: np.ndarray,
             avail: np.ndarray, ip_start: np.ndarray, frames: np.ndarray, ts: np.ndarray
             ) -> list[tuple[int, int, bytes]]:
    """SIP messages carried over TCP (segment-aligned; enough to read their SDP)."""
    rows = np.flatnonzero(tcp & (l4 + 13 < IP_WINDOW))
    if rows.size == 0:
        return []
    doff = (ipw[rows, l4[rows] + 12] >> 4).astype(np.int64) * 4
    start = ip_start[rows] + l4[rows] + doff
    plen = avail[rows] - l4[rows] - doff
    ok = (doff >= 20) & (plen >= 8)
    rows, start, plen = rows[ok], start[ok], plen[ok]
    if rows.size == 0:
        return []
    first4 = np.ascontiguousarray(_windows(buf, start, 4)).view(">u4").ravel()
    hit = np.flatnonzero(np.isin(first4, _SIP_PREFIXES))
    out = []
    for i in hit:
        data = buf[int(start[i]): int(start[i] + plen[i])].tobytes()
        if data.startswith(SIP_STARTS):
            out.append((int(frames[rows[i]]), int(ts[rows[i]]), data))
    return out


def _keep_payloads(buf: np.ndarray, head: np.ndarray, start: np.ndarray, cap_len: np.ndarray,
                   budget: int) -> dict[int, bytes]:
    """Whole payloads of SIP messages and RTCP packets (sparse, needed later)."""
    b0, b1 = head[:, 0], head[:, 1]
    rtcp = ((b0 & 0xC0) == 0x80) & (b1 >= RTCP_PT_MIN) & (b1 <= RTCP_PT_MAX)
    sip = np.zeros(head.shape[0], dtype=bool)
    letter = np.flatnonzero(((b0 >= ord("A")) & (b0 <= ord("U"))) | (b0 == ord("!")))
    if letter.size:
        first4 = np.ascontiguousarray(head[letter, :4]).view(">u4").ravel()
        sip[letter] = np.isin(first4, _SIP_PREFIXES)
    stun_ind = ((b0 == 0x00) & ((b1 == 0x16) | (b1 == 0x17))
                & (np.ascontiguousarray(head[:, 4:8]).view(">u4").ravel() == STUN_MAGIC_COOKIE))
    rows = np.flatnonzero(rtcp | sip | stun_ind)
    kept: dict[int, bytes] = {}
    for r in rows[:budget]:
        s, ln = int(start[r]), int(cap_len[r])
        data = buf[s: s + ln].tobytes()
        if rtcp[r] or stun_ind[r] or data.startswith(SIP_STARTS):
            kept[int(r)] = data
    return kept


def _hints(buf: np.ndarray, head: np.ndarray, start: np.ndarray, cap_len: np.ndarray,
           sport: np.ndarray, src: np.ndarray, dst: np.ndarray, dport: np.ndarray,
           tcp: TcpSegments | None) -> list[tuple[bytes, int, bytes, int, bytes]]:
    """Payloads that name the app behind a call: DNS responses (answers map names to
    addresses), STUN messages with attributes (SOFTWARE, vendor attributes) and TLS
    ClientHellos (SNI). A few per batch: evidence, not data."""
    b0, b1 = head[:, 0], head[:, 1]
    dns = (sport == DNS_PORT) & ((head[:, 2] & 0x80) != 0) & (cap_len >= 12)
    stun = ((b0 <= 0x01) & (np.ascontiguousarray(head[:, 4:8]).view(">u4").ravel()
                            == STUN_MAGIC_COOKIE) & (cap_len > 20) & (b1 != 0x16) & (b1 != 0x17))
    return _collect_hints(buf, start, cap_len, sport, src, dst, dport, tcp,
                          (np.flatnonzero(dns), np.flatnonzero(stun)))


def _collect_hints(buf: np.ndarray, start: np.ndarray, cap_len: np.ndarray,
                   sport: np.ndarray, src: np.ndarray, dst: np.ndarray, dport: np.ndarray,
                   tcp: TcpSegments | None, rows: tuple[np.ndarray, np.ndarray]
                   ) -> list[tuple[bytes, int, bytes, int, bytes]]:
    """The hints of :func:`_hints` from the rows of DNS responses and STUN messages."""
    out = []
    for sel in rows:
        for r in sel[:MAX_HINTS_PER_BATCH]:
            s0, ln = int(start[r]), int(cap_len[r])
            out.append((bytes(src[r]), int(sport[r]), bytes(dst[r]), int(dport[r]),
                        buf[s0: s0 + ln].tobytes()))
    if tcp is not None:
        hello = np.flatnonzero((tcp.first8[:, 0] == TLS_HANDSHAKE) & (tcp.first8[:, 1] == 3)
                               & (tcp.first8[:, 5] == TLS_CLIENT_HELLO))
        for r in hello[:MAX_HINTS_PER_BATCH]:
            s0, ln = int(tcp.start[r]), int(tcp.length[r])
            out.append((bytes(tcp.src[r]), int(tcp.sport[r]), bytes(tcp.dst[r]),
                        int(tcp.dport[r]), tcp.buf[s0: s0 + ln].tobytes()))
    return out


def _icmp_errors(w: np.ndarray, l4: np.ndarray, is6: np.ndarray, avail: np.ndarray,
                 frames: np.ndarray, ts: np.ndarray) -> list[IcmpError]:
    out = []
    for i in range(w.shape[0]):
        row, p = w[i], int(l4[i])
        end = min(IP_WINDOW, int(avail[i]))  # bytes beyond the capture belong to others
        if p + 8 > end:
            continue
        t, code = int(row[p]), int(row[p + 1])
        q = p + 8  # quoted datagram
        if not is6[i] and t == 3 and q + 20 <= end and row[q] >> 4 == 4:
            qihl = (row[q] & 0x0F) * 4
            if row[q + 9] != IPPROTO_UDP or qihl < 20 or q + qihl + 4 > end:
                continue
            src = bytes(V4_MAPPED_PREFIX) + bytes(row[q + 12: q + 16])
            dst = bytes(V4_MAPPED_PREFIX) + bytes(row[q + 16: q + 20])
            up = q + qihl
        elif is6[i] and t == 1 and q + 40 + 4 <= end and row[q] >> 4 == 6:
            if row[q + 6] != IPPROTO_UDP:
                continue
            src, dst = bytes(row[q + 8: q + 24]), bytes(row[q + 24: q + 40])
            up = q + 40
        else:
            continue
        sport = (int(row[up]) << 8) | int(row[up + 1])
        dport = (int(row[up + 2]) << 8) | int(row[up + 3])
        out.append(IcmpError(int(frames[i]), int(ts[i]), t, code, src, dst, sport, dport))
    return out
