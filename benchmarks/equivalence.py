"""Same verdicts and numbers before and after a speed change: collect and compare JSONs.

    python benchmarks/equivalence.py collect OUT_DIR [--src TREE] [--sim-dir DIR]
    python benchmarks/equivalence.py compare BEFORE_DIR AFTER_DIR [--rtol 1e-6]

``collect`` runs ``analyzer analyze --json``, ``flows --json`` and ``stats --json`` (with
the analyzer package from TREE, default this checkout) on every lab receiver capture
(``captures/lab/*-receiver.pcap``), the bundled example call and a set of simulated calls
(written once into ``--sim-dir`` with fixed seeds, so both sides read the same files), and
writes one JSON per command and capture into OUT_DIR. To get the "before" side, export the
branch point (``git archive BASE | tar -x -C /tmp/before``) and pass ``--src /tmp/before``.

(The children run in TREE: ``python -m`` puts the working directory ahead of
``PYTHONPATH``, so run elsewhere they would import whatever ``analyzer`` lies there.)

``compare`` walks each pair of JSON documents: verdict strings, labels and counts must be
equal; floats equal within ``--rtol`` (relative) or ``--atol`` (absolute); p-values (keys
``pvalue``, ``*_pvalue``) either equal so or, as a permutation p-value is a Monte Carlo
estimate whose draws and count may change, on the same side of every decision level in
``P_LEVELS``; keys that hold timings are skipped. Exit status 1 when anything differs.

Why that tolerance for p-values, and only for them: the permutation tests (the onset's
loss scan, the periodic-drop calibration) draw a seeded count that adapts (counts of
draws, never time, so reruns agree): they stop once ``STOP_EXCEEDANCES`` (10) nulls
reached the observed statistic - then p = 10 / draws, at least 0.10 for the loss scan
(at most 98 draws of 99) and 0.067 for the periodic test (after 150 of 199 placements),
far above the detectors' levels (0.0025 to 0.01) - or at a fixed checkpoint when no draw
reached it and the fitted Gumbel tail is below 1e-32 - then p = 1e-16, the floor the full
count reports too unless its fitted tail is about twice as wide (both below every level).
The draws up to a stop are the full run's, so a p-value that does not stop is unchanged;
one that stops moves by the Monte Carlo error of the count it would have had. A p-value
that moves across any level of ``P_LEVELS`` (0.1 included) is still reported as a
difference. Every other float (statistics, effects, intervals, the analytic KS p-value
now computed in numpy) must agree within ``--rtol`` / ``--atol``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COMMANDS = ("analyze", "flows", "stats")
SIMULATED = (
    ("clean", 11, ()),
    ("bernoulli", 12, ()),
    ("gilbert", 13, ()),
    ("jitter", 14, ()),
    ("policer", 15, ()),
    ("shaper", 16, ()),
    ("cutoff", 17, ()),
    ("periodic", 18, ()),
    ("blocked", 19, ()),
    ("dtx", 20, ()),
    ("codec_change", 21, ()),
    ("handover", 22, ()),
    ("bernoulli", 23, ("duration_s=600", "onset_s=300", "p=0.02")),
    ("periodic", 24, ("duration_s=300", "framing=telegram")),
    ("clean", 25, ("duration_s=300", "framing=rtp_sdp")),
)
TIMING_KEYS = {"elapsed_s", "seconds", "timings", "phases", "generated_at", "created"}
P_KEYS = ("pvalue", "p_value", "p")
#: Decision levels a p-value is read against (alpha, alpha / 4 signals, suspicious, ...).
P_LEVELS = (1e-6, 0.001, 0.0025, 0.005, 0.01, 0.0125, 0.05, 0.1)


def captures(sim_dir: Path, src: Path) -> list[Path]:
    sim_dir.mkdir(parents=True, exist_ok=True)
    out = sorted((ROOT / "captures" / "lab").glob("*-receiver.pcap"))
    out.append(ROOT / "captures" / "example-call.pcap")
    for kind, seed, params in SIMULATED:
        name = "-".join([kind, str(seed), *(p.replace("=", "") for p in params)])
        path = sim_dir / f"{name}.pcap"
        if not path.exists():
            cmd = [sys.executable, "-m", "analyzer", "simulate", kind, str(path), "--seed",
                   str(seed), "--no-packets"]
            for p in params:
                cmd += ["--param", p]
            subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(src)},
                           cwd=src)
        out.append(path)
    return out


def collect(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(args.src)}
    for cap in captures(args.sim_dir, args.src):
        for command in COMMANDS:
            target = args.out / f"{cap.stem}.{command}.json"
            proc = subprocess.run([sys.executable, "-m", "analyzer", command, "--json",
                                   str(cap)], capture_output=True, env=env, cwd=args.src)
            target.write_bytes(proc.stdout if proc.returncode in (0, 3) else b"null")
            print(f"{target.name}: exit {proc.returncode}", file=sys.stderr)
    return 0


def _is_p(path: str) -> bool:
    last = path.rsplit(".", 1)[-1]
    return last in P_KEYS or last.endswith("_pvalue") or last.endswith("_p")


def diff(a: Any, b: Any, path: str, opts: argparse.Namespace, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in TIMING_KEYS:
                continue
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'after' if k in b else 'before'}")
                continue
            diff(a[k], b[k], f"{path}.{k}", opts, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} != {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff(x, y, f"{path}[{i}]", opts, out)
    elif (isinstance(a, float) or isinstance(b, float)) and isinstance(a, int | float) \
            and isinstance(b, int | float) and not isinstance(a, bool):
        if math.isnan(a) and math.isnan(b):
            return
        tol = max(opts.atol, opts.rtol * max(abs(a), abs(b)))
        if abs(a - b) <= tol:
            return
        if _is_p(path) and all((a < lv) == (b < lv) for lv in P_LEVELS):
            opts.p_moved.append(f"{path}: {a:.3g} -> {b:.3g}")
            return
        out.append(f"{path}: {a!r} != {b!r}")
    elif a != b:
        out.append(f"{path}: {_short(a)} != {_short(b)}")


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 120 else r[:117] + "..."


def compare(args: argparse.Namespace) -> int:
    bad = 0
    args.p_moved = []
    files = sorted(p.name for p in args.before.glob("*.json"))
    for name in files:
        after = args.after / name
        if not after.exists():
            print(f"{name}: missing after")
            bad += 1
            continue
        out: list[str] = []
        diff(json.loads((args.before / name).read_text()), json.loads(after.read_text()),
             "", args, out)
        if out:
            bad += 1
            print(f"{name}: {len(out)} differences")
            for line in out[:12]:
                print("   ", line)
    if args.p_moved:
        print(f"{len(args.p_moved)} permutation p-values moved, each on the same side of "
              f"every level {P_LEVELS}:")
        for line in args.p_moved:
            print("   ", line)
    print(f"{len(files) - bad}/{len(files)} documents equal within tolerance")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("out", type=Path)
    c.add_argument("--src", type=Path, default=ROOT)
    c.add_argument("--sim-dir", type=Path, default=Path("/tmp/analyzer-equivalence-sim"))
    d = sub.add_parser("compare")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    d.add_argument("--rtol", type=float, default=1e-6)
    d.add_argument("--atol", type=float, default=1e-9)
    args = p.parse_args(argv)
    return collect(args) if args.cmd == "collect" else compare(args)


if __name__ == "__main__":
    raise SystemExit(main())
