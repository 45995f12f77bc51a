"""Time the quality metrics (not collected by pytest; run as a script).

    python -m tests.metrics.bench_quality                 # synthetic 1M packets, two layouts
    python -m tests.metrics.bench_quality CAPTURE.pcap    # every media stream of a capture

Synthetic: (a) 300 two-way calls = 600 streams of ~1667 packets (the layout of
``benchmarks/make_capture.py``), (b) one 1M-packet stream; 1 % Bernoulli loss, 0.2 %
adjacent swaps, 0.1 % duplicates, a few ms of jitter.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from analyzer.metrics.quality import capture_quality, stream_quality
from analyzer.streams.model import Call, Stream
from tests.metrics.synth import series, stream


def synthetic_streams(total: int, n_streams: int, seed: int = 1) -> list[Stream]:
    rng = np.random.default_rng(seed)
    per = total // n_streams
    out = []
    for i in range(n_streams):
        n = per
        seq = 65000 * (i % 4 == 0) + np.arange(n, dtype=np.int64)  # some near the wrap
        ts = 960 * np.arange(n, dtype=np.int64)
        t = 1.0 + (i % 50) * 0.1 + 0.02 * np.arange(n) + np.abs(rng.normal(0, 0.003, n))
        keep = rng.random(n) >= 0.01
        seq, ts, t = seq[keep], ts[keep], t[keep]
        swap = np.flatnonzero(rng.random(seq.size - 1) < 0.002)
        seq[swap], seq[swap + 1] = seq[swap + 1].copy(), seq[swap].copy()
        ts[swap], ts[swap + 1] = ts[swap + 1].copy(), ts[swap].copy()
        dup = np.flatnonzero(rng.random(seq.size) < 0.001)
        seq = np.insert(seq, dup + 1, seq[dup])
        ts = np.insert(ts, dup + 1, ts[dup])
        t = np.insert(t, dup + 1, t[dup] + 1e-4)
        se = series(t, seq=seq, rtp_ts=ts, size_bytes=rng.integers(60, 120, seq.size),
                    payload_type=111)
        src, dst = ("10.0.0.1", "100.64.0.1") if i % 2 == 0 else ("100.64.0.1", "10.0.0.1")
        sp, dp = (4000 + i // 2, 5000 + i // 2) if i % 2 == 0 else (5000 + i // 2, 4000 + i // 2)
        out.append(stream(se, index=i, codec="opus", clock_hz=48000, src=src, sport=sp,
                          dst=dst, dport=dp, reverse=i ^ 1, call=i // 2))
    return out


def _time(label: str, streams: list[Stream], calls: list[Call]) -> None:
    n = sum(len(s.series) for s in streams)
    t0 = time.perf_counter()
    q = capture_quality(streams, calls)
    dt = time.perf_counter() - t0
    t1 = time.perf_counter()
    for v in q.values():
        v.to_dict()
    dj = time.perf_counter() - t1
    print(f"{label}: {len(streams)} streams, {n} packets: capture_quality {dt:.3f} s "
          f"({dt / n * 1e9:.0f} ns/packet), to_dict {dj:.3f} s")


def main(argv: list[str]) -> None:
    if argv:
        from analyzer.api import read_capture
        cap = read_capture(argv[0])
        media = [s for s in cap.streams if s.is_media]
        _time(argv[0], list(cap.streams), list(cap.calls))
        t0 = time.perf_counter()
        for s in media:
            stream_quality(s)
        print(f"  stream_quality per stream, no call context: {time.perf_counter() - t0:.3f} s")
        return
    many = synthetic_streams(1_000_000, 600)
    calls = [Call(k, (2 * k, 2 * k + 1), None, 0.0, 0.0) for k in range(300)]
    _time("600 streams", many, calls)
    one = synthetic_streams(1_000_000, 1)
    _time("1 stream", [one[0]], [])


if __name__ == "__main__":
    main(sys.argv[1:])
