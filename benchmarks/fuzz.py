"""The long fuzz run: hostile captures through the whole pipeline, no crash, no runaway
memory, no hang.

    python benchmarks/fuzz.py [--inputs 100000] [--workers 2] [--seed 1] [--out DIR]
                              [--public] [--bomb-mib 64] [--timeout 20] [--memory-gib 3]
                              [--save-corpus tests/fuzz/corpus]
                              [--save-public-json tests/fuzz/public_regressions.json]

Input ``i`` of ``--seed S`` is always the same bytes (``tests/fuzz/mutate.py``), over short
seeds cut from the project's captures and simulated calls (``tests/fuzz/seeds.py``); with
``--public`` every public capture beside the repository is fuzzed too, each on its own
(input ``i`` of that capture alone), for as many inputs again. Prints the outcome table
(class x mutation kind), failure sites with an example input, library warnings that reached
the caller, inputs/s, the slowest inputs and the workers' peak RSS; writes each failing
input (up to ``--keep-per-site`` per failure site) to ``--out`` for triage.

``--save-corpus DIR`` minimises one input per failure site found on the project's seeds
and writes it to DIR (with ``index.json``); ``--save-public-json PATH`` lists one
(public capture, seed, index, outcome) per failure site found on public captures.
Exit status 1 when any input ended ``unexpected``, ``memory`` or ``hang``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fuzz.harness import Harness, Outcome  # noqa: E402
from tests.fuzz.minimize import Minimizer  # noqa: E402
from tests.fuzz.mutate import Mutant, mutant  # noqa: E402
from tests.fuzz.seeds import SEED_RECORDS, project_seeds, public_seed, public_seed_paths  # noqa: E402
from tests.fuzz.summary import Tally  # noqa: E402

#: Corpus files larger than this are not kept (the corpus lives in the repository).
CORPUS_MAX_BYTES = 20_000
#: Timeout while minimising: a candidate that runs this long counts as still hanging.
MINIMIZE_TIMEOUT_S = 6.0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80]


def site_slug(out: Outcome) -> str:
    return _slug(f"{out.cls}-{out.stage}-{out.error}-{out.where or 'unknown'}")


def _suffix(data: bytes) -> str:
    if data[:2] == b"\x1f\x8b":
        return ".pcap.gz"
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return ".pcapng"
    return ".pcap"


def _inputs(args: argparse.Namespace) -> tuple[dict[str, Mutant], list]:
    """A lazy stream of (key, name, data) plus the map key -> mutant it fills as it goes."""
    made: dict[str, Mutant] = {}
    seeds = project_seeds()
    publics = public_seed_paths() if args.public else []
    pub_seeds = {rel: [public_seed(rel)] for rel in publics}

    def gen():  # one project input, then (with --public) one public input, in turn
        for i in range(args.inputs):
            m = mutant(seeds, args.seed, i, bomb_mib=args.bomb_mib)
            made[m.name] = m
            yield m.name, m.name, m.data
            if publics:
                rel = publics[i % len(publics)]
                pm = mutant(pub_seeds[rel], args.seed, i // len(publics), bomb_mib=args.bomb_mib)
                made[pm.name] = pm
                yield pm.name, pm.name, pm.data

    return made, gen()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per input")
    ap.add_argument("--memory-gib", type=float, default=3.0, help="RLIMIT_AS per worker")
    ap.add_argument("--bomb-mib", type=int, default=64, help="zero MiB in a gzip bomb")
    ap.add_argument("--public", action="store_true", help="also fuzz the public captures")
    ap.add_argument("--out", type=Path, default=REPO / "reports" / "fuzz",
                    help="folder for failing inputs")
    ap.add_argument("--keep-per-site", type=int, default=5)
    ap.add_argument("--save-corpus", type=Path, default=None)
    ap.add_argument("--save-public-json", type=Path, default=None)
    args = ap.parse_args(argv)

    made, stream = _inputs(args)
    tally = Tally()
    kept: dict[str, int] = {}
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    t0 = time.perf_counter()
    last = t0
    tty = sys.stderr.isatty()
    harness = Harness(workers=args.workers, timeout_s=args.timeout,
                      memory_bytes=int(args.memory_gib * (1 << 30)))
    signal.signal(signal.SIGTERM, _interrupt)
    with harness, contextlib.suppress(KeyboardInterrupt):  # ^C / SIGTERM: report so far
        for key, out in harness.run(stream):
            m = made.pop(str(key))
            tally.add(m.name, m.kind, out)
            if out.bad:
                slug = site_slug(out)
                if kept.get(slug, 0) < args.keep_per_site:
                    kept[slug] = kept.get(slug, 0) + 1
                    path = args.out / slug / (_slug(m.name) + _suffix(m.data))
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(m.data)
                    index.append({"file": str(path.relative_to(args.out)), "input": m.name,
                                  "seed": m.seed, "run_seed": m.run_seed, "index": m.index,
                                  "mutations": list(m.chain), **out.to_dict()})
            now = time.perf_counter()
            if now - last > (2 if tty else 30):  # progress on stderr; a line a while in a log
                last = now
                print(f"{tally.total} inputs, {tally.bad} failing, "
                      f"{tally.total / (now - t0):.1f}/s", end="\r" if tty else "\n",
                      file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t0
    peak = harness.peak_rss_mib
    if tty:
        print(file=sys.stderr)
    (args.out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(tally.table())
    print()
    print(f"{tally.total} inputs in {elapsed:.1f} s: {tally.total / elapsed:.1f} inputs/s "
          f"with {args.workers} workers; peak RSS of a worker {peak:.0f} MiB; "
          f"failing inputs in {args.out}")
    if args.save_corpus is not None or args.save_public_json is not None:
        save_regressions(args, index)
    return 1 if tally.bad else 0


def save_regressions(args: argparse.Namespace, index: list[dict]) -> None:
    """Minimise one project input per failure site into the corpus; list one public input
    per failure site in the JSON."""
    sites: dict[tuple, dict] = {}
    for row in index:
        public = row["seed"].startswith("public:")
        key = (public, row["cls"], row["stage"], row["error"], row["where"])
        sites.setdefault(key, row)
    corpus_rows, public_rows = [], []
    with Harness(workers=args.workers, timeout_s=MINIMIZE_TIMEOUT_S,
                 memory_bytes=int(args.memory_gib * (1 << 30))) as h:
        mini = Minimizer(h)
        for (public, *_), row in sorted(sites.items(), key=lambda kv: str(kv[0])):
            if public:
                rel = re.sub(r"^public:(.*)\[:\d+\]$", r"\1", row["seed"])
                public_rows.append({"capture": rel, "records": SEED_RECORDS,
                                    "run_seed": row["run_seed"], "index": row["index"],
                                    "mutations": row["mutations"], "outcome": row["cls"],
                                    "stage": row["stage"], "error": row["error"],
                                    "where": row["where"]})
                continue
            if args.save_corpus is None:
                continue
            data = (args.out / row["file"]).read_bytes()
            target = Outcome(row["cls"], row["stage"], row["error"], row["message"],
                             row["where"])
            small = mini.minimize(data, target)
            print(f"minimised {row['input']}: {len(data)} -> {len(small)} bytes "
                  f"({mini.trials} trials) [{row['cls']} {row['where']}]")
            if len(small) > CORPUS_MAX_BYTES:
                print("  too large for the corpus; skipped")
                continue
            name = site_slug(target) + _suffix(small)
            args.save_corpus.mkdir(parents=True, exist_ok=True)
            (args.save_corpus / name).write_bytes(small)
            corpus_rows.append({"file": name, "from": row["input"],
                                "mutations": row["mutations"], "outcome": row["cls"],
                                "stage": row["stage"], "error": row["error"],
                                "where": row["where"], "message": row["message"][:200]})
    if args.save_corpus is not None:
        (args.save_corpus / "index.json").write_text(json.dumps(corpus_rows, indent=1) + "\n")
    if args.save_public_json is not None:
        args.save_public_json.write_text(json.dumps(public_rows, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
