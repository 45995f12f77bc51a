"""Memory on hostile and big inputs, whole process, beside the file size.

    python benchmarks/bench_hostile.py [--flows 1000000] [--big-packets 13900000] [--skip-big]

Writes into a temporary folder (1) a capture of ``--flows`` UDP flows of 1-3 datagrams each
(a port scan, a busy NAT: every flow is its own tiny stream) and (2) the big benchmark
capture of ``benchmarks/make_capture.py --packets N`` (600 streams; 13.9M packets is about
2 GB), then runs ``analyzer flows --json`` and ``analyzer analyze --json`` on each under
``/usr/bin/time -v`` and prints wall time and peak RSS beside the file size, with the bounds
of the speed issue (flows <= 0.5x the file, analyze <= 0.75x on the big capture and <= file
+ 80 MiB otherwise). A benchmark, never a unit test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.simulate.pcapwriter import PcapWriter, build_udp_frames  # noqa: E402

BATCH_FLOWS = 200_000


def write_many_flows(path: Path, flows: int, seed: int = 1) -> int:
    """``flows`` distinct UDP 5-tuples of 1-3 datagrams (48-200 bytes) each, in time
    order over 10 minutes; returns the number of datagrams written."""
    rng = np.random.default_rng(seed)
    written = 0
    t0 = 1_755_072_000 * 10**9
    with PcapWriter(path) as w:
        for first in range(0, flows, BATCH_FLOWS):
            n = min(BATCH_FLOWS, flows - first)
            ids = np.arange(first, first + n, dtype=np.int64)
            per = rng.integers(1, 4, n)
            flow = np.repeat(ids, per)
            src = 0x0A000000 + (flow % 60_000)  # 10.0.x.y behind a NAT
            dst = 0xC6336400 + (flow // 60_000) % 200  # 198.51.100.0/24 servers
            sport = 1024 + (flow % 60_000).astype(np.int64)
            dport = 1 + (flow // 12_000_000 + flow * 7919) % 65_000
            sizes = rng.integers(48, 201, flow.size)
            off = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            buf = rng.integers(0, 256, int(sizes.sum()), dtype=np.uint8)
            ts = t0 + np.sort(rng.integers(0, 600 * 10**9, flow.size))
            t0 = int(ts[-1]) + 1
            w.write(ts, build_udp_frames(src, dst, sport, dport, buf, off, sizes))
            written += int(flow.size)
    return written


def measure(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of ``argv`` as a whole process."""
    t = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True,
                         check=False)
    wall = time.perf_counter() - t
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    if run.returncode != 0 or m is None:
        raise SystemExit(f"{' '.join(argv)} failed ({run.returncode}): {run.stderr[-500:]}")
    return wall, int(m.group(1)) * 1024


def report(name: str, path: Path, bounds: dict[str, float]) -> None:
    size = path.stat().st_size
    print(f"\n{name}: {path.name}, {size / 2**20:.0f} MiB")
    for cmd in ("flows", "analyze"):
        wall, rss = measure([sys.executable, "-m", "analyzer", cmd, str(path), "--json"])
        bound = bounds[cmd]
        ok = "within" if rss <= bound * size or (cmd == "analyze" and bound == 0
                                                   and rss <= size + 80 * 2**20) else "OVER"
        print(f"  {cmd:8s} {wall:7.1f} s   peak RSS {rss / 2**20:7.0f} MiB = "
              f"{rss / size:4.2f}x the file   ({ok} the bound)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("--big-packets", type=int, default=13_900_000)
    ap.add_argument("--skip-big", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        many = Path(tmp) / "many-flows.pcap"
        n = write_many_flows(many, args.flows)
        print(f"wrote {many.name}: {args.flows} flows, {n} datagrams")
        report("many tiny flows", many, {"flows": 0.5, "analyze": 0.0})
        if not args.skip_big:
            big = Path(tmp) / "big.pcap"
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_capture.py"),
                            str(big), "--packets", str(args.big_packets), "--calls", "300",
                            "--no-truth"], check=True)
            report("big capture", big, {"flows": 0.5, "analyze": 0.75})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
