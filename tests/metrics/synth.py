"""Seeded synthetic streams with known truth, built straight into ``Stream`` objects, and the
same streams written as real pcap files (scapy) for end-to-end tests.

A voice stream sends one frame every ``frame_s``; ``drop`` removes packets by index (the
sequence number is ``seq0 + index``), ``silence`` removes whole stretches as a sender in
DTX would (no sequence numbers used, the timestamp keeps running), ``delay_s`` adds a
per-packet transit on top of ``base_delay_s``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.streams.model import Series, Stream
from analyzer.streams.rtpstats import timing_stats

SRC, DST = "192.0.2.1", "198.51.100.2"


@dataclass
class Voice:
    """What the sender did (the truth) and what the capture saw."""

    send_s: np.ndarray
    seq: np.ndarray
    rtp_ts: np.ndarray
    arrival_s: np.ndarray
    size_bytes: np.ndarray
    payload_type: np.ndarray
    marker: np.ndarray
    dropped_seq: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.arrival_s.size)


def voice(duration_s: float, *, frame_s: float = 0.02, clock_hz: int = 8000,
          start_s: float = 1.0, seq0: int = 1000, ts0: int = 5000, payload_type: int = 0,
          size_bytes: int = 172, drop: Iterable[int] = (),
          silence: Sequence[tuple[float, float]] = (), base_delay_s: float = 0.03,
          delay_s: np.ndarray | None = None) -> Voice:
    """A constant-rate voice stream (frames at ``start_s + k * frame_s``)."""
    n = round(duration_s / frame_s)
    send = start_s + np.arange(n) * frame_s
    keep = np.ones(n, dtype=bool)
    for a, b in silence:  # DTX: nothing sent, no sequence numbers used
        keep &= ~((send >= a) & (send < b))
    send = send[keep]
    ts = ts0 + np.rint((send - start_s) * clock_hz).astype(np.int64)
    seq = seq0 + np.arange(send.size, dtype=np.int64)
    marker = np.zeros(send.size, dtype=bool)
    marker[0] = True
    if silence:  # a talkspurt after silence starts with the marker bit
        gap = np.diff(send) > 1.5 * frame_s
        marker[1:] |= gap
    d = np.full(send.size, base_delay_s) if delay_s is None else base_delay_s + delay_s
    dropped = np.zeros(send.size, dtype=bool)
    drop_seq = np.asarray(sorted(drop), dtype=np.int64)
    dropped[np.isin(seq, drop_seq)] = True
    arrival = send + d
    got = ~dropped
    order = np.argsort(arrival[got], kind="stable")
    return Voice(send_s=send, seq=seq[got][order], rtp_ts=ts[got][order],
                 arrival_s=arrival[got][order],
                 size_bytes=np.full(int(got.sum()), size_bytes, dtype=np.int32),
                 payload_type=np.full(int(got.sum()), payload_type, dtype=np.int16),
                 marker=marker[got][order], dropped_seq=seq[dropped])


def series(arrival_s: np.ndarray, *, seq: np.ndarray | None = None,
           rtp_ts: np.ndarray | None = None, size_bytes: np.ndarray | int = 172,
           payload_type: np.ndarray | int = 0, marker: np.ndarray | None = None) -> Series:
    t = np.asarray(arrival_s, dtype=np.float64)
    n = t.size

    def ro(a: np.ndarray) -> np.ndarray:
        a = np.ascontiguousarray(a)
        a.setflags(write=False)
        return a

    return Series(
        frame=ro(np.arange(n, dtype=np.int64)), arrival_s=ro(t),
        size_bytes=ro(np.broadcast_to(np.asarray(size_bytes, dtype=np.int32), (n,)).copy()),
        seq=ro(np.zeros(n, np.int64) if seq is None else np.asarray(seq, np.int64)),
        rtp_ts=ro(np.zeros(n, np.int64) if rtp_ts is None else np.asarray(rtp_ts, np.int64)),
        marker=ro(np.zeros(n, bool) if marker is None else np.asarray(marker, bool)),
        payload_type=ro(np.broadcast_to(np.asarray(payload_type, dtype=np.int16), (n,)).copy()))


def stream(se: Series, *, index: int = 0, kind: str = "rtp", codec: str | None = "PCMU",
           clock_hz: int | None = 8000, src: str = SRC, sport: int = 5004, dst: str = DST,
           dport: int = 6004, reverse: int | None = None, call: int | None = 0) -> Stream:
    rtp = kind == "rtp"
    return Stream(
        index=index, flow=index, src=src, sport=sport, dst=dst, dport=dport,
        ssrc=0x1234 + index if rtp else None, kind=kind, app=None, transport="udp",
        payload_types=tuple(sorted({int(p) for p in se.payload_type})) if rtp else (),
        codec=codec if rtp else None, clock_rate_hz=clock_hz if rtp else None,
        clock_source="static" if rtp and clock_hz else None, sdp_signalled=False, series=se,
        stats=timing_stats(se.arrival_s, se.size_bytes), reverse=reverse, call=call)


def voice_stream(v: Voice, **kw: Any) -> Stream:
    se = series(v.arrival_s, seq=v.seq, rtp_ts=v.rtp_ts, size_bytes=v.size_bytes,
                payload_type=v.payload_type, marker=v.marker)
    return stream(se, **kw)


def opaque_stream(arrival_s: np.ndarray, size_bytes: int = 120, **kw: Any) -> Stream:
    kw.setdefault("kind", "opaque")
    return stream(series(arrival_s, size_bytes=size_bytes, payload_type=-1), **kw)


def write_pcap(path: Path, flows: Sequence[tuple[Voice, tuple[str, int, str, int], int]]
               ) -> Path:
    """Write RTP flows as an Ethernet pcap with scapy: each flow is (voice, (src, sport,
    dst, dport), ssrc); records in arrival order."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.layers.rtp import RTP
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    recs = []
    for v, (src, sport, dst, dport), ssrc in flows:
        for k in range(len(v)):
            payload = b"\x55" * (int(v.size_bytes[k]) - 12)
            pkt = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                   / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport)
                   / RTP(version=2, payload_type=int(v.payload_type[k]),
                         marker=int(v.marker[k]), sequence=int(v.seq[k]) & 0xFFFF,
                         timestamp=int(v.rtp_ts[k]) & 0xFFFFFFFF, sourcesync=ssrc)
                   / Raw(payload))
            pkt.time = float(v.arrival_s[k]) + 1_700_000_000.0
            recs.append(pkt)
    recs.sort(key=lambda p: float(p.time))
    wrpcap(str(path), recs)
    return path
