"""What each endpoint of a simulated call sends, before the network touches it.

A :class:`SendPlan` holds one direction's packets in send order - RTP media and comfort
noise (:func:`stream_plan`), setup and keep-alive messages (:func:`caller_controls`,
:func:`control_plan`) - with their payload bytes and clean-path transit times.
:func:`draw_identity` draws the call's ports, SSRCs and initial sequence numbers.

Random numbers come from ``np.random.default_rng([seed, purpose, ...])`` streams, one per
purpose, so e.g. the clean jitter of the media does not change when an impairment is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.protocol import (
    NS_PER_S,
    SIP_PORT,
    STUN_PORT,
    TELEGRAM_REFLECTOR_PORT,
    TELEGRAM_TAG_LEN,
)
from analyzer.simulate.impairments import BlockedSetup, CodecChange, Dtx
from analyzer.simulate.packing import exclusive_cumsum, pack_bytes
from analyzer.simulate.pcapwriter import ipv4_to_int
from analyzer.simulate.rtp import pack_rtp_headers, prefix_payloads
from analyzer.simulate.signalling import (
    sdp_offer,
    sip_dialog,
    stun_binding_request,
    stun_binding_success,
    telegram_hello,
)
from analyzer.simulate.spec import CallSpec
from analyzer.simulate.truth import PacketKind

#: Telegram's encrypted media: peer tag + this many bytes more than the codec frame.
TELEGRAM_MEDIA_OVERHEAD = 16
#: WhatsApp-like custom STUN attribute type (the 0x4000 range) carried by binding requests.
WHATSAPP_STUN_ATTRIBUTE = 0x4000
STUN_REPLY_DELAY_NS = 1_000_000
SIP_REPLY_DELAY_NS = 100_000_000
ICMP_REPLY_DELAY_NS = 300_000
SETUP_REQUEST_TIMES_S = (0.0, 0.05, 0.1)

PURPOSE_IDS = 0
PURPOSE_MEDIA = 1
PURPOSE_TRANSIT = 2
PURPOSE_CONTROL = 3
PURPOSE_IMPAIRMENT = 4
PURPOSE_OPAQUE = 5


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def to_ns(seconds: float) -> int:
    return round(seconds * NS_PER_S)


@dataclass(frozen=True, eq=False)
class SendPlan:
    """What one endpoint sends in one direction, in send order."""

    kind: np.ndarray
    send_ns: np.ndarray
    transit_ns: np.ndarray
    seq: np.ndarray
    rtp_ts: np.ndarray
    marker: np.ndarray
    payload_buf: np.ndarray
    payload_off: np.ndarray
    payload_len: np.ndarray
    #: caller: index of the reply a packet asks for; callee: index of the caller packet a
    #: reply answers; -1 for none
    link: np.ndarray

    @staticmethod
    def merge(parts: Sequence[SendPlan]) -> SendPlan:
        shift = np.cumsum([0] + [p.payload_buf.size for p in parts[:-1]])
        cat = {name: np.concatenate([getattr(p, name) for p in parts]) for name in (
            "kind", "send_ns", "transit_ns", "seq", "rtp_ts", "marker", "payload_len",
            "link")}
        off = np.concatenate([p.payload_off + s for p, s in zip(parts, shift, strict=True)])
        order = np.argsort(cat["send_ns"], kind="stable")
        return SendPlan(
            **{k: v[order] for k, v in cat.items()},
            payload_buf=np.concatenate([p.payload_buf for p in parts]),
            payload_off=off[order],
        )


def control_plan(entries: list[tuple[int, PacketKind, bytes, int]], spec: CallSpec,
                 rng: np.random.Generator) -> SendPlan:
    """A plan of control messages ``(send_ns, kind, payload, link)``."""
    n = len(entries)
    buf, lengths = pack_bytes([e[2] for e in entries])
    return SendPlan(
        kind=np.array([e[1] for e in entries], dtype=np.uint8),
        send_ns=np.array([e[0] for e in entries], dtype=np.int64),
        transit_ns=clean_transit(spec, rng, n),
        seq=np.full(n, -1, dtype=np.int64),
        rtp_ts=np.full(n, -1, dtype=np.int64),
        marker=np.zeros(n, dtype=bool),
        payload_buf=buf,
        payload_off=exclusive_cumsum(lengths),
        payload_len=lengths,
        link=np.array([e[3] for e in entries], dtype=np.int64),
    )


@dataclass(frozen=True)
class Identity:
    """Addresses and stream identifiers drawn once per call.

    ``caller_port`` / ``remote_port`` are where each side receives (what an SDP names);
    the ``*_send_port`` fields where it sends from: the same port unless the spec asks for
    asymmetric ports. ``new_caller_*`` are the caller's ports after a handover.
    """

    caller_ip: int
    remote_ip: int
    caller_port: int
    remote_port: int
    new_caller_port: int
    caller_send_port: int
    remote_send_port: int
    new_caller_send_port: int
    ssrc: tuple[int, int]
    seq0: tuple[int, int]
    ts0: tuple[int, int]
    peer_tag: bytes
    callee_offset_ns: int


def draw_identity(spec: CallSpec, seed: int) -> Identity:
    """Ports, SSRCs, initial sequence numbers / timestamps and the Telegram peer tag."""
    rng = rng_for(seed, PURPOSE_IDS)
    ports = 2 * rng.integers(16384, 32768, 3)
    ssrc = rng.choice(2**32, 2, replace=False)
    seq0 = rng.integers(0, 65536, 2)
    ts0 = rng.integers(0, 2**32, 2)
    peer_tag = rng.bytes(TELEGRAM_TAG_LEN)
    offset_us = int(rng.integers(0, spec.frame_interval_ms * 1000))
    remote_default = {"whatsapp": STUN_PORT, "telegram": TELEGRAM_REFLECTOR_PORT}
    caller_port = spec.caller_port or int(ports[0])
    new_port = int(ports[2])
    if new_port == caller_port:
        new_port += 2 if new_port < 60000 else -2
    if spec.initial_seq is not None:
        seq0 = np.array([spec.initial_seq, spec.initial_seq])
    remote_port = spec.callee_port or remote_default.get(spec.framing, int(ports[1]))
    send_ports = (caller_port, remote_port, new_port)
    if spec.asymmetric_ports:
        # a stream of its own, so that symmetric calls draw exactly what they did before
        taken = {caller_port, remote_port, new_port}
        drawn = []
        for p in (2 * rng_for(seed, PURPOSE_IDS, 1).integers(16384, 32768, 6)).tolist():
            if p not in taken:
                taken.add(p)
                drawn.append(int(p))
        send_ports = (drawn[0], drawn[1], drawn[2])
    return Identity(
        caller_ip=ipv4_to_int(spec.caller_ip),
        remote_ip=ipv4_to_int(spec.remote_ip),
        caller_port=caller_port,
        remote_port=remote_port,
        new_caller_port=new_port,
        caller_send_port=send_ports[0],
        remote_send_port=send_ports[1],
        new_caller_send_port=send_ports[2],
        ssrc=(int(ssrc[0]), int(ssrc[1])),
        seq0=(int(seq0[0]), int(seq0[1])),
        ts0=(int(ts0[0]), int(ts0[1])),
        peer_tag=peer_tag,
        callee_offset_ns=offset_us * 1000,
    )


def frame_times(spec: CallSpec, start_ns: int, end_ns: int, changes: Sequence[CodecChange]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Send times of codec frames and each frame's length (ns), honouring codec changes."""
    times, lengths = [], []
    t, step = start_ns, spec.frame_interval_ms * 1_000_000
    for change in sorted(changes, key=lambda c: c.at_s):
        at = to_ns(change.at_s)
        if at > t:
            n = -(-(min(at, end_ns) - t) // step)
            times.append(t + np.arange(n, dtype=np.int64) * step)
            lengths.append(np.full(n, step, dtype=np.int64))
            t += n * step
        step = change.new_frame_interval_ms * 1_000_000
    n = max(0, -(-(end_ns - t) // step))
    times.append(t + np.arange(n, dtype=np.int64) * step)
    lengths.append(np.full(n, step, dtype=np.int64))
    return np.concatenate(times), np.concatenate(lengths)


def stream_plan(spec: CallSpec, ident: Identity, d: int, start_ns: int, end_ns: int,
                dtx: Dtx | None, changes: Sequence[CodecChange], seed: int) -> SendPlan:
    """Media (and comfort-noise) packets of direction ``d``."""
    rng = rng_for(seed, PURPOSE_MEDIA, d)
    times, frame_ns = frame_times(spec, start_ns, end_ns, changes)
    kind = np.full(times.size, PacketKind.MEDIA, dtype=np.uint8)
    marker = np.zeros(times.size, dtype=bool)
    if times.size:
        marker[0] = True
    if dtx is not None and dtx.silence_windows:
        begins = np.array([to_ns(a) for a, _ in dtx.silence_windows], dtype=np.int64)
        ends = np.array([to_ns(b) for _, b in dtx.silence_windows], dtype=np.int64)
        w = np.searchsorted(begins, times, side="right") - 1
        silent = (w >= 0) & (times < ends[np.maximum(w, 0)])
        after = np.searchsorted(times, ends, side="left")
        marker[after[after < times.size]] = True
        keep = ~silent
        times, frame_ns, marker, kind = times[keep], frame_ns[keep], marker[keep], kind[keep]
        if dtx.comfort_noise_interval_s is not None:
            step = to_ns(dtx.comfort_noise_interval_s)
            cn = np.concatenate([np.arange(max(a, start_ns), min(b, end_ns), step)
                                 for a, b in zip(begins, ends, strict=True)])
            cn = cn.astype(np.int64)
            times = np.concatenate([times, cn])
            frame_ns = np.concatenate([frame_ns, np.zeros(cn.size, dtype=np.int64)])
            marker = np.concatenate([marker, np.zeros(cn.size, dtype=bool)])
            kind = np.concatenate([kind, np.full(cn.size, PacketKind.COMFORT_NOISE, np.uint8)])
            order = np.argsort(times, kind="stable")
            times, frame_ns, marker, kind = times[order], frame_ns[order], marker[order], kind[
                order]
    n = times.size
    seq = ident.seq0[d] + np.arange(n, dtype=np.int64)
    rtp_ts = ident.ts0[d] + (times - start_ns) * spec.clock_rate_hz // NS_PER_S
    codec = np.empty(n, dtype=np.int64)
    for step in np.unique(frame_ns):
        rows = frame_ns == step
        if step == 0:
            codec[rows] = dtx.comfort_noise_bytes if dtx is not None else 1
            continue
        lo, hi = spec.frame_bytes(int(step) // 1_000_000)
        codec[rows] = rng.integers(lo, hi + 1, int(rows.sum()))
    if spec.framing == "telegram":
        prefix = np.broadcast_to(np.frombuffer(ident.peer_tag, np.uint8), (n, 16))
        body_len = codec + TELEGRAM_MEDIA_OVERHEAD
    else:
        extension = None
        if spec.framing == "whatsapp":
            extension = np.zeros((n, 4), dtype=np.uint8)
            extension[:, 0] = 0x10  # one-byte element: id 1 (audio level), one data byte
            level = rng.integers(20, 70, n)
            extension[:, 1] = np.where(kind == PacketKind.COMFORT_NOISE, 127, 0x80 | level)
        prefix = pack_rtp_headers(seq, rtp_ts, ident.ssrc[d], spec.effective_payload_type,
                                  marker, extension=extension)
        body_len = codec
    body = np.frombuffer(rng.bytes(int(body_len.sum())), dtype=np.uint8)
    buf, off, lengths = prefix_payloads(prefix, body, exclusive_cumsum(body_len), body_len)
    transit = clean_transit(spec, rng_for(seed, PURPOSE_TRANSIT, d, 0), n)
    return SendPlan(kind, times, transit, seq, rtp_ts, marker, buf, off, lengths,
                    np.full(n, -1, dtype=np.int64))


def clean_transit(spec: CallSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    """One-way transit of ``n`` packets on the clean path: base delay + N(0, jitter), >= 0."""
    jitter = rng.normal(0.0, spec.jitter_std_ms * 1e6, n)
    return np.rint(np.maximum(0.0, spec.one_way_delay_ms * 1e6 + jitter)).astype(np.int64)


@dataclass(frozen=True)
class Reply:
    """What the other side sends back when a caller's request reaches it."""

    kind: PacketKind
    payload: bytes | None  # None: an ICMP port-unreachable quoting the request
    delay_ns: int


def caller_controls(spec: CallSpec, ident: Identity, blocked: BlockedSetup | None,
                    media_end_ns: int, seed: int
                    ) -> tuple[list[tuple[int, PacketKind, bytes, int]], list[Reply]]:
    """Setup / keep-alive messages of the caller, and what the other side would answer."""
    rng = rng_for(seed, PURPOSE_CONTROL, 0)
    entries: list[tuple[int, PacketKind, bytes, int]] = []
    replies: list[Reply] = []
    telegram = spec.framing == "telegram"

    def request(t_ns: int, reply_kind: PacketKind | None) -> None:
        if telegram:
            kind = PacketKind.REFLECTOR_HELLO
            payload = telegram_hello(ident.peer_tag, int(rng.integers(0, 2**63)))
            answer = telegram_hello(ident.peer_tag, int(rng.integers(0, 2**63)))
        else:
            txid = rng.bytes(12)
            whatsapp = spec.framing == "whatsapp"
            attrs = ((WHATSAPP_STUN_ATTRIBUTE, rng.bytes(8)),) if whatsapp else ()
            kind = PacketKind.STUN_REQUEST
            payload = stun_binding_request(txid, attrs)
            answer = stun_binding_success(txid, spec.caller_ip, ident.caller_port)
        if reply_kind == PacketKind.ICMP_UNREACHABLE:
            replies.append(Reply(reply_kind, None, ICMP_REPLY_DELAY_NS))
        elif reply_kind is not None:
            replies.append(Reply(reply_kind, answer, STUN_REPLY_DELAY_NS))
        entries.append((t_ns, kind, payload, -1 if reply_kind is None else len(replies) - 1))

    if blocked is not None:
        step = to_ns(blocked.request_interval_s)
        icmp = PacketKind.ICMP_UNREACHABLE if blocked.icmp_unreachable else None
        for t in range(0, media_end_ns, step):
            request(t, icmp)
        return entries, replies
    if spec.framing == "rtp_sdp":
        sdp_a = sdp_offer(spec.caller_ip, ident.caller_port, spec.effective_payload_type,
                          spec.clock_rate_hz, spec.frame_interval_ms, int(rng.integers(1, 2**31)))
        sdp_b = sdp_offer(spec.remote_ip, ident.remote_port, spec.effective_payload_type,
                          spec.clock_rate_hz, spec.frame_interval_ms, int(rng.integers(1, 2**31)))
        invite, ok, ack = sip_dialog(
            (spec.caller_ip, SIP_PORT), (spec.remote_ip, SIP_PORT), sdp_a, sdp_b,
            call_id=f"{rng.bytes(8).hex()}@{spec.caller_ip}", tag_caller=rng.bytes(4).hex(),
            tag_callee=rng.bytes(4).hex(), branch=rng.bytes(6).hex())
        replies.append(Reply(PacketKind.SIP, ok, SIP_REPLY_DELAY_NS))
        entries.append((0, PacketKind.SIP, invite, 0))
        # after the 200 OK has made the round trip (3 sigma of jitter each way)
        round_trip_s = 2 * (spec.one_way_delay_ms + 3 * spec.jitter_std_ms) / 1000
        ack_s = SIP_REPLY_DELAY_NS / NS_PER_S + round_trip_s + 0.01
        entries.append((to_ns(ack_s), PacketKind.SIP, ack, -1))
    elif spec.framing in ("whatsapp", "telegram"):
        setup = SETUP_REQUEST_TIMES_S[:1] if telegram else SETUP_REQUEST_TIMES_S
        times = [to_ns(t) for t in setup]
        step = to_ns(spec.keepalive_interval_s)
        times += list(range(to_ns(spec.media_start_s) + step, media_end_ns, step))
        answer_kind = PacketKind.REFLECTOR_HELLO if telegram else PacketKind.STUN_RESPONSE
        for t in times:
            request(t, answer_kind)
    return entries, replies


