"""Verdicts on the public real captures (``/work/shared/captures-public`` or ``--root``).

    python benchmarks/public_verdicts.py                 # the table
    python benchmarks/public_verdicts.py --why           # plus why calls are inconclusive

One line per capture: file, capture verdict, capture interference, then per call
``number:app:verdict/interference:patterns:span`` (patterns: the findings' patterns of
that call; span: the call's length in seconds). The last lines count the capture verdicts
and the calls of 5 s or more by verdict and by interference. The captures are not part of
the project (see their PROVENANCE.md); this only reads them.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import analyzer  # noqa: E402
from analyzer.verdict.interference import inconclusive_reason  # noqa: E402

DEFAULT_ROOT = "/work/shared/captures-public"
SUFFIXES = (".pcap", ".pcapng", ".cap")
LONG_S = 5.0


def captures(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--why", action="store_true",
                    help="print why each inconclusive call of 5 s or more is inconclusive")
    args = ap.parse_args(argv)
    root = Path(args.root)
    if not root.is_dir():
        print(f"{root}: no such directory", file=sys.stderr)
        return 2
    verdicts: Counter[str] = Counter()
    long_calls: Counter[str] = Counter()
    long_level: Counter[str] = Counter()
    for p in captures(root):
        rel = os.path.relpath(p, root)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = analyzer.analyze(str(p))
        except Exception as exc:  # a sweep reports every capture
            print(f"{rel:55} ERROR {type(exc).__name__}: {exc}")
            verdicts["error"] += 1
            continue
        verdicts[a.verdict] += 1
        calls = []
        for c in a.calls:
            span = c.end_s - c.start_s
            pats = ",".join(sorted({f.pattern for f in c.findings}))
            calls.append(f"{c.call + 1}:{c.app}:{c.verdict}/{c.interference}:{pats}:{span:.0f}s")
            if span >= LONG_S:
                long_calls[c.verdict] += 1
                long_level[c.interference] += 1
        print(f"{rel:55} {a.verdict:12} {a.interference:9} " + "; ".join(calls))
        if args.why:
            for c in a.calls:
                if c.verdict == "inconclusive" and c.end_s - c.start_s >= LONG_S:
                    print(f"    call {c.call + 1}: {inconclusive_reason(c)}")
                    for w in c.warnings:
                        print(f"      warning: {w}")
    print("captures: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    print(f"calls of {LONG_S:.0f} s or more: " + ", ".join(
        f"{k} {v}" for k, v in sorted(long_calls.items())) + "; interference " + ", ".join(
        f"{k} {v}" for k, v in sorted(long_level.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
