"""Ground truth of a simulated call: every packet sent, its fate, and what the impairments did.

``CallTruth.to_dict()`` is JSON-able (schema ``analyzer.simulate.truth/1``). Times are seconds
since the call's time origin (absolute = ``time_origin_epoch_s`` + t); rates are bits per
second of IP-layer bytes. "Stream packets" are the RTP stream's packets (media and comfort
noise; Telegram's encrypted media counts too); loss figures count stream packets only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

from analyzer.simulate.impairments import ImpairmentEffect

TRUTH_SCHEMA = "analyzer.simulate.truth/1"


class PacketKind(IntEnum):
    """What a simulated packet is."""

    MEDIA = 0
    COMFORT_NOISE = 1
    STUN_REQUEST = 2
    STUN_RESPONSE = 3
    SIP = 4
    REFLECTOR_HELLO = 5
    ICMP_UNREACHABLE = 6


STREAM_KINDS = (PacketKind.MEDIA, PacketKind.COMFORT_NOISE)


def is_stream(kind: np.ndarray) -> np.ndarray:
    return np.isin(kind, np.array(STREAM_KINDS, dtype=np.uint8))


@dataclass(frozen=True, eq=False)
class SentPackets:
    """Columns of the packets one endpoint sent in one direction, in send order.

    ``seq`` / ``rtp_ts`` are the wire values (-1 for packets outside the stream);
    ``arrival_s`` is NaN for lost packets; ``dropped_by`` indexes the direction's
    ``impairments`` (-1: delivered).
    """

    kind: np.ndarray
    send_s: np.ndarray
    seq: np.ndarray
    rtp_ts: np.ndarray
    marker: np.ndarray
    size_bytes: np.ndarray
    delivered: np.ndarray
    arrival_s: np.ndarray
    dropped_by: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.size)

    def to_dict(self) -> dict[str, list[Any]]:
        arrival = np.round(self.arrival_s, 9)
        return {
            "kind": self.kind.astype(int).tolist(),
            "send_s": np.round(self.send_s, 9).tolist(),
            "seq": self.seq.astype(int).tolist(),
            "rtp_ts": self.rtp_ts.astype(int).tolist(),
            "marker": self.marker.astype(bool).tolist(),
            "size_bytes": self.size_bytes.astype(int).tolist(),
            "delivered": self.delivered.astype(bool).tolist(),
            "arrival_s": [None if np.isnan(a) else float(a) for a in arrival.tolist()],
            "dropped_by": self.dropped_by.astype(int).tolist(),
        }


def loss_runs(delivered: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive lost packets (``delivered`` False), in order."""
    lost = np.concatenate([[0], (~np.asarray(delivered, dtype=bool)).astype(np.int8), [0]])
    edges = np.diff(lost)
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


@dataclass(frozen=True, eq=False)
class DirectionTruth:
    """Ground truth of one direction (one RTP stream plus its control packets)."""

    direction: str
    src: str
    dst: str
    ssrc: int | None
    payload_type: int | None
    clock_rate_hz: int
    frame_interval_ms: int
    initial_seq: int | None
    initial_rtp_ts: int | None
    rtp_visible: bool
    packets: SentPackets
    impairments: tuple[ImpairmentEffect, ...]
    sent_packets: int = 0
    delivered_packets: int = 0
    lost_packets: int = 0
    loss_fraction: float = 0.0
    loss_run_lengths: tuple[int, ...] = ()
    max_loss_run: int = 0
    first_loss_s: float | None = None
    reordered_packets: int = 0
    added_delay_max_s: float = 0.0
    added_delay_mean_s: float = 0.0
    onset_s: float | None = None
    cutoff_s: float | None = None
    cutoff_missing_packets: int = 0
    cap_rate_bps: float | None = None
    period_s: float | None = None
    drop_s: float | None = None
    drop_windows_s: tuple[tuple[float, float], ...] = ()
    control_sent: int = 0
    control_delivered: int = 0
    labels: tuple[str, ...] = field(default=())

    def to_dict(self, *, include_packets: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "direction": self.direction,
            "src": self.src,
            "dst": self.dst,
            "ssrc": self.ssrc,
            "payload_type": self.payload_type,
            "clock_rate_hz": self.clock_rate_hz,
            "frame_interval_ms": self.frame_interval_ms,
            "initial_seq": self.initial_seq,
            "initial_rtp_ts": self.initial_rtp_ts,
            "rtp_visible": self.rtp_visible,
            "sent_packets": self.sent_packets,
            "delivered_packets": self.delivered_packets,
            "lost_packets": self.lost_packets,
            "loss_fraction": self.loss_fraction,
            "loss_run_lengths": list(self.loss_run_lengths),
            "max_loss_run": self.max_loss_run,
            "first_loss_s": self.first_loss_s,
            "reordered_packets": self.reordered_packets,
            "added_delay_max_s": self.added_delay_max_s,
            "added_delay_mean_s": self.added_delay_mean_s,
            "onset_s": self.onset_s,
            "cutoff_s": self.cutoff_s,
            "cutoff_missing_packets": self.cutoff_missing_packets,
            "cap_rate_bps": self.cap_rate_bps,
            "period_s": self.period_s,
            "drop_s": self.drop_s,
            "drop_windows_s": [list(w) for w in self.drop_windows_s],
            "control_sent": self.control_sent,
            "control_delivered": self.control_delivered,
            "labels": list(self.labels),
            "impairments": [e.to_dict() for e in self.impairments],
        }
        if include_packets:
            out["packet_kinds"] = {k.name.lower(): int(k) for k in PacketKind}
            out["packets"] = self.packets.to_dict()
        return out


def summarize_direction(
    base: DirectionTruth,
    clean_arrival_s: np.ndarray,
    periodic_windows: tuple[tuple[float, float], ...] = (),
) -> DirectionTruth:
    """Fill the summary fields of ``base`` from its packets and impairment effects.

    ``clean_arrival_s`` is each packet's arrival time without impairments (for delays).
    """
    p = base.packets
    stream = is_stream(p.kind)
    delivered = p.delivered[stream]
    runs = loss_runs(delivered)
    lost_send = p.send_s[stream][~delivered]
    arrivals = p.arrival_s[stream][delivered]
    prior_max = np.maximum.accumulate(arrivals) if arrivals.size else arrivals
    reordered = int((arrivals[1:] < prior_max[:-1]).sum()) if arrivals.size > 1 else 0
    added = arrivals - clean_arrival_s[stream][delivered]
    effects = base.impairments
    lossy = [e for e in effects if not e.benign]
    onsets = [e.onset_s for e in lossy if e.onset_s is not None]
    cutoff_s = None
    cutoff_missing = 0
    caps = []
    period = drop = None
    for index, e in enumerate(effects):
        if e.label == "cutoff":
            cutoff_s = e.onset_s if cutoff_s is None or e.onset_s is None else min(
                cutoff_s, e.onset_s)
            cutoff_missing += int(((p.dropped_by == index) & stream).sum())
        elif e.label in ("token_bucket_policer", "shaper"):
            caps.append(float(e.params["rate_bps"]))
        elif e.label == "periodic_drop":
            period, drop = float(e.params["period_s"]), float(e.params["drop_s"])
    control = ~stream
    labels = tuple(dict.fromkeys(e.label for e in effects))
    return DirectionTruth(
        **{name: getattr(base, name) for name in (
            "direction", "src", "dst", "ssrc", "payload_type", "clock_rate_hz",
            "frame_interval_ms", "initial_seq", "initial_rtp_ts", "rtp_visible", "packets",
            "impairments")},
        sent_packets=int(stream.sum()),
        delivered_packets=int(delivered.sum()),
        lost_packets=int((~delivered).sum()),
        loss_fraction=float((~delivered).mean()) if delivered.size else 0.0,
        loss_run_lengths=tuple(int(r) for r in runs),
        max_loss_run=int(runs.max()) if runs.size else 0,
        first_loss_s=float(lost_send.min()) if lost_send.size else None,
        reordered_packets=reordered,
        added_delay_max_s=float(max(0.0, added.max())) if added.size else 0.0,
        added_delay_mean_s=float(added.mean()) if added.size else 0.0,
        onset_s=min(onsets) if onsets else None,
        cutoff_s=cutoff_s,
        cutoff_missing_packets=cutoff_missing,
        cap_rate_bps=min(caps) if caps else None,
        period_s=period,
        drop_s=drop,
        drop_windows_s=periodic_windows,
        control_sent=int(control.sum()),
        control_delivered=int(p.delivered[control].sum()),
        labels=labels,
    )


@dataclass(frozen=True, eq=False)
class CallTruth:
    """Ground truth of a whole simulated call.

    ``caller`` / ``remote`` are where each side receives (``ip:port``, what an SDP names);
    each direction's ``src`` is where its sender sends from - another port when the call
    has asymmetric ports.
    """

    seed: int
    scenario: str | None
    framing: str
    vantage: str
    time_origin_epoch_s: int
    media_start_s: float
    media_end_s: float
    caller: str
    remote: str
    caller_port_after_handover: int | None
    blocked: bool
    spec: dict[str, Any]
    directions: dict[str, DirectionTruth]

    @property
    def labels(self) -> tuple[str, ...]:
        labels: dict[str, None] = {}
        for d in self.directions.values():
            labels.update(dict.fromkeys(d.labels))
        return tuple(labels)

    @property
    def benign_only(self) -> bool:
        """True when no impairment that degrades the call was applied (clean or benign only)."""
        return not self.blocked and all(
            e.benign for d in self.directions.values() for e in d.impairments)

    def to_dict(self, *, include_packets: bool = True) -> dict[str, Any]:
        return {
            "schema": TRUTH_SCHEMA,
            "seed": self.seed,
            "scenario": self.scenario,
            "framing": self.framing,
            "vantage": self.vantage,
            "time_origin_epoch_s": self.time_origin_epoch_s,
            "media_start_s": self.media_start_s,
            "media_end_s": self.media_end_s,
            "caller": self.caller,
            "remote": self.remote,
            "caller_port_after_handover": self.caller_port_after_handover,
            "blocked": self.blocked,
            "benign_only": self.benign_only,
            "labels": list(self.labels),
            "spec": {k: list(v) if isinstance(v, tuple) else v for k, v in self.spec.items()},
            "directions": {
                name: d.to_dict(include_packets=include_packets)
                for name, d in self.directions.items()
            },
        }
