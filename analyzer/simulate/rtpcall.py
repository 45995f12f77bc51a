"""Simulate one two-way voice call and the packets a capture of it would hold.

:func:`simulate_call` is a pure function of ``(spec, impairments, seed)``: it plans what each
endpoint sends (media, comfort noise, setup and keep-alive messages), sends each direction
through a clean path (fixed delay plus a little jitter) and then through that direction's
impairments, and returns the capture (:class:`SimulatedCall`) with its ground truth.
:func:`write_call` writes ``<path>`` (pcap) and ``<path>.truth.json``.

What each endpoint sends is planned in :mod:`analyzer.simulate.sending`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from analyzer.atomic import atomic_write
from analyzer.errors import UsageError
from analyzer.protocol import IPV4_HEADER_LEN, NS_PER_S, SIP_PORT, UDP_HEADER_LEN
from analyzer.simulate.impairments import (
    BlockedSetup,
    CodecChange,
    Dtx,
    HandoverGap,
    Impairment,
    ImpairmentEffect,
    PathImpairment,
    PathState,
    PeriodicDrop,
)
from analyzer.simulate.packing import exclusive_cumsum
from analyzer.simulate.pcapwriter import (
    PackedFrames,
    build_icmp_port_unreachable_frames,
    build_udp_frames,
    write_pcap,
)
from analyzer.simulate.sending import (
    PURPOSE_IMPAIRMENT,
    PURPOSE_OPAQUE,
    PURPOSE_TRANSIT,
    Identity,
    SendPlan,
    caller_controls,
    control_plan,
    draw_identity,
    rng_for,
    stream_plan,
    to_ns,
)
from analyzer.simulate.spec import (
    BOTH,
    CALLEE_TO_CALLER,
    CALLER_TO_CALLEE,
    DIRECTIONS,
    OPAQUE_TAG_LEN,
    CallSpec,
)
from analyzer.simulate.truth import (
    CallTruth,
    DirectionTruth,
    PacketKind,
    SentPackets,
    summarize_direction,
)

CALLER_MAC = bytes.fromhex("0200c0a80117")
GATEWAY_MAC = bytes.fromhex("0200c0a80101")
ImpairmentsArg = Mapping[str, Sequence[Impairment]] | Sequence[Impairment] | None


@dataclass(frozen=True, eq=False)
class SimulatedCall:
    """A simulated capture: one row per captured packet, in capture order, plus the truth.

    ``ts_ns`` is absolute (ns since the Unix epoch); ``direction`` is 0 for
    caller-to-callee and 1 for callee-to-caller; ``kind`` holds :class:`PacketKind` values.
    """

    spec: CallSpec
    seed: int
    ts_ns: np.ndarray
    direction: np.ndarray
    kind: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    frames: PackedFrames
    truth: CallTruth

    def __len__(self) -> int:
        return int(self.ts_ns.size)


def _split(impairments: ImpairmentsArg) -> dict[str, tuple[Impairment, ...]]:
    if impairments is None:
        return {d: () for d in DIRECTIONS}
    if not isinstance(impairments, Mapping):
        impairments = {BOTH: impairments}
    for key in impairments:
        if key not in (*DIRECTIONS, BOTH):
            raise UsageError(f"impairments: unknown direction {key!r}; use "
                             f"{CALLER_TO_CALLEE!r}, {CALLEE_TO_CALLER!r} or {BOTH!r}")
    out = {}
    for d in DIRECTIONS:
        items = (*impairments.get(BOTH, ()), *impairments.get(d, ()))
        for item in items:
            if not isinstance(item, Impairment):
                raise UsageError(f"impairments: not an impairment: {item!r}")
        out[d] = items
    return out


def _run_path(plan: SendPlan, path: Sequence[PathImpairment], seed: int, d: int,
              first_index: int) -> tuple[PathState, np.ndarray, list[ImpairmentEffect]]:
    state = PathState(plan.send_ns + plan.transit_ns,
                      plan.payload_len + IPV4_HEADER_LEN + UDP_HEADER_LEN,
                      np.ones(plan.kind.size, dtype=bool))
    dropped_by = np.full(plan.kind.size, -1, dtype=np.int64)
    effects = []
    for k, impairment in enumerate(path):
        new, effect = impairment.apply(state, rng_for(seed, PURPOSE_IMPAIRMENT, d, k))
        dropped_by[state.delivered & ~new.delivered] = first_index + k
        state = new
        effects.append(effect)
    return state, dropped_by, effects


def simulate_call(spec: CallSpec, impairments: ImpairmentsArg = None, seed: int = 0, *,
                  scenario: str | None = None) -> SimulatedCall:
    """Simulate a call; ``impairments`` maps a direction (or ``"both"``) to impairments.

    A plain sequence of impairments applies to both directions. Path impairments act in
    the order given (``"both"`` ones first); :class:`BlockedSetup` anywhere blocks the call.
    """
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise UsageError(f"seed: expected a non-negative integer, got {seed!r}")
    seed = int(seed)
    by_dir = _split(impairments)
    every = [i for items in by_dir.values() for i in items]
    blocked = next((i for i in every if isinstance(i, BlockedSetup)), None)
    handover = next((i for i in every if isinstance(i, HandoverGap) and i.new_source_port),
                    None)
    ident = draw_identity(spec, seed)
    media_start = [to_ns(spec.media_start_s), to_ns(spec.media_start_s) + ident.callee_offset_ns]
    media_end_ns = to_ns(spec.media_start_s + spec.duration_s)
    res = spec.timestamp_resolution_ns

    plans: list[SendPlan] = []
    states: list[PathState] = []
    drops: list[np.ndarray] = []
    effects: list[list[ImpairmentEffect]] = []
    entries, replies = caller_controls(spec, ident, blocked, media_end_ns, seed)
    for d, name in enumerate(DIRECTIONS):
        items = by_dir[name]
        source = [i for i in items if not isinstance(i, PathImpairment)]
        path = [i for i in items if isinstance(i, PathImpairment)]
        if blocked is not None and blocked not in source:
            source.append(blocked)
        parts = []
        if blocked is None:
            dtx = next((i for i in source if isinstance(i, Dtx)), None)
            changes = [i for i in source if isinstance(i, CodecChange)]
            parts.append(stream_plan(spec, ident, d, media_start[d], media_end_ns, dtx,
                                     changes, seed))
        control_rng = rng_for(seed, PURPOSE_TRANSIT, d, 1)
        if d == 0:
            parts.append(control_plan(entries, spec, control_rng))
        else:  # the other side answers what reached it
            asked_plan, asked_state = plans[0], states[0]
            asked = np.flatnonzero((asked_plan.link >= 0) & asked_state.delivered)
            arrival = asked_state.time_ns // res * res
            answers = []
            for i in asked.tolist():
                reply = replies[int(asked_plan.link[i])]
                answers.append((int(arrival[i]) + reply.delay_ns, reply.kind,
                                reply.payload or b"", i))
            parts.append(control_plan(answers, spec, control_rng))
        plan = SendPlan.merge(parts)
        source_effects = [i.effect(_source_onset(i)) for i in source]
        state, dropped_by, path_effects = _run_path(plan, path, seed, d, len(source_effects))
        plans.append(plan)
        states.append(state)
        drops.append(dropped_by)
        effects.append(source_effects + path_effects)

    if spec.framing == "opaque":
        plans = [_opaque(p, spec, ident, handover, d, seed) for d, p in enumerate(plans)]
    return _assemble(spec, seed, scenario, ident, plans, states, drops, effects, by_dir,
                     blocked, handover, media_end_ns)


def _source_onset(item: Impairment) -> float | None:
    if isinstance(item, Dtx):
        return item.silence_windows[0][0] if item.silence_windows else None
    if isinstance(item, CodecChange):
        return item.at_s
    return 0.0


def _caller_port(ident: Identity, handover: HandoverGap | None, send_ns: np.ndarray, *,
                 sending: bool) -> np.ndarray:
    """The caller's port of packets sent at ``send_ns``: the one it sends from
    (``sending``) or receives on, before or after a handover."""
    before, after = ((ident.caller_send_port, ident.new_caller_send_port) if sending
                     else (ident.caller_port, ident.new_caller_port))
    ports = np.full(send_ns.size, before, dtype=np.int64)
    if handover is not None:
        ports[send_ns >= to_ns(handover.at_s + handover.gap_s)] = after
    return ports


def _flow_ports(ident: Identity, handover: HandoverGap | None, d: int, plan: SendPlan,
                rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UDP source and destination ports of the plan's ``rows`` (direction ``d``): the
    sender's send port to the receiver's receive port; SIP between the 5060 ports."""
    caller = _caller_port(ident, handover, plan.send_ns[rows], sending=d == 0)
    sip = plan.kind[rows] == PacketKind.SIP
    remote = ident.remote_send_port if d == 1 else ident.remote_port
    local = np.where(sip, SIP_PORT, caller)
    far = np.where(sip, SIP_PORT, remote)
    return (local, far) if d == 0 else (far, local)


def _opaque(plan: SendPlan, spec: CallSpec, ident: Identity, handover: HandoverGap | None,
            d: int, seed: int) -> SendPlan:
    """The plan with every UDP payload replaced by its flow's tag and random bytes of the
    same length (captures/lab/opaque.py's transform; the tag is a hash of the seed and the
    flow, so a new port after a handover is a new tag)."""
    rows = np.arange(plan.kind.size)
    lengths = plan.payload_len.astype(np.int64)
    off = exclusive_cumsum(lengths)
    buf = np.frombuffer(rng_for(seed, PURPOSE_OPAQUE, d).bytes(int(lengths.sum())),
                        dtype=np.uint8).copy()
    sport, dport = _flow_ports(ident, handover, d, plan, rows)
    ips = (ident.caller_ip, ident.remote_ip) if d == 0 else (ident.remote_ip, ident.caller_ip)
    flows, which = np.unique(np.stack([sport, dport], axis=1), axis=0, return_inverse=True)
    tags = np.array([list(hashlib.sha256(
        f"{seed}|{ips[0]}:{a}>{ips[1]}:{b}".encode()).digest()[:OPAQUE_TAG_LEN])
        for a, b in flows.tolist()], dtype=np.uint8).reshape(-1, OPAQUE_TAG_LEN)
    j = np.arange(OPAQUE_TAG_LEN)
    inside = j[None, :] < lengths[:, None]
    at = (off[:, None] + j[None, :])[inside]
    buf[at] = tags[which.reshape(-1)][inside]
    return replace(plan, payload_buf=buf, payload_off=off)


def _assemble(spec: CallSpec, seed: int, scenario: str | None, ident: Identity,
              plans: list[SendPlan], states: list[PathState], drops: list[np.ndarray],
              effects: list[list[ImpairmentEffect]], by_dir: dict[str, tuple[Impairment, ...]],
              blocked: BlockedSetup | None, handover: HandoverGap | None, media_end_ns: int
              ) -> SimulatedCall:
    res = spec.timestamp_resolution_ns
    epoch_ns = spec.start_epoch_s * NS_PER_S
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                       PackedFrames]] = []
    for d, plan in enumerate(plans):
        state = states[d]
        arrival = state.time_ns // res * res
        if d == 0 and spec.vantage == "caller":
            rows = np.arange(plan.kind.size)
            ts = plan.send_ns
        else:
            rows = np.flatnonzero(state.delivered)
            ts = arrival[rows]
        icmp = plan.kind[rows] == PacketKind.ICMP_UNREACHABLE
        udp_rows = rows[~icmp]
        sport, dport = _flow_ports(ident, handover, d, plan, udp_rows)
        src_ip, dst_ip = (ident.caller_ip, ident.remote_ip) if d == 0 else (
            ident.remote_ip, ident.caller_ip)
        macs = (CALLER_MAC, GATEWAY_MAC) if d == 0 else (GATEWAY_MAC, CALLER_MAC)
        frames = build_udp_frames(
            src_ip, dst_ip, sport, dport, plan.payload_buf, plan.payload_off[udp_rows],
            plan.payload_len[udp_rows], src_mac=macs[0], dst_mac=macs[1],
            ip_id=udp_rows & 0xFFFF)
        pieces.append((ts[~icmp], np.full(udp_rows.size, d, np.uint8), plan.kind[udp_rows],
                       sport, dport, frames))
        if icmp.any():
            refs = plan.link[rows[icmp]]
            asked = plans[0]
            quoted_ports = _caller_port(ident, handover, asked.send_ns[refs], sending=True)
            quoted = build_udp_frames(
                ident.caller_ip, ident.remote_ip, quoted_ports, ident.remote_port,
                asked.payload_buf, asked.payload_off[refs], asked.payload_len[refs],
                ip_id=refs & 0xFFFF).window(14, IPV4_HEADER_LEN + 8)
            frames = build_icmp_port_unreachable_frames(
                ident.remote_ip, ident.caller_ip, quoted, src_mac=macs[0], dst_mac=macs[1])
            zeros = np.zeros(refs.size, dtype=np.int64)
            pieces.append((ts[icmp], np.full(refs.size, d, np.uint8), plan.kind[rows[icmp]],
                           zeros, zeros, frames))
    ts_all = np.concatenate([p[0] for p in pieces])
    order = np.argsort(ts_all, kind="stable")
    frames = PackedFrames.concat([p[5] for p in pieces]).take(order)

    directions = {}
    for d, name in enumerate(DIRECTIONS):
        directions[name] = _direction_truth(spec, ident, d, name, plans[d], states[d],
                                            drops[d], effects[d], by_dir[name], media_end_ns)
    truth = CallTruth(
        seed=seed, scenario=scenario, framing=spec.framing, vantage=spec.vantage,
        time_origin_epoch_s=spec.start_epoch_s, media_start_s=spec.media_start_s,
        media_end_s=spec.media_start_s + spec.duration_s,
        caller=f"{spec.caller_ip}:{ident.caller_port}",
        remote=f"{spec.remote_ip}:{ident.remote_port}",
        caller_port_after_handover=ident.new_caller_port if handover else None,
        blocked=blocked is not None, spec=asdict(spec), directions=directions)
    return SimulatedCall(
        spec=spec, seed=seed, ts_ns=ts_all[order] + epoch_ns,
        direction=np.concatenate([p[1] for p in pieces])[order],
        kind=np.concatenate([p[2] for p in pieces])[order],
        sport=np.concatenate([p[3] for p in pieces])[order].astype(np.uint16),
        dport=np.concatenate([p[4] for p in pieces])[order].astype(np.uint16),
        frames=frames, truth=truth)


def _direction_truth(spec: CallSpec, ident: Identity, d: int, name: str, plan: SendPlan,
                     state: PathState, dropped_by: np.ndarray,
                     effects: list[ImpairmentEffect], items: tuple[Impairment, ...],
                     media_end_ns: int) -> DirectionTruth:
    res = spec.timestamp_resolution_ns
    arrival_ns = state.time_ns // res * res
    clean_ns = (plan.send_ns + plan.transit_ns) // res * res
    stream = plan.seq >= 0
    packets = SentPackets(
        kind=plan.kind,
        send_s=plan.send_ns / NS_PER_S,
        seq=np.where(stream, plan.seq & 0xFFFF, -1),
        rtp_ts=np.where(stream, plan.rtp_ts & 0xFFFFFFFF, -1),
        marker=plan.marker,
        size_bytes=plan.payload_len,
        delivered=state.delivered,
        arrival_s=np.where(state.delivered, arrival_ns / NS_PER_S, np.nan),
        dropped_by=dropped_by,
    )
    # the sender's send port to the receiver's receive port (the same with symmetric RTP)
    send_port, recv_port = ((ident.caller_send_port, ident.remote_port) if d == 0
                            else (ident.remote_send_port, ident.caller_port))
    sender, receiver = (spec.caller_ip, spec.remote_ip) if d == 0 else (
        spec.remote_ip, spec.caller_ip)
    rtp = spec.rtp_visible
    windows: list[tuple[float, float]] = []
    for item in items:
        if isinstance(item, PeriodicDrop):
            windows += item.windows(media_end_ns / NS_PER_S)
    base = DirectionTruth(
        direction=name,
        src=f"{sender}:{send_port}",
        dst=f"{receiver}:{recv_port}",
        ssrc=ident.ssrc[d] if rtp else None,
        payload_type=spec.effective_payload_type if rtp else None,
        clock_rate_hz=spec.clock_rate_hz,
        frame_interval_ms=spec.frame_interval_ms,
        initial_seq=ident.seq0[d] if rtp else None,
        initial_rtp_ts=ident.ts0[d] if rtp else None,
        rtp_visible=rtp,
        packets=packets,
        impairments=tuple(effects),
    )
    return summarize_direction(base, clean_ns / NS_PER_S, tuple(sorted(windows)))


def write_call(path: str | os.PathLike[str], sim: SimulatedCall, *,
               nanosecond: bool | None = None, include_packets: bool = True
               ) -> tuple[Path, Path]:
    """Write the capture to ``path`` and its truth to ``<path>.truth.json``.

    ``nanosecond`` defaults to whether the spec's timestamp resolution is finer than 1 µs.
    Returns both paths.
    """
    pcap = Path(path)
    if nanosecond is None:
        nanosecond = sim.spec.timestamp_resolution_ns < 1000
    with atomic_write(pcap, "wb") as fh:
        write_pcap(fh, sim.ts_ns, sim.frames, nanosecond=nanosecond)
    truth_path = pcap.with_name(pcap.name + ".truth.json")
    with atomic_write(truth_path) as f:
        json.dump(sim.truth.to_dict(include_packets=include_packets), f, separators=(",", ":"))
        f.write("\n")
    return pcap, truth_path
