"""From a PacketTable to streams: find RTP (also inside TURN ChannelData), validate it, and
classify every other UDP flow (STUN, DTLS, RTCP, Telegram reflector, opaque media).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from analyzer.capture import records as _records
from analyzer.capture.dissect import (
    F_CHANNEL,
    F_DTLS,
    F_MARKER,
    F_RTCP,
    F_RTP,
    F_STUN,
    F_TELEGRAM_HELLO,
    F_TEXT,
)
from analyzer.capture.table import PacketTable, format_address
from analyzer.protocol import CHANNELDATA_HEADER_LEN, STATIC_PAYLOAD_TYPES
from analyzer.streams.apps import APPS, GENERIC, AppEvidence, StreamFacts, clues, decide
from analyzer.streams.calls import (
    SHARED_SERVER_PORTS,
    assemble_calls,
    pair_directions,
    sip_dialogs,
)
from analyzer.streams.clock import infer_clock_rates_hz
from analyzer.streams.model import (
    KIND_DTLS,
    KIND_OPAQUE,
    KIND_OTHER,
    KIND_RTCP,
    KIND_RTP,
    KIND_SIP,
    KIND_STUN,
    KIND_TELEGRAM,
    Call,
    Series,
    Stream,
)
from analyzer.streams.rtcp import ReportBlock, parse_compound
from analyzer.streams.rtcp import summarize as rtcp_summary
from analyzer.streams.rtpstats import media_clock_hz, rtp_stats_batched, timing_stats
from analyzer.streams.sdp import (
    SdpMedia,
    SipMessage,
    parse_megaco,
    parse_sip,
)

#: RFC 3550 A.1 probation, loosened for captures that start mid-stream: a stream found
#: without signalling needs this many packets and mostly small forward sequence steps.
MIN_HEURISTIC_PACKETS = 5
MIN_SEQ_STEP_SHARE = 0.6
MAX_MISORDER = 100
#: Unclassified UDP flows with fewer packets than this are counted, not listed as streams
#: (no call's media is that short; a capture of DNS chatter or a scan has thousands).
MIN_LISTED_OTHER_PACKETS = 5
#: Opaque media: at least this many packets, median spacing under this, small datagrams.
OPAQUE_MIN_PACKETS = 20
OPAQUE_MAX_MEDIAN_GAP_S = 0.25
OPAQUE_MAX_MEDIAN_SIZE = 700
TELEGRAM_NETS = ((0x5B6C0000, 16), (0x959AA000, 20))  # 91.108.0.0/16, 149.154.160.0/20
#: WhatsApp's audio payload types (MLow / Opus); video and other PTs inherit the call's app.
WHATSAPP_PTS = (120, 121)
#: Signal's RingRTC uses small fixed SSRCs (seen: 1001, 2001, 2002, 2013).
SIGNAL_MAX_SSRC = 10_000
#: UDP services that are never call media (DNS, DHCP, NTP, NetBIOS, SSDP, mDNS, LLMNR, WSD).
NON_MEDIA_PORTS = frozenset((53, 67, 68, 123, 137, 138, 1900, 3702, 5353, 5355))


class _Seconds:
    """Arrival times in seconds from the capture start, computed only for the rows asked."""

    def __init__(self, ts_ns: np.ndarray, t0_ns: int) -> None:
        self.ts_ns, self.t0_ns = ts_ns, t0_ns

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return (self.ts_ns[rows] - self.t0_ns) / 1e9


@dataclass(frozen=True)
class StreamSet:
    streams: tuple[Stream, ...]
    calls: tuple[Call, ...]
    sip: tuple[SipMessage, ...]
    small_other_flows: int = 0  # unclassified flows too short to list (counted only)


def _sip_messages(table: PacketTable) -> list[SipMessage]:
    found = [(int(table.frame[row]), int(table.ts_ns[row]), payload)
             for row, payload in table.kept.items() if payload[:1].isalpha() or payload[:1] == b"!"]
    found.extend(table.tcp_sip)
    out = []
    for frame, ts, payload in sorted(found, key=lambda x: x[0]):
        msg = parse_sip(payload, frame, ts) or parse_megaco(payload, frame, ts)
        if msg is not None:
            out.append(msg)
    return out


def _not_rtp_by_sdp(table: PacketTable, media: list[SdpMedia]) -> np.ndarray:
    """Packets whose endpoint the latest SDP (before that frame) moved off RTP, e.g. to T.38.

    Like Wireshark's conversation lookup, the destination endpoint's state decides when it
    has one, else the source endpoint's; within one message the last media line wins.
    """
    out = np.zeros(len(table), dtype=bool)
    timeline: dict[tuple[str, int], list[tuple[int, int, bool]]] = {}
    for k, m in enumerate(media):
        timeline.setdefault((m.address, m.port), []).append((m.frame, k, m.is_rtp))
    if all(r for ev in timeline.values() for _, _, r in ev):
        return out
    flows = table.flows
    n_flows = len(flows)

    def state_at(ep: tuple[str, int], frames: np.ndarray) -> np.ndarray:
        """1 RTP, 0 not RTP, -1 no SDP yet, for each frame."""
        ev = sorted(timeline.get(ep, []))
        if not ev:
            return np.full(frames.size, -1)
        f = np.array([e[0] for e in ev])
        st = np.array([1 if e[2] else 0 for e in ev])
        k = np.searchsorted(f, frames, side="left") - 1
        return np.where(k >= 0, st[np.maximum(k, 0)], -1)

    for fl in range(n_flows):
        src = (flows.src_str(fl), int(flows.sport[fl]))
        dst = (flows.dst_str(fl), int(flows.dport[fl]))
        if src not in timeline and dst not in timeline:
            continue
        rows = np.flatnonzero(table.flow == fl)
        fr = table.frame[rows]
        sd, ss = state_at(dst, fr), state_at(src, fr)
        state = np.where(sd >= 0, sd, ss)
        out[rows[state == 0]] = True
    return out


@dataclass(frozen=True)
class _SdpAt:
    """One ``m=`` section as signalled: where, when (record number) and in which dialog."""

    frame: int
    dialog: str | None
    rtpmap: dict[int, tuple[str, int]]


def _sdp_by_endpoint(sip_msgs: list[SipMessage]) -> dict[tuple[str, int], list[_SdpAt]]:
    """RTP media sections per receiving endpoint (address, port), in capture order."""
    by_ep: dict[tuple[str, int], list[_SdpAt]] = {}
    for msg in sip_msgs:
        for m in msg.media:
            if m.is_rtp:
                by_ep.setdefault((m.address, m.port), []).append(
                    _SdpAt(m.frame, msg.call_id, m.rtpmap))
    for ev in by_ep.values():
        ev.sort(key=lambda e: e.frame)
    return by_ep


def sdp_map_at(events: list[_SdpAt], frame: int) -> dict[int, tuple[str, int]]:
    """The payload map an endpoint's SDP gave for media at record ``frame``: the dialog of
    the latest SDP before it (the first one when media starts before any SDP), its sections
    up to that record merged in order (a re-INVITE's map overrides the offer's). Successive
    calls on the same ports so keep their own maps (G.726-32 then G.726-24 on PT 99)."""
    before = [e for e in events if e.frame <= frame]
    if not before:
        before = [events[0]]
    dialog = before[-1].dialog
    out: dict[int, tuple[str, int]] = {}
    for e in before:
        if e.dialog == dialog:
            out.update(e.rtpmap)
    return out


def _sdp_group_maps(table: PacketTable, by_ep: dict[tuple[str, int], list[_SdpAt]],
                    groups: _RtpGroups) -> list[dict[int, tuple[str, int]]]:
    """Each RTP group's payload map, from the SDP in force at its first packet for either
    endpoint of its flow (the destination's wins: it says what that side receives)."""
    flows = table.flows
    out: list[dict[int, tuple[str, int]]] = []
    for k in range(groups.starts.size):
        f = int(groups.flow[k])
        frame = int(table.frame[groups.rows[groups.starts[k]]])
        smap: dict[int, tuple[str, int]] = {}
        for ep in ((flows.src_str(f), int(flows.sport[f])),
                   (flows.dst_str(f), int(flows.dport[f]))):
            if ep in by_ep:
                smap.update(sdp_map_at(by_ep[ep], frame))
        out.append(smap)
    return out


def _sdp_flows(table: PacketTable, by_ep: dict[tuple[str, int], list[_SdpAt]]) -> np.ndarray:
    """Flows with an endpoint some SDP named as an RTP receiver (vectorised over flows:
    (address, port) pairs as 18-byte rows, looked up in the sorted SDP endpoints)."""
    flows = table.flows
    out = np.zeros(len(flows), dtype=bool)
    if not by_ep or not len(flows):
        return out
    eps = []
    for addr, port in by_ep:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            continue
        b = ip.packed if ip.version == 6 else b"\x00" * 10 + b"\xff\xff" + ip.packed
        eps.append(b + int(port & 0xFFFF).to_bytes(2, "big"))
    if not eps:
        return out
    known = np.sort(np.frombuffer(b"".join(eps), dtype=np.dtype((np.void, 18))))
    for col, ports in ((flows.src, flows.sport), (flows.dst, flows.dport)):
        k = np.empty((len(flows), 18), dtype=np.uint8)
        k[:, :16] = col
        k[:, 16:] = np.asarray(ports, dtype=">u2").reshape(-1, 1).view(np.uint8)
        kv = k.view(np.dtype((np.void, 18))).ravel()
        pos = np.minimum(np.searchsorted(known, kv), known.size - 1)
        out |= known[pos] == kv
    return out


def _in_nets(addr16: np.ndarray, nets: tuple[tuple[int, int], ...]) -> bool:
    b = bytes(addr16)
    if b[:12] != b"\x00" * 10 + b"\xff\xff":
        return False
    v = int.from_bytes(b[12:], "big")
    return any((v >> (32 - bits)) == (net >> (32 - bits)) for net, bits in nets)


def build_streams(table: PacketTable) -> StreamSet:
    """Streams, calls and SIP messages of a capture, in four stages: signalling (SIP/SDP),
    RTP grouping and validation, the RTP streams with their clocks and statistics, and
    every other flow; then RTCP reports, reverse directions and calls are attached."""
    sip_msgs = _sip_messages(table)
    all_media = [m for s in sip_msgs for m in s.media]
    by_ep = _sdp_by_endpoint(sip_msgs)
    sdp_flow = _sdp_flows(table, by_ep)
    rev = table.flows.reverse_index()

    cand = ((table.flags & F_RTP) != 0) & ~_not_rtp_by_sdp(table, all_media)
    groups = _rtp_groups(table, cand, sdp_flow)
    del cand
    sdp_maps = _sdp_group_maps(table, by_ep, groups)
    streams = _rtp_streams(table, groups, sdp_maps, sdp_flow, rev)
    rest = np.ones(len(table), dtype=bool)
    rest[groups.rows] = False
    other, small_other = _other_streams(table, rest, sdp_flow, first_index=len(streams))
    streams += other
    streams = _attach_rtcp(table, streams)
    streams = _link(streams, rev)
    dialogs = sip_dialogs(sip_msgs, table.t0_ns)
    streams = pair_directions(streams, dialogs)
    calls = assemble_calls(streams, dialogs)
    calls = _label_calls(streams, calls, app_evidence(table))
    return StreamSet(streams=tuple(streams), calls=calls, sip=tuple(sip_msgs),
                     small_other_flows=small_other)


@dataclass(frozen=True)
class _RtpGroups:
    """The accepted RTP groups (one per flow and SSRC), their table rows back to back."""

    rows: np.ndarray  # table rows, group by group, capture order within a group
    starts: np.ndarray  # index in ``rows`` of each group's first packet
    counts: np.ndarray  # packets per group
    flow: np.ndarray  # flow of each group
    ssrc: np.ndarray  # SSRC of each group


def _rtp_groups(table: PacketTable, cand: np.ndarray, sdp_flow: np.ndarray) -> _RtpGroups:
    """Group RTP candidates by (flow, SSRC) and keep the groups that are RTP: signalled by
    SDP, or long enough with mostly small forward sequence steps."""
    # A group needs MIN_HEURISTIC_PACKETS unless SDP signals its flow: the rows of flows with
    # fewer candidates are dropped first (a million tiny flows of random bytes pass the
    # RTP header check by the hundred thousand, and would each make a group here).
    few = (_rows_per_flow(table.flow, cand, len(table.flows)) < MIN_HEURISTIC_PACKETS) \
        & ~sdp_flow
    if few.any():
        cand = cand & ~few[table.flow]
    del few
    # One stable sort keeps capture order per group. Row numbers are 32-bit where the table
    # allows, and at most a few per-packet arrays live at once (a big capture has millions).
    ci = np.flatnonzero(cand).astype(np.int32 if len(table) < (1 << 31) else np.int64)
    fl = table.flow[ci]
    order = _group_order(fl, len(table.flows))
    rows_sorted = ci[order]
    del ci
    fs = fl[order]
    del fl, order
    ss = table.ssrc[rows_sorted]
    if fs.size > 1 and ((fs[1:] == fs[:-1]) & (ss[1:] < ss[:-1])).any():
        # a flow with several SSRCs interleaved: sort by SSRC within each flow (stable)
        order = np.lexsort((ss, fs))
        rows_sorted, fs, ss = rows_sorted[order], fs[order], ss[order]
        del order
    g_starts = np.flatnonzero(np.r_[True, (fs[1:] != fs[:-1]) | (ss[1:] != ss[:-1])]) \
        if fs.size else np.zeros(0, dtype=np.int64)
    gcnt = np.diff(np.r_[g_starts, fs.size])
    g_flow = fs[g_starts].astype(np.int64)
    g_ssrc = ss[g_starts].astype(np.int64)
    del fs, ss
    # sequence plausibility per group (vectorized): share of small forward steps
    step = np.zeros(rows_sorted.size, dtype=np.uint16)
    step[1:] = np.diff(table.seq[rows_sorted])  # wraps modulo 2**16
    is_first = np.zeros(rows_sorted.size, dtype=bool)
    is_first[g_starts] = True
    fwd = ~is_first & (step >= 1) & (step <= MAX_MISORDER)
    same = ~is_first & (step == 0)  # duplicates: neither for nor against
    del step, is_first
    n_fwd = np.add.reduceat(fwd, g_starts) if g_starts.size else np.zeros(0)
    n_same = np.add.reduceat(same, g_starts) if g_starts.size else np.zeros(0)
    fwd_share = n_fwd / np.maximum(gcnt - 1 - n_same, 1)
    accept = sdp_flow[g_flow] | ((gcnt >= MIN_HEURISTIC_PACKETS) &
                                 (fwd_share >= MIN_SEQ_STEP_SHARE))
    acc_groups = np.flatnonzero(accept)
    r_cnt = gcnt[acc_groups]
    r_starts = np.concatenate([[0], np.cumsum(r_cnt)[:-1]]).astype(np.int64) if r_cnt.size \
        else np.zeros(0, dtype=np.int64)
    return _RtpGroups(rows=rows_sorted[np.repeat(accept, gcnt)], starts=r_starts,
                      counts=r_cnt, flow=g_flow[acc_groups], ssrc=g_ssrc[acc_groups])


def _rtp_clocks(groups: _RtpGroups, pt: np.ndarray, sdp_maps: list[dict[int, tuple[str, int]]],
                arrival: np.ndarray, seq16: np.ndarray, ts32: np.ndarray
                ) -> tuple[np.ndarray, list[list]]:
    """Each RTP group's payload types, codec and clock: the per-packet clock as TShark sees
    it (static table or SDP), else the inferred one. Returns the per-packet clock and, per
    group, ``[flow, ssrc, payload types, codec, clock source, clock rate]``."""
    r_starts, r_cnt = groups.starts, groups.counts
    clock = np.zeros(pt.size, dtype=np.int32)
    stream_meta = []
    need_clock = []
    for k in range(r_starts.size):
        a, b = int(r_starts[k]), int(r_starts[k] + r_cnt[k])
        f = int(groups.flow[k])
        pts = pt[a:b]
        first_pt = int(pts[0])
        if (pts == first_pt).all():
            pt_list = [first_pt]
        else:
            pt_list = [int(p) for p, _ in Counter(pts.tolist()).most_common()]
        smap = sdp_maps[k]
        codec, clk_src = None, None
        for p in pt_list:
            if p in smap and smap[p][1] > 0:
                codec, clk_src = smap[p][0], "sdp"
                break
            if p in STATIC_PAYLOAD_TYPES:
                codec, clk_src = STATIC_PAYLOAD_TYPES[p][0], "static"
                break
        # per-packet clock as TShark sees it (static table or SDP)
        lut = {p: media_clock_hz(p, smap) for p in pt_list}
        clock[a:b] = np.vectorize(lut.get, otypes=[np.int32])(pts) if len(lut) > 1 else \
            lut[pt_list[0]]
        if not (clock[a:b] > 0).any():
            need_clock.append(k)
        stream_meta.append([f, int(groups.ssrc[k]), tuple(pt_list), codec, clk_src,
                            int(clock[a:b].max())])
    if need_clock:  # no clock known to TShark: infer it (vectorized over all streams)
        rates = infer_clock_rates_hz(arrival, ts32, seq16, r_starts)
        for k in need_clock:
            if rates[k]:
                clock[r_starts[k]: r_starts[k] + r_cnt[k]] = rates[k]
                stream_meta[k][4] = "inferred"
                stream_meta[k][5] = int(rates[k])
    return clock, stream_meta


#: RTP streams are built a batch of whole streams at a time, so the temporary per-packet
#: columns (gathered fields, clocks, unwrapping) never exceed about this many packets.
STREAM_BATCH_PACKETS = 1 << 16


def _rtp_streams(table: PacketTable, groups: _RtpGroups,
                 sdp_maps: list[dict[int, tuple[str, int]]], sdp_flow: np.ndarray,
                 rev: np.ndarray) -> list[Stream]:
    """The RTP streams (grouped in key order, built a batch of whole streams at a time;
    numbered by first packet)."""
    flags = table.flags
    chan = (flags & F_CHANNEL) != 0
    rs_rows, r_starts, r_cnt = groups.rows, groups.starts, groups.counts
    flows = table.flows
    flow_has_dtls = np.bincount(table.flow[(flags & F_DTLS) != 0], minlength=len(flows)) > 0
    flow_has_stun = np.bincount(table.flow[(flags & F_STUN) != 0], minlength=len(flows)) > 0
    built: list[tuple[Series, Any, list]] = []
    ends = r_starts + r_cnt
    k = 0
    while k < r_starts.size:
        a = int(r_starts[k])
        k_end = max(k + 1, int(np.searchsorted(ends, a + STREAM_BATCH_PACKETS, side="right")))
        b = int(ends[k_end - 1])
        built.extend(_rtp_batch(table, chan, rs_rows[a:b], _RtpGroups(
            rows=rs_rows[a:b], starts=r_starts[k:k_end] - a, counts=r_cnt[k:k_end],
            flow=groups.flow[k:k_end], ssrc=groups.ssrc[k:k_end]), sdp_maps[k:k_end]))
        k = k_end
    streams: list[Stream] = []
    first_rows = rs_rows[r_starts] if r_starts.size else np.zeros(0, dtype=np.int64)
    for k in np.argsort(first_rows, kind="stable"):
        ser, stats, (f, ssrc, pts, codec, clk_src, clk) = built[k]
        a, b = int(r_starts[k]), int(r_starts[k] + r_cnt[k])
        rows = rs_rows[a:b]
        app = _rtp_app(table, f, rev, pts, bool(sdp_flow[f]),
                       bool(flow_has_dtls[f] or (rev[f] >= 0 and flow_has_dtls[rev[f]])),
                       bool(chan[rows].any() or (table.encap[rows] == 2).any()), ssrc,
                       bool(flow_has_stun[f] or (rev[f] >= 0 and flow_has_stun[rev[f]])))
        streams.append(Stream(
            index=len(streams), flow=f, src=flows.src_str(f), sport=int(flows.sport[f]),
            dst=flows.dst_str(f), dport=int(flows.dport[f]), ssrc=ssrc, kind=KIND_RTP, app=app,
            transport=_transport(table, rows, chan), payload_types=pts,
            codec=codec, clock_rate_hz=clk or None, clock_source=clk_src,
            sdp_signalled=bool(sdp_flow[f]), series=ser, stats=stats,
            extra={"jitter_by_tshark": clk_src in ("static", "sdp")}))
    return streams


def _rtp_batch(table: PacketTable, chan: np.ndarray, rows: np.ndarray, groups: _RtpGroups,
               sdp_maps: list[dict[int, tuple[str, int]]]) -> list[tuple[Series, Any, list]]:
    """Series, statistics and clock facts of a batch of whole RTP groups (``rows``: their
    table rows back to back; ``groups.starts`` relative to ``rows``)."""
    arrival, size, seq16, ts32, pt, marker, frames = _rtp_columns(table, chan, rows)
    clock, stream_meta = _rtp_clocks(groups, pt, sdp_maps, arrival, seq16, ts32)
    seq_ext, ts_ext, stats = rtp_stats_batched(
        arrival, seq16, ts32, marker, pt, clock, size, groups.starts)
    del seq16, ts32, clock
    size16 = size.astype(np.uint16)
    pt8 = pt.astype(np.int8)
    del size, pt
    out = []
    for k in range(groups.starts.size):
        a, b = int(groups.starts[k]), int(groups.starts[k] + groups.counts[k])
        ser = Series(frame=frames[a:b], arrival_s=arrival[a:b], size_bytes=size16[a:b],
                     seq=seq_ext[a:b], rtp_ts=ts_ext[a:b], marker=marker[a:b],
                     payload_type=pt8[a:b])
        out.append((ser, stats[k], stream_meta[k]))
    return out


def _rtp_columns(table: PacketTable, chan: np.ndarray, rows: np.ndarray, *,
                 compiled: bool = True) -> tuple[np.ndarray, ...]:
    """The per-packet columns of table rows ``rows`` that RTP streams are built from:
    arrival (s), payload size (ChannelData header off), seq, RTP time, payload type
    (int16), marker, frame - gathered in one compiled pass where the extension was built
    (``compiled``), else with numpy (the reference; the same values)."""
    walk = _records._compiled
    if compiled and walk is not None and hasattr(walk, "rtp_gather"):
        n = rows.size
        out = (np.empty(n, np.float64), np.empty(n, np.int32), np.empty(n, np.uint16),
               np.empty(n, np.uint32), np.empty(n, np.int16), np.empty(n, np.bool_),
               np.empty(n, np.uint32))
        walk.rtp_gather(np.ascontiguousarray(rows), table.ts_ns, int(table.t0_ns),
                        table.udp_len, table.flags, table.payload_type, table.seq,
                        table.rtp_ts, table.frame, out)
        return out
    length = table.udp_len
    size = np.where(chan[rows], length[rows].astype(np.int32) - CHANNELDATA_HEADER_LEN,
                    length[rows])
    return (_Seconds(table.ts_ns, table.t0_ns)[rows], size, table.seq[rows],
            table.rtp_ts[rows], table.payload_type[rows].astype(np.int16),
            (table.flags[rows] & F_MARKER) != 0, table.frame[rows])


def _other_streams(table: PacketTable, rest: np.ndarray, sdp_flow: np.ndarray, *,
                   first_index: int) -> tuple[list[Stream], int]:
    """Everything not RTP (rows ``rest``): one stream per flow and kind (STUN, DTLS, RTCP,
    SIP, Telegram, opaque media, other). Tiny unclassified flows are only counted; returns
    the streams (numbered from ``first_index``) and that count."""
    flags = table.flags
    length = table.udp_len
    flows = table.flows
    t_s = _Seconds(table.ts_ns, table.t0_ns)
    kinds = np.full(len(table), -1, dtype=np.int8)
    kinds[rest & ((flags & F_STUN) != 0)] = 0
    kinds[rest & ((flags & F_DTLS) != 0)] = 1
    kinds[rest & ((flags & F_RTCP) != 0)] = 2
    kinds[rest & ((flags & F_TEXT) != 0)] = 3
    kinds[rest & (kinds < 0)] = 4  # unclassified payload
    kind_names = {0: KIND_STUN, 1: KIND_DTLS, 2: KIND_RTCP, 3: KIND_SIP, 4: KIND_OTHER}
    # Tiny unclassified flows (DNS-like chatter, scans: there may be millions) are counted
    # first, from one count per flow, and their rows left out before anything is sorted.
    other = kinds == 4
    per_flow = _rows_per_flow(table.flow, other, len(flows))
    tiny = (per_flow > 0) & (per_flow < MIN_LISTED_OTHER_PACKETS)
    small_other = int(tiny.sum())
    del per_flow
    if small_other:
        rest = rest & ~(other & tiny[table.flow])
    del other, tiny
    row_type = np.int32 if len(table) < (1 << 31) else np.int64
    sel = np.flatnonzero(rest).astype(row_type)
    # one stable sort of the (flow, kind) keys of these rows groups them, capture order kept
    key_type = np.dtype(np.uint32 if len(flows) < (1 << 28) else np.uint64)
    okey = (table.flow[sel].astype(key_type) << 3) | kinds[sel].astype(key_type)
    del kinds
    oorder = np.argsort(okey, kind="stable")
    osorted = sel[oorder]
    del sel
    okey = okey[oorder]
    del oorder
    ostarts = np.flatnonzero(np.r_[True, okey[1:] != okey[:-1]]) if okey.size else \
        np.zeros(0, dtype=np.int64)
    ocnt = np.diff(np.r_[ostarts, okey.size])
    ou = okey[ostarts].astype(np.int64)
    del okey
    listed = np.argsort(osorted[ostarts], kind="stable")  # by first packet
    streams: list[Stream] = []
    for j in listed:
        rows = osorted[ostarts[j]: ostarts[j] + ocnt[j]]
        f, kcode = int(ou[j] // 8), int(ou[j] % 8)
        kind = kind_names[kcode]
        app = None
        if kind == KIND_OTHER:
            kind, app = _classify_other(table, f, rows, t_s, length)
        elif kind == KIND_STUN and (_in_nets(flows.dst[f], TELEGRAM_NETS) or
                                   _in_nets(flows.src[f], TELEGRAM_NETS)):
            app = "telegram"
        ser = Series(frame=table.frame[rows], arrival_s=t_s[rows],
                     size_bytes=length[rows].astype(np.uint16),
                     seq=np.zeros(rows.size, np.int32), rtp_ts=np.zeros(rows.size, np.int64),
                     marker=np.zeros(rows.size, bool), payload_type=np.full(rows.size, -1,
                                                                             np.int8))
        extra = {}
        if kind == KIND_STUN:
            t = table.stun_type[rows].astype(np.int64)
            cls = ((t >> 7) & 0x2) | ((t >> 4) & 0x1)
            extra = {"stun_requests": int((cls == 0).sum()),
                     "stun_responses": int(((cls == 2) | (cls == 3)).sum())}
        if kind == KIND_TELEGRAM:
            extra = {"telegram_hellos": int(((flags[rows] & F_TELEGRAM_HELLO) != 0).sum())}
        streams.append(Stream(
            index=first_index + len(streams), flow=f, src=flows.src_str(f),
            sport=int(flows.sport[f]), dst=flows.dst_str(f), dport=int(flows.dport[f]),
            ssrc=None, kind=kind, app=app, transport="udp", payload_types=(), codec=None,
            clock_rate_hz=None, clock_source=None, sdp_signalled=bool(sdp_flow[f]),
            series=ser, stats=timing_stats(t_s[rows], length[rows]), extra=extra))
    return streams, small_other


#: Rows counted per flow at a time by :func:`_rows_per_flow`.
COUNT_CHUNK_ROWS = 1 << 18


def _rows_per_flow(flow: np.ndarray, mask: np.ndarray, n_flows: int) -> np.ndarray:
    """How many rows where ``mask`` holds each flow has (int32), a chunk of rows at a time:
    a plain ``bincount`` over millions of flows allocates 8 bytes a flow for its result and
    8 a row for its input, which a capture of a million tiny flows pays at its peak."""
    counts = np.zeros(n_flows, dtype=np.int32)
    for a in range(0, flow.size, COUNT_CHUNK_ROWS):
        f = flow[a: a + COUNT_CHUNK_ROWS][mask[a: a + COUNT_CHUNK_ROWS]]
        if not f.size:
            continue
        lo, hi = int(f.min()), int(f.max())
        if hi - lo < 4 * COUNT_CHUNK_ROWS:  # flows of nearby ids (new flows come in order)
            counts[lo: hi + 1] += np.bincount(f - lo, minlength=hi - lo + 1).astype(np.int32)
        else:
            u, c = np.unique(f, return_counts=True)
            counts[u] += c.astype(np.int32)
    return counts


def _group_order(flow: np.ndarray, n_flows: int) -> np.ndarray:
    """A stable order grouping equal flows: a radix sort on 16 bits where the flow ids fit
    (O(n)), else a stable sort."""
    if n_flows <= (1 << 16):
        return np.argsort(flow.astype(np.uint16), kind="stable")
    return np.argsort(flow, kind="stable")


def _transport(table: PacketTable, rows: np.ndarray, chan: np.ndarray) -> str:
    """How the stream travels: udp, tcp (TURN framing), and TURN ChannelData/Send-Data."""
    base = "tcp" if int(table.flows.proto[table.flow[rows[0]]]) == 6 else "udp"
    if chan[rows].any() or (table.encap[rows] == 2).any():
        return f"turn-{base}"
    return base


def _rtp_app(table: PacketTable, f: int, rev: np.ndarray, pts: tuple[int, ...],
             sdp: bool, dtls: bool, channel: bool, ssrc: int = 0, ice: bool = False
             ) -> str | None:
    """The family of a stream from its own path: ``sip`` (SDP-signalled), ``webrtc``
    (DTLS, STUN or TURN on the same 5-tuple) or plain ``rtp``. Which app it is, is the
    call's business (:mod:`analyzer.streams.apps`: relays, names, STUN, conventions)."""
    del table, f, rev, pts, ssrc
    if sdp:
        return "sip"
    if dtls or channel or ice:
        return "webrtc"
    return "rtp"


def _broadcast_or_multicast(addr16: np.ndarray) -> bool:
    """LAN discovery chatter (broadcast, multicast) is never a call's media."""
    b = bytes(addr16)
    if b[:12] == b"\x00" * 10 + b"\xff\xff":
        return b[12] >= 224 or b[15] == 255
    return b[0] == 0xFF


def _classify_other(table: PacketTable, f: int, rows: np.ndarray, t_s: _Seconds,
                    length: np.ndarray) -> tuple[str, str | None]:
    flows = table.flows
    tele_net = _in_nets(flows.dst[f], TELEGRAM_NETS) or _in_nets(flows.src[f], TELEGRAM_NETS)
    if int(flows.sport[f]) in NON_MEDIA_PORTS or int(flows.dport[f]) in NON_MEDIA_PORTS \
            or _broadcast_or_multicast(flows.dst[f]):
        return KIND_OTHER, None
    if rows.size >= 3:
        _, cnt = np.unique(table.tag[rows], return_counts=True)
        same_tag = cnt.max() / rows.size
        if same_tag >= 0.9 and length[rows].min() >= 16 and (tele_net or rows.size >= 10):
            return KIND_TELEGRAM, "telegram"
    if ((table.flags[rows] & F_TELEGRAM_HELLO) != 0).any():
        return KIND_TELEGRAM, "telegram"
    if rows.size >= OPAQUE_MIN_PACKETS:
        gaps = np.diff(t_s[rows])
        if np.median(gaps) <= OPAQUE_MAX_MEDIAN_GAP_S and \
                np.median(length[rows]) <= OPAQUE_MAX_MEDIAN_SIZE:
            return KIND_OPAQUE, "telegram" if tele_net else None
    return KIND_OTHER, "telegram" if tele_net else None


def _attach_rtcp(table: PacketTable, streams: list[Stream]) -> list[Stream]:
    """Attach what RTCP receiver/sender reports said about each RTP stream (by SSRC)."""
    blocks: dict[int, list[ReportBlock]] = {}
    srtcp = 0
    for row, payload in table.kept.items():
        if not table.flags[row] & F_RTCP and not (payload[:1] and payload[0] >> 6 == 2):
            continue
        found, encrypted = parse_compound(payload, (int(table.ts_ns[row]) - table.t0_ns) / 1e9)
        srtcp += encrypted
        for b in found:
            blocks.setdefault(b.ssrc, []).append(b)
    if not blocks:
        return streams
    out = []
    for st in streams:
        if st.kind == KIND_RTP and st.ssrc in blocks:
            extra = {**st.extra, "rtcp": rtcp_summary(blocks[st.ssrc], st.clock_rate_hz)}
            st = replace(st, extra=extra)
        out.append(st)
    return out


def _link(streams: list[Stream], rev: np.ndarray) -> list[Stream]:
    """Set ``reverse`` on each media stream: the media stream on the reverse flow that runs
    alongside it longest (then the largest). A flow that carried two calls one after the
    other (new SSRCs) so pairs each call's directions, not the first call's with both."""
    by_flow: dict[int, list[Stream]] = {}
    for s in streams:
        if s.is_media:
            by_flow.setdefault(s.flow, []).append(s)

    def overlap(a: Stream, b: Stream) -> float:
        return min(a.stats.end_s, b.stats.end_s) - max(a.stats.start_s, b.stats.start_s)

    out = []
    for s in streams:
        r = None
        if s.is_media and rev[s.flow] >= 0:
            cands = by_flow.get(int(rev[s.flow]), [])
            if cands:
                best = max(cands, key=lambda t: (overlap(s, t) > 0, overlap(s, t) > 0 and
                                                 t.stats.packets, overlap(s, t)))
                r = best.index
        out.append(replace(s, reverse=r))
    return out


def app_evidence(table: PacketTable) -> AppEvidence:
    """The capture's app evidence: its kept DNS/STUN/TLS payloads and, when the capture
    layer set them (PCAPdroid), the phone's app label or package per flow."""
    ev = AppEvidence()
    for src, sport, dst, dport, payload in table.hints:
        ev.add_hint(format_address(src), sport, format_address(dst), dport, payload)
    labels = getattr(table.flows, "app_label", None)
    packages = getattr(table.flows, "app_package", None)
    for f in range(len(table.flows)):
        label = labels[f] if labels is not None and f < len(labels) else None
        package = packages[f] if packages is not None and f < len(packages) else None
        if label or package:
            ev.add_flow_app(f, label=label or None, package=package or None)
    return ev


def _facts(s: Stream) -> StreamFacts:
    return StreamFacts(src=s.src, sport=s.sport, dst=s.dst, dport=s.dport, flow=s.flow,
                       kind=s.kind, payload_types=s.payload_types, ssrc=s.ssrc,
                       ice=s.app == "webrtc")


def _label_calls(streams: list[Stream], calls: tuple[Call, ...], ev: AppEvidence
                 ) -> tuple[Call, ...]:
    """One app per call, from the evidence of its streams and of the other flows of its
    sockets (ICE checks to relays, TURN); a SIP-signalled call is ``sip``; without a clear
    app, the streams' generic family (``webrtc``, ``rtp``) or ``None``. Every stream of a
    call gets the call's number and app."""
    by_socket: dict[tuple[str, int], list[Stream]] = {}
    for s in streams:  # media of other calls on the same socket count too (relay leg)
        for ep in ((s.src, s.sport), (s.dst, s.dport)):
            if ep[1] not in SHARED_SERVER_PORTS:
                by_socket.setdefault(ep, []).append(s)
    out = []
    for c in calls:
        members = [streams[i] for i in c.streams]
        found = []
        companions: dict[int, Stream] = {}
        for s in members:
            found += clues(_facts(s), ev)
            for ep in ((s.src, s.sport), (s.dst, s.dport)):
                for o in by_socket.get(ep, ()):
                    if o.index not in c.streams:
                        companions[o.index] = o
        for o in companions.values():
            found += clues(_facts(o), ev, companion=True)
        app, why = decide(found)
        if any(s.sdp_signalled for s in members):
            app, why = "sip", ("sip: SDP-signalled media",)
        elif app is None:
            generic = Counter(s.app for s in members if s.app in GENERIC)
            app = generic.most_common(1)[0][0] if generic else None
        c = replace(c, app=app, app_evidence=why if app in APPS else ())
        for i in c.streams:
            streams[i] = replace(streams[i], call=c.index, app=app)
        out.append(c)
    return tuple(out)
