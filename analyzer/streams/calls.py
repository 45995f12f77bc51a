"""Calls from media streams, as real calls are built (../shared/DOMAIN.md §7).

* **SIP dialogs** (Call-ID; the ``c=``/``m=`` endpoints of every offer, answer and
  re-INVITE; BYE) join the streams they name and keep successive calls apart, even on the
  same ports: streams of two dialogs are never one call.
* **Both directions** are paired as ``Stream.reverse``: the reverse 5-tuple when there is
  one, else - asymmetric ports, A:40006 -> B:5006 with B:40004 -> A:5004 - the stream
  between the same two hosts the other way that overlaps it in time with the same cadence.
* **Joins**: a stream and its reverse; the same SSRC close in time; a shared client
  endpoint (not a relay's well-known port) *while both streams run* - two calls one after
  the other on the same ports share endpoints but not time.
* **Path switches**: a call whose media stops on one 5-tuple and resumes on a new one
  within a few seconds (the same SSRC, or the same cadence and sizes with an address or
  port in common; IPv6 -> IPv4, relay -> peer-to-peer) stays one call, and the switch is
  recorded (:class:`~analyzer.streams.model.PathSwitch`) so the verdict layer can name it
  a confounder rather than loss.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analyzer.streams.model import (
    KIND_RTP,
    SWITCH_ADDRESS,
    SWITCH_IP_VERSION,
    SWITCH_P2P_TO_RELAY,
    SWITCH_PORT,
    SWITCH_RELAY_TO_P2P,
    Call,
    PathSwitch,
    Stream,
)
from analyzer.streams.sdp import SipMessage

#: Server ports shared by many calls: never used to join streams into one call.
SHARED_SERVER_PORTS = frozenset((3478, 3479, 3480, 3481, 5349, 19302, 19305, 443, 5060, 8801))
#: Relay (TURN / messenger relay) service ports: a path through one of them is relayed.
RELAY_PORTS = frozenset((3478, 3479, 3480, 3481, 5349, 19302, 19305, 443, 8801))
#: Streams that share an endpoint are one call only if they overlap by at least this.
MIN_OVERLAP_S = 0.02
#: A path switch: the new path starts at most this long after the old one's last packet...
MAX_SWITCH_GAP_S = 5.0
#: ... and the old path ends at most this long after the new one began (paths may overlap).
MAX_SWITCH_OVERLAP_S = 1.0
#: Pairing directions without a shared 5-tuple: overlap (share of the shorter stream) and
#: median packet spacing ratio (the same cadence).
MIN_PAIR_OVERLAP = 0.5
MAX_CADENCE_RATIO = 1.6
#: Continuation by cadence: median payload size ratio.
MAX_SIZE_RATIO = 2.0
#: A stream is assigned to a SIP dialog whose SDP came at most this long after its start.
SDP_SLACK_S = 1.0
#: Slack of the start-time windows that pick candidates (the exact test follows).
_EPS_S = 1e-6


@dataclass(frozen=True)
class Dialog:
    """One SIP dialog: its Call-ID, the media endpoints its SDP named, when it began
    (first SDP) and when it ended (first BYE; ``inf`` without one)."""

    call_id: str
    endpoints: frozenset[tuple[str, int]]
    start_s: float
    end_s: float


def sip_dialogs(msgs: Sequence[SipMessage], t0_ns: int) -> list[Dialog]:
    """The SIP dialogs with SDP, in order of their first SDP."""
    eps: dict[str, set[tuple[str, int]]] = {}
    start: dict[str, float] = {}
    end: dict[str, float] = {}
    for m in msgs:
        if m.call_id is None:
            continue
        t = (m.ts_ns - t0_ns) / 1e9
        if m.media:
            eps.setdefault(m.call_id, set()).update((x.address, x.port) for x in m.media
                                                    if x.is_rtp)
            start.setdefault(m.call_id, t)
        if m.method == "BYE" and m.call_id not in end:
            end[m.call_id] = t
    out = [Dialog(cid, frozenset(e), start[cid], end.get(cid, math.inf))
           for cid, e in eps.items() if e]
    return sorted(out, key=lambda d: d.start_s)


def _dialog_of(s: Stream, dialogs: Sequence[Dialog]) -> int | None:
    """The dialog whose SDP named one of the stream's endpoints and was the latest to begin
    before the stream did (the first such dialog when the stream began before any)."""
    eps = {(s.src, s.sport), (s.dst, s.dport)}
    mine = [k for k, d in enumerate(dialogs) if d.endpoints & eps]
    if not mine:
        return None
    before = [k for k in mine if dialogs[k].start_s <= s.stats.start_s + SDP_SLACK_S]
    return before[-1] if before else mine[0]


def _cadence_s(s: Stream) -> float:
    t = s.series.arrival_s
    return float(np.median(np.diff(t))) if t.size >= 3 else math.nan


def _size(s: Stream) -> float:
    z = s.series.size_bytes
    return float(np.median(z)) if z.size else math.nan


def _ratio(a: float, b: float) -> float:
    if not (a > 0 and b > 0):
        return math.inf
    return max(a, b) / min(a, b)


def _overlap_s(a: Stream, b: Stream) -> float:
    return min(a.stats.end_s, b.stats.end_s) - max(a.stats.start_s, b.stats.start_s)


def _family(s: Stream) -> str:
    return "rtp" if s.kind == KIND_RTP else "opaque"


class _Shape:
    """Each media stream's median cadence and datagram size, computed once."""

    def __init__(self) -> None:
        self._cad: dict[int, float] = {}
        self._size: dict[int, float] = {}

    def cadence_s(self, s: Stream) -> float:
        if s.index not in self._cad:
            self._cad[s.index] = _cadence_s(s)
        return self._cad[s.index]

    def size(self, s: Stream) -> float:
        if s.index not in self._size:
            self._size[s.index] = _size(s)
        return self._size[s.index]


def pair_directions(streams: list[Stream], dialogs: Sequence[Dialog]) -> list[Stream]:
    """Give every media stream without a reverse 5-tuple partner the stream of the other
    direction: the same two hosts the other way, the same SIP dialog (when known), most
    overlap in time and the closest cadence."""
    media = [s for s in streams if s.is_media]
    dlg = {s.index: _dialog_of(s, dialogs) for s in media}
    rev: dict[int, int] = {s.index: s.reverse for s in media if s.reverse is not None}
    taken = set(rev.values())
    shape = _Shape()
    lonely = sorted((s for s in media if s.index not in rev),
                    key=lambda s: -s.stats.packets)
    between: dict[tuple[str, str], list[Stream]] = {}  # media by (src, dst), in media order
    for t in media:
        between.setdefault((t.src, t.dst), []).append(t)
    for s in lonely:
        if s.index in rev:
            continue
        best, best_score = None, -math.inf
        for t in between.get((s.dst, s.src), ()):
            if t.index == s.index or t.src != s.dst or t.dst != s.src \
                    or _family(t) != _family(s) or t.index in taken:
                continue
            if dlg[s.index] is not None and dlg[t.index] is not None \
                    and dlg[s.index] != dlg[t.index]:
                continue
            shorter = max(min(s.stats.end_s - s.stats.start_s,
                              t.stats.end_s - t.stats.start_s), 1e-3)
            share = _overlap_s(s, t) / shorter
            ratio = _ratio(shape.cadence_s(s), shape.cadence_s(t))
            if share < MIN_PAIR_OVERLAP or ratio > MAX_CADENCE_RATIO:
                continue
            score = share - math.log(ratio)
            if score > best_score:
                best, best_score = t, score
        if best is not None:
            rev[s.index] = best.index
            if best.index not in rev:
                rev[best.index] = s.index
            taken.update((best.index, s.index))
    return [replace(s, reverse=rev[s.index]) if s.index in rev and s.reverse is None else s
            for s in streams]


def _is_relayed(s: Stream) -> bool:
    return s.transport.startswith("turn") or s.sport in RELAY_PORTS or s.dport in RELAY_PORTS


def _same_direction(a: Stream, b: Stream) -> bool:
    if a.ssrc is not None and a.ssrc == b.ssrc:
        return True
    same = (a.src == b.src) + (a.dst == b.dst) + (a.sport == b.sport) + (a.dport == b.dport)
    opp = (a.src == b.dst) + (a.dst == b.src) + (a.sport == b.dport) + (a.dport == b.sport)
    return same > opp


def _continues(a: Stream, b: Stream, shape: _Shape | None = None) -> str | None:
    """How ``b`` (a new 5-tuple) continues ``a`` after ``a`` stopped, or ``None``."""
    if a.flow == b.flow or _family(a) != _family(b):
        return None
    gap = b.stats.start_s - a.stats.end_s
    if not (-MAX_SWITCH_OVERLAP_S <= gap <= MAX_SWITCH_GAP_S) \
            or b.stats.end_s <= a.stats.end_s or b.stats.start_s <= a.stats.start_s:
        return None
    if a.ssrc is not None and a.ssrc == b.ssrc:
        return "ssrc"
    if a.kind == KIND_RTP and b.kind == KIND_RTP:
        return None  # RTP that moved keeps its SSRC; a new SSRC is new media
    if not _same_direction(a, b):
        return None
    sh = shape or _Shape()
    if _ratio(sh.cadence_s(a), sh.cadence_s(b)) <= MAX_CADENCE_RATIO \
            and _ratio(sh.size(a), sh.size(b)) <= MAX_SIZE_RATIO:
        return "cadence"
    return None


def _switch_kind(a: Stream, b: Stream) -> str:
    if (":" in a.src) != (":" in b.src):
        return SWITCH_IP_VERSION
    ra, rb = _is_relayed(a), _is_relayed(b)
    if ra and not rb:
        return SWITCH_RELAY_TO_P2P
    if rb and not ra:
        return SWITCH_P2P_TO_RELAY
    if {a.src, a.dst} != {b.src, b.dst}:
        return SWITCH_ADDRESS
    return SWITCH_PORT


def _both_directions_restart(a: Stream, b: Stream, media: Sequence[Stream]) -> bool:
    """``b`` follows ``a`` on the same flow with a new SSRC: a new call when the other
    direction restarted too, at the same moment (BYE, INVITE, new sources both ways)."""
    tol = MAX_SWITCH_OVERLAP_S

    def near(x: float, y: float) -> bool:
        return abs(x - y) <= tol

    back = [s for s in media if s.src == a.dst and s.dst == a.src and s.ssrc is not None]
    ended = any(near(s.stats.end_s, a.stats.end_s) for s in back)
    began = any(near(s.stats.start_s, b.stats.start_s) for s in back)
    return ended and began


class _Groups:
    """Union-find over stream indexes that refuses to join two SIP dialogs."""

    def __init__(self, items: Sequence[int], dialog: dict[int, int | None]) -> None:
        self.parent = {i: i for i in items}
        self.dialogs = {i: ({dialog[i]} if dialog[i] is not None else set()) for i in items}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        da, db = self.dialogs[ra], self.dialogs[rb]
        if da and db and da != db:
            return False
        lo, hi = min(ra, rb), max(ra, rb)
        self.parent[hi] = lo
        self.dialogs[lo] = da | db
        return True


def assemble_calls(streams: list[Stream], dialogs: Sequence[Dialog]) -> tuple[Call, ...]:
    """Group the media streams into calls (see the module docstring); calls are numbered
    by start; the caller sets ``Stream.call`` and the apps."""
    media = [s for s in streams if s.is_media]
    by_index = {s.index: s for s in media}
    dlg = {s.index: _dialog_of(s, dialogs) for s in media}
    g = _Groups([s.index for s in media], dlg)
    for s in media:
        if s.reverse is not None and s.reverse in by_index:
            g.union(s.index, s.reverse)
    order = sorted(media, key=lambda s: s.stats.start_s)
    starts = [s.stats.start_s for s in order]
    # Only streams that share an SSRC, a flow or an endpoint can join in this first pass:
    # each stream's candidates come from those indexes (not from every later stream, which
    # is quadratic in a capture of hundreds of concurrent calls), in the same order.
    related: dict[tuple[object, ...], list[int]] = {}
    for pos, s in enumerate(order):
        keys: set[tuple[object, ...]] = {("flow", s.flow)}
        if s.ssrc is not None:
            keys.add(("ssrc", s.ssrc))
        keys.update(("ep", h, p) for h, p in ((s.src, s.sport), (s.dst, s.dport))
                    if p not in SHARED_SERVER_PORTS)
        for k in keys:
            related.setdefault(k, []).append(pos)
    for i, a in enumerate(order):
        keys = {("flow", a.flow), ("ssrc", a.ssrc)} | \
            {("ep", h, p) for h, p in ((a.src, a.sport), (a.dst, a.dport))}
        cand = sorted({j for k in keys for j in related.get(k, ()) if j > i})
        for j in cand:
            b = order[j]
            if b.stats.start_s > a.stats.end_s + MAX_SWITCH_GAP_S:
                break
            if a.ssrc is not None and a.ssrc == b.ssrc:
                g.union(a.index, b.index)
                continue
            shared = ({(a.src, a.sport), (a.dst, a.dport)} &
                      {(b.src, b.sport), (b.dst, b.dport)})
            if any(p not in SHARED_SERVER_PORTS for _, p in shared) \
                    and _overlap_s(a, b) >= MIN_OVERLAP_S:
                g.union(a.index, b.index)
            elif a.flow == b.flow and a.ssrc is not None and b.ssrc is not None \
                    and not _both_directions_restart(a, b, media):
                g.union(a.index, b.index)  # one sender restarted (new SSRC): same call
    # a whole call that moved: its group ends, a new group with new 5-tuples goes on
    switches: list[PathSwitch] = []
    shape = _Shape()

    def successors(a: Stream) -> list[Stream]:
        """The streams that start where ``a`` could have moved to (the only ones
        :func:`_continues` can accept), in start order."""
        lo = bisect.bisect_left(starts, a.stats.end_s - MAX_SWITCH_OVERLAP_S - _EPS_S)
        hi = bisect.bisect_right(starts, a.stats.end_s + MAX_SWITCH_GAP_S + _EPS_S)
        return order[lo:hi]

    for a in order:
        best: tuple[Stream, str] | None = None
        for b in successors(a):
            if g.find(a.index) == g.find(b.index):
                continue
            how = _continues(a, b, shape)
            if how and (best is None or b.stats.start_s < best[0].stats.start_s):
                best = (b, how)
        if best is None:
            continue
        b, how = best
        ga, gb = g.find(a.index), g.find(b.index)
        members_a = [s for s in media if g.find(s.index) == ga]
        if ga != gb:
            if how == "cadence" and max(s.stats.end_s for s in members_a) \
                    > b.stats.start_s + MAX_SWITCH_OVERLAP_S:
                continue  # the old path's call goes on: parallel media, not a move
            if any(s.flow == b.flow for s in members_a):
                continue  # the same 5-tuple again: a new call, not a new path
            if not g.union(a.index, b.index):
                continue
    # record every switch inside the final calls
    for a in order:
        nxt = successors(a)
        for b in nxt:
            if g.find(a.index) != g.find(b.index):
                continue
            how = _continues(a, b, shape)
            if how:
                later = [c for c in nxt if c is not b and g.find(c.index) == g.find(a.index)
                         and _continues(a, c, shape) and c.stats.start_s < b.stats.start_s]
                if later:
                    continue  # a moved to the earliest successor only
                switches.append(PathSwitch(
                    at_s=b.stats.start_s, gap_s=max(0.0, b.stats.start_s - a.stats.end_s),
                    from_stream=a.index, to_stream=b.index, kind=_switch_kind(a, b),
                    matched_by=how))
    groups: dict[int, list[int]] = {}
    for s in media:
        groups.setdefault(g.find(s.index), []).append(s.index)
    calls: list[Call] = []
    for idx in sorted(groups.values(), key=lambda v: min(by_index[i].stats.start_s for i in v)):
        members = set(idx)
        ids = sorted({dialogs[d].call_id for i in idx if (d := dlg[i]) is not None})
        calls.append(Call(
            index=len(calls), streams=tuple(idx), app=None,
            start_s=min(by_index[i].stats.start_s for i in idx),
            end_s=max(by_index[i].stats.end_s for i in idx),
            path_switches=tuple(sorted((p for p in switches if p.from_stream in members),
                                       key=lambda p: (p.at_s, p.from_stream))),
            sip_call_ids=tuple(ids)))
    return tuple(calls)
