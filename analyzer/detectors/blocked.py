"""Blocked setup: the call never got media - requests on a schedule that nothing answers.

The signature of a blocked call (../shared/DOMAIN.md §1, §5): STUN binding requests, or
Telegram's 40-byte reflector hellos (16-byte peer tag), repeated every 0.5 s or so to a
relay that never answers, often with ICMP port-unreachable coming back.

Per destination (address and port): the requests sent there (``Stream.kind == "stun"``:
``extra["stun_requests"]``; ``"telegram"``: ``extra["telegram_hellos"]``), the answers
on the reverse flow (STUN responses; any Telegram datagram) and the ICMP errors quoting
the flow (``Capture.icmp``). With the framing hidden (opaque encrypted flows), a request
is a datagram of a one-way flow to a unicast address, small (<= 200 B), all of one size,
resent at a steady interval (0.1-5 s, coefficient of variation <= 0.3); a flow with any
traffic back is not one. A destination is *unanswered* with at least ``min_requests``
requests over at least ``min_span_s``, no answer, and no media of ``min_media_packets``
between the same two hosts in either direction (media flowing there means the setup was
not blocked, whatever a request saw). The capture's setup is blocked when some
destination is unanswered, **no** destination answered and no two-way media was
established (a media stream of ``min_media_packets`` whose reverse carries media too):
ICE probing candidate pairs that fail while another pair answers or carries the call is
normal, not blocking (e.g. a TURN-over-443 candidate failing beside a working 3478).

p-value: under the null "the destination is reachable and each request or its answer is
lost independently with probability at most ``null_loss`` (0.5)", ``k`` unanswered
requests have probability at most ``null_loss ** k``. The schedule (median interval,
coefficient of variation) is reported as evidence of automatic retries.

The only capture-level detector (``kind = "capture"``): its features are the capture's
streams and ICMP errors (:class:`SetupTraffic`, which a ``Capture`` is), not one stream's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from analyzer.detectors.base import DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import BlockedEstimate, SetupTarget
from analyzer.detectors.result import Detection, Estimate

if TYPE_CHECKING:
    from analyzer.streams.model import Stream


class SetupTraffic(Protocol):
    """What the blocked-setup detector reads: every stream of a capture and the ICMP
    errors quoting its flows (an :class:`analyzer.api.Capture` is one)."""

    @property
    def streams(self) -> Sequence[Stream]: ...

    @property
    def icmp(self) -> Sequence[Any]: ...


def addr_str(addr16: bytes) -> str:
    """A 16-byte address (IPv4 mapped as ::ffff:a.b.c.d) as text."""
    a = ipaddress.IPv6Address(bytes(addr16))
    return str(a.ipv4_mapped) if a.ipv4_mapped is not None else str(a)


#: Opaque requests: datagrams of at most this size, one size, resent at a steady
#: interval (coefficient of variation at most ``RETRY_MAX_CV``) in this range.
RETRY_MAX_BYTES = 200
RETRY_INTERVAL_S = (0.1, 5.0)
RETRY_MAX_CV = 0.3


def _unicast(addr: str) -> bool:
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    if a.is_multicast or a.is_unspecified:
        return False
    return not (a.version == 4 and str(a).endswith(".255"))


def _retries(s: Stream) -> int:
    """Datagrams of an opaque one-way flow that look like a setup request resent on a
    schedule (a STUN binding request or a reflector hello whose framing is hidden): small,
    all of one size, to a unicast address, at a steady interval."""
    t = s.series.arrival_s
    if t.size < 3 or not _unicast(s.dst):
        return 0
    size = s.series.size_bytes
    if int(size.max()) > RETRY_MAX_BYTES or int(size.min()) != int(size.max()):
        return 0
    iv = np.diff(np.sort(t))
    m = float(iv.mean())
    lo, hi = RETRY_INTERVAL_S
    if not lo <= m <= hi or float(iv.std()) > RETRY_MAX_CV * m:
        return 0
    return int(t.size)


def _requests(s: Stream) -> int:
    if s.kind == "stun":
        return int(s.extra.get("stun_requests", 0))
    if s.kind == "telegram":
        return int(s.extra.get("telegram_hellos", 0))
    if s.kind in ("opaque", "other"):
        return _retries(s)
    return 0


def _answers(s: Stream) -> int:
    if s.kind == "stun":
        return int(s.extra.get("stun_responses", 0))
    return int(s.series.arrival_s.size) if s.kind in ("telegram", "opaque", "rtp") else 0


@dataclass(frozen=True, kw_only=True)
class BlockedSetupDetector(DetectorSettings):
    """Unanswered setup requests and no media (``pattern`` ``blocked_setup``).

    Features: the whole capture (:class:`SetupTraffic`); uses no context."""

    name: ClassVar[str] = "blocked_setup"
    estimate_type: ClassVar[type[Estimate]] = BlockedEstimate
    kind: ClassVar[str] = "capture"

    min_requests: int = 3
    min_span_s: float = 1.0
    min_media_packets: int = 50
    null_loss: float = 0.5

    def media_established(self, streams: Sequence[Stream]) -> bool:
        by_index = {s.index: s for s in streams}
        for s in streams:
            if not s.is_media or s.series.arrival_s.size < self.min_media_packets:
                continue
            r = by_index.get(s.reverse) if s.reverse is not None else None
            if r is not None and r.is_media and r.series.arrival_s.size >= 10:
                return True
        return False

    def detect(self, traffic: SetupTraffic, context: DetectionContext) -> Detection:
        streams, icmp = traffic.streams, traffic.icmp
        by_flow: dict[tuple[str, int, str, int], list[Stream]] = {}
        for s in streams:
            by_flow.setdefault((s.src, s.sport, s.dst, s.dport), []).append(s)
        icmp_by_flow: dict[tuple[str, int, str, int], int] = {}
        for e in icmp:
            key = (addr_str(e.src), int(e.sport), addr_str(e.dst), int(e.dport))
            icmp_by_flow[key] = icmp_by_flow.get(key, 0) + 1
        targets: list[SetupTarget] = []
        for key, group in by_flow.items():
            req = [s for s in group if _requests(s) > 0]
            if not req:
                continue
            back = by_flow.get((key[2], key[3], key[0], key[1]), [])
            if any(r.kind not in ("stun", "telegram") for r in req) and back:
                continue  # an opaque flow with traffic back: not unanswered requests
            n_req = sum(_requests(s) for s in req)
            back = by_flow.get((key[2], key[3], key[0], key[1]), [])
            n_ans = sum(_answers(s) for s in back)
            times = np.sort(np.concatenate([s.series.arrival_s for s in req]))
            span = float(times[-1] - times[0]) if times.size else 0.0
            iv = np.diff(times)
            targets.append(SetupTarget(
                src=key[0], sport=key[1], dst=key[2], dport=key[3],
                kind=req[0].kind, requests=n_req, answers=n_ans,
                first_s=float(times[0]), last_s=float(times[-1]), span_s=span,
                interval_s=float(np.median(iv)) if iv.size else None,
                interval_cv=float(iv.std() / iv.mean()) if iv.size > 1 and iv.mean() > 0
                else None,
                icmp_unreachable=icmp_by_flow.get(key, 0)))
        media_pairs = {frozenset((s.src, s.dst)) for s in streams
                       if s.is_media and s.series.arrival_s.size >= self.min_media_packets}
        unanswered = [t for t in targets if t.answers == 0
                      and t.requests >= self.min_requests and t.span_s >= self.min_span_s
                      and frozenset((t.src, t.dst)) not in media_pairs]
        established = self.media_established(streams)
        estimate = BlockedEstimate(
            targets=tuple(targets), media_established=established,
            unanswered_targets=len(unanswered),
            answered_targets=sum(1 for t in targets if t.answers > 0))
        if not unanswered:
            return Detection(self.name, False, score=0.0, thresholds=self.thresholds(),
                             estimate=estimate)
        k = max(t.requests for t in unanswered)
        p = max(self.null_loss ** k, 1e-16)
        ev = tuple((t.first_s, t.last_s) for t in unanswered)
        answered = estimate.answered_targets
        detected = not established and answered == 0
        notes: tuple[str, ...] = ()
        if established:
            notes = ("unanswered requests, but two-way media was established on another "
                     "path",)
        elif answered:
            notes = (f"unanswered requests, but {answered} other destination(s) answered: "
                     "the setup was not blocked outright (rejected or ended call?)",)
        return Detection(self.name, detected, statistic=float(k), pvalue=p, score=float(k),
                         effect=float(sum(t.requests for t in unanswered)),
                         evidence=ev, thresholds=self.thresholds(),
                         estimate=replace(estimate, effect_unit="unanswered requests"),
                         notes=notes)
