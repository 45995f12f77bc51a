"""Whole-process time of ``analyzer analyze --json`` against TShark's stream table.

    python benchmarks/bench_analyze.py [--runs 3] [--keep DIR] [--case long|concurrent]

Two captures, written once:

* ``long``: a 30-minute two-way call (``analyzer simulate bernoulli``: 2 % loss from the
  middle on, so the detectors and the onset scan have work to do);
* ``concurrent``: 50 concurrent two-way calls of 200 s (``make_capture.py``, 1M packets).

Each is timed ``--runs`` times, alternating with
``tshark -q -o rtp.heuristic_rtp:TRUE -z rtp,streams -r CAPTURE``: the best wall and the
CPU seconds (user + sys, from ``wait4``) of each tool, their ratios (the acceptance is
analyze <= 1.5x tshark), the peak RSS against the file size, and the phase breakdown of
one extra ``--profile-phases`` run. Byte-code caching is left on for the child (as after a
``pip install``), whatever ``PYTHONDONTWRITEBYTECODE`` says here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from child import ChildRun, run_child  # noqa: E402


def make_captures(work: Path, cases: list[str]) -> dict[str, Path]:
    out = {}
    if "long" in cases:
        p = work / "call30min.pcap"
        if not p.exists():
            subprocess.run([sys.executable, "-m", "analyzer", "simulate", "bernoulli", str(p),
                            "--seed", "5", "--no-packets", "-p", "duration_s=1800", "-p",
                            "onset_s=900", "-p", "p=0.02"], check=True, stdout=subprocess.DEVNULL)
        out["long"] = p
    if "concurrent" in cases:
        p = work / "calls50x200s.pcap"
        if not p.exists():
            subprocess.run([sys.executable, str(HERE / "make_capture.py"), str(p), "--packets",
                            "1000000", "--calls", "50", "--seed", "1", "--no-truth"],
                           check=True)
        out["concurrent"] = p
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--keep", type=Path, help="directory to keep the captures and outputs in")
    p.add_argument("--case", choices=("long", "concurrent"), action="append",
                   help="which capture(s) (default both)")
    args = p.parse_args(argv)
    tshark = shutil.which("tshark")
    if not tshark:
        print("tshark not found: install it (apt-get install tshark) to compare",
              file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    work = args.keep or Path(tempfile.mkdtemp(prefix="analyzer-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    caps = make_captures(work, args.case or ["long", "concurrent"])
    for name, cap in caps.items():
        size = cap.stat().st_size
        ours = [sys.executable, "-m", "analyzer", "analyze", "--json", str(cap)]
        theirs = [tshark, "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams", "-r",
                  str(cap)]
        run_child(ours, work / f"{name}.analysis.json", env, ok=(0, 3))  # warm-up
        res: dict[str, list[ChildRun]] = {"analyze": [], "tshark": []}
        for _ in range(args.runs):  # exit 3: analyze found degradation, as it should here
            res["analyze"].append(run_child(ours, work / f"{name}.analysis.json", env,
                                            ok=(0, 3)))
            res["tshark"].append(run_child(theirs, work / f"{name}.tshark.txt", env))
        print(f"\n{name}: {cap.name}, {size / 2**20:.1f} MiB")
        best = {}
        for tool, rs in res.items():
            wall, cpu = min(r.wall_s for r in rs), min(r.cpu_s for r in rs)
            rss = max(r.peak_rss_bytes for r in rs)
            best[tool] = (wall, cpu, rss)
            print(f"  {tool:8s} best wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS "
                  f"{rss / 2**20:6.1f} MiB  (walls: {', '.join(f'{r.wall_s:.2f}' for r in rs)})")
        a, t = best["analyze"], best["tshark"]
        print(f"  analyze / tshark: wall {a[0] / t[0]:.2f}x, cpu {a[1] / t[1]:.2f}x "
              "(acceptance: <= 1.5x); analyze peak RSS - file size: "
              f"{(a[2] - size) / 2**20:+.0f} MiB")
        err = run_child([*ours, "--profile-phases"], work / f"{name}.analysis.json", env,
                        ok=(0, 3)).stderr
        print("  phases of one more run (stderr of --profile-phases):")
        for line in err.strip().splitlines()[-12:]:
            print("   ", line)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
