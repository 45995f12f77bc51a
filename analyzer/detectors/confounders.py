"""Confounders: what looks like degradation but is not throttling (../shared/DOMAIN.md §4).

Reported as such, and the slots and windows they cover are left out of the tests:

* ``handover``: both directions pause together (a gap of at least ``min_gap_s`` in each,
  overlapping within ``tolerance_s``) and/or the media moves to a new port or address in
  the same direction (a stream ends and another in the same direction starts within
  ``max_switch_s``) - a Wi-Fi to mobile switch. At most ``max_events`` such events per
  call: pauses that recur are a pattern (periodic drops), not a handover;
* ``outage``: a pause in both directions during which no flow of the capture carried a
  single packet (every flow silent, not just the call; a regional shutdown);
* ``dtx``: the sender was silent (silence suppression, comfort noise) - lower packet rate,
  no loss; never a mask for loss (silence is not expected), but bit-rate tests skip it;
* ``codec_change``: the packet time changed mid-call (e.g. 20 -> 60 ms): the packet rate
  and bit rate drop with no loss;
* ``renegotiation``: a pause of one stream that starts or ends within ``reinvite_slack_s``
  of a SIP re-INVITE (an INVITE of a dialog already seen: hold, T.38 fax switch, codec
  change) - the media was renegotiated, and sequence numbers may jump across the pause;
* ``hangup``: the call's media ended together - a SIP BYE came at the end, or every
  stream of both directions stopped within ``hangup_tolerance_s`` (0.5 s) and the capture
  went on (an RTCP BYE, other flows). Not a mask (nothing is expected after it); reported
  so that a stop is read as the end of the call;
* ``dtmf`` (found by :func:`~analyzer.detectors.callfeatures.call_features`): a stream of
  RFC 4733 telephone events, left out of the tests (:mod:`analyzer.detectors.nonspeech`).

A media stream that moves to a new 5-tuple with the same RTP SSRC (IPv6 -> IPv4, a relay
switch) stays in the same direction even when both addresses changed: a ``handover``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.detectors.result import jsonable

if TYPE_CHECKING:
    from analyzer.detectors.features import StreamFeatures
    from analyzer.streams.model import Stream


@dataclass(frozen=True)
class Confounder:
    """One confounding event of a call."""

    kind: str  # "handover", "outage", "dtx", "codec_change", "renegotiation", "dtmf", "hangup"
    start_s: float
    end_s: float | None
    streams: tuple[int, ...]
    description: str
    #: How long the call was silenced in all (handover, outage; ``None``: not a pause).
    paused_s: float | None = None
    events: int = 1  # pauses merged into this one (a handover that recurs)

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"kind": self.kind, "start_s": self.start_s, "end_s": self.end_s,
                         "streams": list(self.streams), "description": self.description,
                         "paused_s": self.paused_s, "events": self.events})


def _gaps(f: StreamFeatures, min_gap_s: float) -> list[tuple[float, float]]:
    t = np.sort(f.arrival_s)
    if t.size < 2:
        return []
    frame = f.frame_interval_s if np.isfinite(f.frame_interval_s) else 0.02
    limit = max(min_gap_s, 5 * frame)
    d = np.diff(t)
    out = []
    for k in np.flatnonzero(d > limit):
        a, b = float(t[k]), float(t[k + 1])
        silent = sum(max(0.0, min(b, y) - max(a, x)) for x, y in f.silence)
        if silent < 0.5 * (b - a):
            out.append((a, b))
    return out


def _same_direction(a: StreamFeatures, b: StreamFeatures) -> bool:
    if a.ssrc is not None and a.ssrc == b.ssrc:  # one source on a new path (IPv6 -> IPv4)
        return True
    same = a.src == b.src or a.dst == b.dst
    opp = a.src == b.dst or a.dst == b.src
    if same and opp:  # same two hosts: decide by the well-known (relay) port
        return (a.sport == b.sport) or (a.dport == b.dport)
    return same


class ConfounderFinder:
    """Finds handovers, outages, DTX and codec changes in one call."""

    def __init__(self, *, min_gap_s: float = 0.3, tolerance_s: float = 0.2,
                 max_switch_s: float = 5.0, max_events: int = 2,
                 reinvite_slack_s: float = 2.0, hangup_tolerance_s: float = 0.5) -> None:
        self.min_gap_s = min_gap_s
        self.reinvite_slack_s = reinvite_slack_s
        self.tolerance_s = tolerance_s
        self.max_switch_s = max_switch_s
        self.max_events = max_events
        self.hangup_tolerance_s = hangup_tolerance_s

    def find(self, feats: Sequence[StreamFeatures], all_streams: Sequence[Stream] = (),
             reinvites_s: Sequence[float] = (), *, bye_s: float | None = None
             ) -> tuple[list[Confounder], dict[int, list[tuple[float, float]]]]:
        """Confounders of a call and, per stream index, the intervals to leave out
        (``reinvites_s``: times of SIP re-INVITEs, ``bye_s``: the SIP BYE ending the
        call, seconds from the capture start)."""
        events = self._pauses(feats) + self._switches(feats)
        events.sort(key=lambda e: e[0])
        merged: list[list[Any]] = []
        for a, b, idx, how in events:
            if merged and a <= merged[-1][1] + self.tolerance_s:
                m = merged[-1]
                if a >= m[1]:  # a further pause, not an overlap: count it
                    m[4] += 1
                    m[5] += b - a
                elif b > m[1]:
                    m[5] += b - m[1]
                m[1] = max(m[1], b)
                m[2] |= set(idx)
                m[3] |= {how}
            else:
                merged.append([a, b, set(idx), {how}, 1, b - a])
        out: list[Confounder] = []
        masks: dict[int, list[tuple[float, float]]] = {}
        if 0 < len(merged) <= self.max_events:
            for a, b, idx, how, count, paused in merged:
                silent_all = self._all_silent(all_streams, a + self.tolerance_s,
                                              b - self.tolerance_s)
                if "switch" in how:
                    kind, text = "handover", "media moved to a new port/address"
                elif silent_all:
                    kind, text = "outage", "every flow of the capture was silent"
                else:
                    kind, text = "handover", "both directions paused together"
                when = (f"for {b - a:.2f} s at {a:.2f} s" if count == 1 else
                        f"{count} times from {a:.2f} s to {b:.2f} s ({paused:.2f} s in all)")
                out.append(Confounder(kind, a, b, tuple(sorted(idx)), f"{text} {when}",
                                      paused_s=float(paused), events=int(count)))
                for f in feats:
                    if f.stream is not None:
                        masks.setdefault(f.stream, []).append((a - 0.1, b + 0.1))
        for f in feats:
            if f.stream is None:
                continue
            for a, b in _gaps(f, 1.0):
                near = [t for t in reinvites_s if a - self.reinvite_slack_s <= t
                        <= b + self.reinvite_slack_s]
                if near:
                    out.append(Confounder("renegotiation", a, b, (f.stream,),
                                          f"pause of {b - a:.1f} s at {a:.1f} s next to a SIP "
                                          f"re-INVITE at {near[0]:.1f} s"))
                    masks.setdefault(f.stream, []).append((a - 0.1, b + 0.1))
            silent = sum(b - a for a, b in f.silence)
            if silent >= 1.0:
                out.append(Confounder("dtx", f.silence[0][0], f.silence[-1][1], (f.stream,),
                                      f"sender silent (DTX) {silent:.1f} s in "
                                      f"{len(f.silence)} periods"))
            segs = f.frame_segments
            for (s0, c0), (s1, c1) in itertools.pairwise(segs):
                out.append(Confounder("codec_change", s1, None, (f.stream,),
                                      f"packet time {c0 * 1000:.0f} -> {c1 * 1000:.0f} ms "
                                      f"at {s1:.2f} s"))
                del s0
        hangup = self._hangup(feats, all_streams, bye_s)
        if hangup is not None:
            out.append(hangup)
        return out, masks

    def _hangup(self, feats: Sequence[StreamFeatures], all_streams: Sequence[Stream],
                bye_s: float | None) -> Confounder | None:
        """The call's media ended together: a SIP BYE came within ``reinvite_slack_s`` of
        the end, or every stream of both directions stopped within
        ``hangup_tolerance_s`` of the last one while the capture went on (an RTCP packet
        on the call's addresses right after - an RTCP BYE - or any flow a second later;
        media that simply stops with the capture says nothing)."""
        media = [f for f in feats if f.stream is not None and f.packets]
        if not media:
            return None
        ends = [f.end_s for f in media]
        lo, hi = min(ends), max(ends)
        two_way = any(not _same_direction(a, b) for a, b in itertools.combinations(media, 2))
        bye = bye_s is not None and abs(bye_s - hi) <= self.reinvite_slack_s
        together = two_way and hi - lo <= self.hangup_tolerance_s
        went_on = rtcp_after = False
        pairs = {frozenset((f.src, f.dst)) for f in media}
        for st in all_streams:
            t = st.series.arrival_s
            if t.size == 0 or float(t[-1]) <= hi:
                continue
            went_on |= float(t[-1]) > hi + 1.0
            kind, src, dst = (getattr(st, k, None) for k in ("kind", "src", "dst"))
            rtcp_after |= kind == "rtcp" and frozenset((src, dst)) in pairs and bool(
                np.any((t > hi - self.hangup_tolerance_s) & (t <= hi + self.reinvite_slack_s)))
        if not bye and not (together and (went_on or rtcp_after)):
            return None
        how = (f"SIP BYE at {bye_s:.2f} s" if bye and bye_s is not None else
               f"every stream of both directions stopped within {hi - lo:.2f} s" + (
                   ", then an RTCP packet (BYE)" if rtcp_after else ""))
        return Confounder("hangup", lo, hi, tuple(sorted(f.stream for f in media
                                                         if f.stream is not None)),
                          f"the call ended at {hi:.2f} s ({how}): a hang-up, not a cut-off")

    def _pauses(self, feats: Sequence[StreamFeatures]) -> list[tuple]:
        gaps = {i: _gaps(f, self.min_gap_s) for i, f in enumerate(feats)}
        out = []
        for i, fi in enumerate(feats):
            for j in range(i + 1, len(feats)):
                if _same_direction(fi, feats[j]):
                    continue
                for a, b in gaps[i]:
                    for c, d in gaps[j]:
                        # both directions silent at the same time: the gaps' intersection
                        lo, hi = max(a, c), min(b, d)
                        if hi - lo >= self.min_gap_s / 2:
                            out.append((lo, hi, {fi.stream, feats[j].stream} - {None},
                                        "pause"))
        return out

    def _switches(self, feats: Sequence[StreamFeatures]) -> list[tuple]:
        out = []
        for fa in feats:
            for fb in feats:
                if fa is fb or not _same_direction(fa, fb):
                    continue
                if fa.end_s - 0.5 <= fb.start_s <= fa.end_s + self.max_switch_s \
                        and fb.end_s > fa.end_s + 1.0 and fa.start_s < fb.start_s:
                    out.append((fa.end_s, max(fb.start_s, fa.end_s),
                                {fa.stream, fb.stream} - {None}, "switch"))
        return out

    @staticmethod
    def _all_silent(streams: Sequence[Stream], a: float, b: float) -> bool:
        """No packet of any flow inside ``(a, b)``, with flows active on both sides."""
        if not streams or b <= a:
            return False
        before = after = False
        for s in streams:
            t = s.series.arrival_s
            if t.size == 0:
                continue
            k = int(np.searchsorted(t, a, side="right"))
            if k < t.size and t[k] < b:
                return False
            before |= k > 0
            after |= k < t.size
        return before and after
