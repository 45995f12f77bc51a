"""Speed and memory of ``analyzer flows --json`` against TShark, in the same run.

    python benchmarks/bench_flows.py [--packets 1200000] [--calls 300] [--runs 3] [--keep DIR]

Writes a synthetic capture of many concurrent calls (``make_capture.py``: loss,
reordering, duplicates, sequence wrap), then runs, each ``--runs`` times, alternating:

* ``analyzer flows --json CAPTURE``
* ``tshark -q -o rtp.heuristic_rtp:TRUE -z rtp,streams -r CAPTURE``

and prints the best wall time, the least CPU time (user + sys), packets/s and peak RSS
(of that child process alone, from ``wait4``) of each, the speed ratios (wall and CPU), and
whether the peak RSS stays below the file size.
It also checks that both tools count the same packets and lost packets on every stream.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from child import ChildRun, run_child  # noqa: E402

TSHARK_ROW = re.compile(
    r"^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+.+?\s+(\d+)\s+"
    r"(-?\d+)\s+\(")


def compare(ours_json: Path, tshark_txt: Path) -> tuple[int, int, list[str]]:
    ours = json.loads(ours_json.read_text())
    mine = {(s["src"], s["sport"], s["dst"], s["dport"], s["ssrc"]): s
            for s in ours["streams"] if s["kind"] == "rtp"}
    total = agree = 0
    diffs = []
    for line in tshark_txt.read_text().splitlines():
        m = TSHARK_ROW.match(line)
        if not m:
            continue
        total += 1
        key = (m[1], int(m[2]), m[3], int(m[4]), int(m[5], 16))
        s = mine.get(key)
        if s and s["packets"] == int(m[6]) and s["lost"] == int(m[7]):
            agree += 1
        elif len(diffs) < 5:
            diffs.append(f"{key}: tshark {m[6]}/{m[7]}, ours "
                         f"{(s['packets'], s['lost']) if s else 'missing'}")
    return agree, total, diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--packets", type=int, default=1_200_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--calls", type=int, default=300, help="concurrent two-way calls")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--keep", type=Path, help="directory to keep the capture and outputs in")
    args = p.parse_args(argv)
    tshark = shutil.which("tshark")
    if not tshark:
        print("tshark not found: install it (apt-get install tshark) to compare",
              file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="analyzer-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cap = work / f"bench-{args.packets}p-{args.calls}c-s{args.seed}.pcap"
    if not cap.exists():  # kept captures are reused (same arguments, same bytes)
        subprocess.run([sys.executable, str(HERE / "make_capture.py"), str(cap), "--packets",
                        str(args.packets), "--calls", str(args.calls), "--seed",
                        str(args.seed), "--no-truth"], check=True)
    size = cap.stat().st_size
    ours_cmd = [sys.executable, "-m", "analyzer", "flows", "--json", str(cap)]
    engine_cmd = [*ours_cmd, "--no-quality"]
    tshark_cmd = [tshark, "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams", "-r",
                  str(cap)]
    res: dict[str, list[ChildRun]] = {"analyzer": [], "engine": [], "tshark": []}
    for _ in range(args.runs):
        res["analyzer"].append(run_child(ours_cmd, work / "analyzer.json"))
        res["engine"].append(run_child(engine_cmd, work / "engine.json"))
        res["tshark"].append(run_child(tshark_cmd, work / "tshark.txt"))
    print(f"capture: {args.packets} packets, {args.calls} calls, {size / 2**20:.1f} MiB ({cap})")
    best = {}
    for name, rs in res.items():
        wall = min(r.wall_s for r in rs)  # the least disturbed run of each tool
        rss = max(r.peak_rss_bytes for r in rs)
        cpu = min(r.cpu_s for r in rs)
        best[name] = (wall, rss, cpu)
        print(f"{name:9s} best {wall:6.2f} s  CPU {cpu:6.2f} s  "
              f"{args.packets / wall / 1e6:5.2f} M packets/s  peak RSS {rss / 2**20:6.1f} MiB  "
              f"(runs: {', '.join(f'{r.wall_s:.2f}' for r in rs)} s)")
    print("analyzer = flows --json with the quality metrics; engine = flows --json "
          "--no-quality (the TShark-equivalent statistics only)")
    for name in ("analyzer", "engine"):
        ratio = best["tshark"][0] / best[name][0]
        cpu_ratio = best["tshark"][2] / best[name][2]
        print(f"speed ratio (tshark / {name}): {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU; "
              f"peak RSS / file size: {best[name][1] / size:.2f}")
    agree, total, diffs = compare(work / "analyzer.json", work / "tshark.txt")
    print(f"streams with equal packets and lost: {agree}/{total}")
    for d in diffs:
        print("  differs:", d)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
