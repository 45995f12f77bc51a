"""Write a large synthetic capture of many concurrent two-way RTP calls, for benchmarks.

    python benchmarks/make_capture.py OUT.pcap --packets 1200000 --seed 1

Most calls are Opus-like (20 ms, dynamic payload type, no SDP: tshark reports their jitter
as 0); a few are G.711 (static PT 0 / 8 at 8 kHz, so tshark computes jitter). Streams get
Bernoulli loss, adjacent-packet swaps (reordering), duplicates, a few ms of jitter, and a
share of them start near sequence number 65535 so they wrap. Exactly ``--packets`` records
are written, in arrival order, window by window (memory stays bounded). Per-stream truth
goes to ``OUT.truth.json``: ``lost_packets`` is the real loss between the lowest and highest
sequence number written; ``tshark_lost`` is what ``tshark -z rtp,streams`` reports (sequence
span from the first to the last packet to *arrive*, minus packets received, duplicates
included - so it can differ by one or two under reordering and go negative with duplicates).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analyzer.simulate.packing import exclusive_cumsum
from analyzer.simulate.pcapwriter import PcapWriter, build_udp_frames, ipv4_to_int
from analyzer.simulate.rtp import pack_rtp_headers, prefix_payloads

FRAME_NS = 20_000_000
EPOCH_NS = 1_755_072_000 * 1_000_000_000
POOL_BYTES = 1 << 20
OPUS_PAYLOAD_TYPES = np.array([96, 109, 111, 120])


@dataclass(frozen=True, eq=False)
class Streams:
    """Per-stream constants (one row per RTP stream; call i has streams 2i and 2i + 1)."""

    src_ip: np.ndarray
    dst_ip: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    ssrc: np.ndarray
    payload_type: np.ndarray
    clock_rate_hz: np.ndarray
    ts_step: np.ndarray
    size_lo: np.ndarray
    size_hi: np.ndarray
    start_ns: np.ndarray
    seq0: np.ndarray
    ts0: np.ndarray
    loss: np.ndarray
    base_delay_ns: np.ndarray
    jitter_ns: np.ndarray

    def __len__(self) -> int:
        return int(self.ssrc.size)


def make_streams(args: argparse.Namespace, rng: np.random.Generator) -> Streams:
    calls = args.calls
    n = 2 * calls
    call = np.arange(n) // 2
    forward = np.arange(n) % 2 == 0
    a_ip = ipv4_to_int("10.20.0.0") + 1 + call
    b_ip = ipv4_to_int("100.64.0.0") + 1 + call
    a_port = 2 * rng.integers(8000, 30000, calls)[call]
    b_port = 2 * rng.integers(8000, 30000, calls)[call]
    g711 = call < args.g711_calls
    pt = np.where(g711, np.where(call % 2 == 0, 0, 8),
                  OPUS_PAYLOAD_TYPES[rng.integers(0, OPUS_PAYLOAD_TYPES.size, calls)][call])
    clock = np.where(g711, 8000, 48000)
    wrap = rng.random(n) < args.wrap_fraction
    return Streams(
        src_ip=np.where(forward, a_ip, b_ip), dst_ip=np.where(forward, b_ip, a_ip),
        sport=np.where(forward, a_port, b_port), dport=np.where(forward, b_port, a_port),
        ssrc=rng.choice(2**32, n, replace=False),
        payload_type=pt, clock_rate_hz=clock, ts_step=clock // 50,
        size_lo=np.where(g711, 160, 60), size_hi=np.where(g711, 160, 120),
        start_ns=rng.integers(0, 1_000_000, n) * 1000,
        seq0=np.where(wrap, 65535 - rng.integers(0, 300, n), rng.integers(0, 65536, n)),
        ts0=rng.integers(0, 2**32, n),
        loss=args.loss * rng.uniform(0.0, 2.0, n),
        base_delay_ns=rng.integers(10_000, 80_000, n) * 1000,
        jitter_ns=args.jitter_ms * 1e6 * rng.uniform(0.5, 1.5, n),
    )


def window_rows(st: Streams, t0: int, t1: int, rng: np.random.Generator, args: argparse.Namespace
                ) -> dict[str, np.ndarray]:
    """Every packet sent in ``[t0, t1)``, after loss, jitter, swaps and duplicates."""
    k_lo = np.maximum(0, -(-(t0 - st.start_ns) // FRAME_NS))
    k_hi = np.maximum(0, -(-(t1 - st.start_ns) // FRAME_NS))
    counts = k_hi - k_lo
    stream = np.repeat(np.arange(len(st)), counts)
    k = np.repeat(k_lo - exclusive_cumsum(counts), counts) + np.arange(int(counts.sum()))
    keep = rng.random(stream.size) >= st.loss[stream]
    stream, k = stream[keep], k[keep]
    send = st.start_ns[stream] + k * FRAME_NS
    transit = st.base_delay_ns[stream] + rng.normal(0.0, 1.0, stream.size) * st.jitter_ns[stream]
    arrival = (send + np.maximum(transit, 0.0).astype(np.int64)) // 1000 * 1000
    size = rng.integers(st.size_lo[stream], st.size_hi[stream] + 1)
    body_off = rng.integers(0, POOL_BYTES - 256, stream.size)
    # swap the arrival times of adjacent packets of a stream (no packet in two swaps)
    cand = (rng.random(stream.size) < args.reorder) & np.append(stream[1:] == stream[:-1], False)
    cand &= ~np.insert(cand[:-1], 0, False)
    i = np.flatnonzero(cand)
    arrival[i], arrival[i + 1] = arrival[i + 1].copy(), arrival[i].copy()
    swapped = np.zeros(stream.size, dtype=bool)
    swapped[i] = True
    dup = np.flatnonzero(rng.random(stream.size) < args.dup)
    dup_delay = rng.integers(50, 2000, dup.size) * 1000
    rows = {"stream": stream, "k": k, "arrival": arrival, "size": size, "body_off": body_off,
            "swapped": swapped, "dup": np.zeros(stream.size, dtype=bool)}
    extra = {name: col[dup] for name, col in rows.items()}
    extra["arrival"] = extra["arrival"] + dup_delay
    extra["dup"] = np.ones(dup.size, dtype=bool)
    extra["swapped"] = np.zeros(dup.size, dtype=bool)
    return {name: np.concatenate([rows[name], extra[name]]) for name in rows}


def write_rows(writer: PcapWriter, st: Streams, rows: dict[str, np.ndarray], pool: np.ndarray
               ) -> None:
    s, k = rows["stream"], rows["k"]
    header = pack_rtp_headers(st.seq0[s] + k, st.ts0[s] + k * st.ts_step[s], st.ssrc[s],
                              st.payload_type[s], k == 0)
    buf, off, lengths = prefix_payloads(header, pool, rows["body_off"], rows["size"])
    frames = build_udp_frames(st.src_ip[s], st.dst_ip[s], st.sport[s], st.dport[s],
                              buf, off, lengths, ip_id=k & 0xFFFF)
    writer.write(EPOCH_NS + rows["arrival"], frames)


class Tally:
    """Per-stream counts of what was written."""

    def __init__(self, n: int) -> None:
        self.written = np.zeros(n, dtype=np.int64)
        self.dups = np.zeros(n, dtype=np.int64)
        self.swaps = np.zeros(n, dtype=np.int64)
        self.k_min = np.full(n, np.iinfo(np.int64).max)
        self.k_max = np.full(n, -1)
        self.k_first = np.full(n, -1)  # k of the first / last packet to arrive
        self.k_last = np.full(n, -1)

    def add(self, rows: dict[str, np.ndarray]) -> None:
        s, n = rows["stream"], self.written.size
        self.written += np.bincount(s, minlength=n)
        self.dups += np.bincount(s[rows["dup"]], minlength=n)
        self.swaps += np.bincount(s[rows["swapped"]], minlength=n)
        np.minimum.at(self.k_min, s, rows["k"])
        np.maximum.at(self.k_max, s, rows["k"])
        streams, first = np.unique(s, return_index=True)
        new = self.k_first[streams] < 0
        self.k_first[streams[new]] = rows["k"][first[new]]
        streams, last_rev = np.unique(s[::-1], return_index=True)
        self.k_last[streams] = rows["k"][s.size - 1 - last_rev]

    def to_json(self, st: Streams) -> list[dict[str, object]]:
        out = []
        for i in range(len(st)):
            if self.written[i] == 0:
                continue
            expected = int(self.k_max[i] - self.k_min[i] + 1)
            first_seq = int((st.seq0[i] + self.k_min[i]) & 0xFFFF)
            out.append({
                "src": f"{_ip(st.src_ip[i])}:{st.sport[i]}",
                "dst": f"{_ip(st.dst_ip[i])}:{st.dport[i]}",
                "ssrc": int(st.ssrc[i]), "payload_type": int(st.payload_type[i]),
                "clock_rate_hz": int(st.clock_rate_hz[i]),
                "first_seq": first_seq,
                "wraps": bool(first_seq + expected - 1 > 0xFFFF),
                "written_packets": int(self.written[i]),
                "duplicates": int(self.dups[i]),
                "swaps": int(self.swaps[i]),
                "expected_packets": expected,
                "lost_packets": expected - int(self.written[i] - self.dups[i]),
                "tshark_lost": int(self.k_last[i] - self.k_first[i] + 1 - self.written[i]),
                "loss_probability": float(st.loss[i]),
                "base_delay_ms": float(st.base_delay_ns[i] / 1e6),
                "jitter_std_ms": float(st.jitter_ns[i] / 1e6),
            })
        return out


def _ip(value: int) -> str:
    v = int(value)
    return ".".join(str((v >> s) & 0xFF) for s in (24, 16, 8, 0))


def make_capture(args: argparse.Namespace) -> dict[str, object]:
    rng = np.random.default_rng(args.seed)
    st = make_streams(args, rng)
    pool = rng.integers(0, 256, POOL_BYTES, dtype=np.uint8)
    tally = Tally(len(st))
    window_ns = round(args.window_s * 1e9)
    carry: dict[str, np.ndarray] | None = None
    t0 = 0
    with PcapWriter(args.out) as writer:
        while writer.packets_written < args.packets:
            t1 = t0 + window_ns
            rows = window_rows(st, t0, t1, rng, args)
            if carry is not None:
                rows = {name: np.concatenate([carry[name], rows[name]]) for name in rows}
            order = np.argsort(rows["arrival"], kind="stable")
            rows = {name: col[order] for name, col in rows.items()}
            # later windows send at >= t1, so everything arriving before t1 is final
            ready = int(np.searchsorted(rows["arrival"], t1, side="left"))
            ready = min(ready, args.packets - writer.packets_written)
            emit = {name: col[:ready] for name, col in rows.items()}
            carry = {name: col[ready:] for name, col in rows.items()}
            write_rows(writer, st, emit, pool)
            tally.add(emit)
            t0 = t1
    streams = tally.to_json(st)
    return {"packets": writer.packets_written, "streams": len(streams), "seed": args.seed,
            "calls": args.calls, "g711_calls": args.g711_calls,
            "time_origin_epoch_s": EPOCH_NS // 1_000_000_000, "stream_truth": streams}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="pcap file to write")
    p.add_argument("--packets", type=int, default=1_200_000, help="records to write")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--calls", type=int, default=300, help="concurrent two-way calls")
    p.add_argument("--g711-calls", type=int, default=6, help="calls using PT 0/8 at 8 kHz")
    p.add_argument("--loss", type=float, default=0.01, help="mean Bernoulli loss per stream")
    p.add_argument("--reorder", type=float, default=0.002, help="adjacent-swap probability")
    p.add_argument("--dup", type=float, default=0.001, help="duplicate probability")
    p.add_argument("--jitter-ms", type=float, default=1.5, help="mean transit jitter std")
    p.add_argument("--wrap-fraction", type=float, default=0.25,
                   help="share of streams starting near seq 65535")
    p.add_argument("--window-s", type=float, default=2.0, help="generation window (memory)")
    p.add_argument("--no-truth", action="store_true", help="skip OUT.truth.json")
    args = p.parse_args(argv)
    if args.packets < 1 or args.calls < 1 or not 0 <= args.g711_calls <= args.calls:
        p.error("need --packets >= 1, --calls >= 1 and 0 <= --g711-calls <= --calls")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    summary = make_capture(args)
    if not args.no_truth:
        truth = args.out.with_name(args.out.name + ".truth.json")
        truth.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {summary['packets']} packets, {summary['streams']} streams to {args.out} "
          f"in {time.perf_counter() - start:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
