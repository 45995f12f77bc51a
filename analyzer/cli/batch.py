"""``analyzer batch INPUT... -o OUT``: the command line of :func:`analyzer.batch.run_batch`."""

from __future__ import annotations

import argparse
import os
import re
from typing import TextIO

from analyzer.cli.status import ExitStatus
from analyzer.errors import UsageError

UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def auto_memory_per_worker(workers: int | None) -> int:
    """The machine's memory shared out over the local workers (one per core by default),
    at least 2 GiB: a 10 GB capture needs about 6 GiB to analyse."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30
    n = workers or os.cpu_count() or 1
    return max(2 << 30, int(0.9 * total) // n)


def parse_size(text: str) -> int:
    """``"2G"``, ``"512M"``, ``"1.5GiB"`` -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if not m:
        raise UsageError(f"--memory-per-worker wants a size such as 2G or 512M, got {text!r}")
    return int(float(m.group(1)) * UNITS[m.group(2).lower()])


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "batch", help="analyse a fleet of captures (locally or on a Dask cluster) into "
        "per-capture lines, call and finding tables and population statistics",
        description="Analyse every capture of INPUT (files, folders walked recursively, "
        "glob patterns) into OUT: captures.jsonl (one line per input), analyses/<id>.json, "
        "calls.parquet, findings.parquet, population.json and summary.pdf. A rerun skips "
        "captures already analysed whose content is unchanged.")
    b.add_argument("inputs", nargs="+", metavar="INPUT")
    b.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output folder (created; never over an input)")
    b.add_argument("--manifest", metavar="CSV", help="per-capture metadata: a 'capture' "
                   "column and any of vantage, isp, asn, country, network, app, date, vpn "
                   "(yes/no), baseline (a capture path)")
    b.add_argument("--meta-from-path", metavar="PATTERN",
                   help="metadata from the path, e.g. '{isp}/{app}/{date}/*.pcap'")
    b.add_argument("--group-by", default="isp,app,period", metavar="COLS",
                   help="metadata columns the population statistics group by "
                   "(default isp,app,period; period is the ISO week of the date)")
    b.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask distributed "
                   "scheduler (tcp://host:8786) instead of local processes (needs the "
                   "'dask' extra; inputs must be readable by the workers at the same path)")
    b.add_argument("--workers", type=int, metavar="N", help="local worker processes "
                   "(default one per core)")
    b.add_argument("--memory-per-worker", default="auto", metavar="SIZE",
                   help="address-space limit of each local worker, e.g. 4G (default: 90%% of "
                   "the machine's memory shared out over the workers, at least 2G); a "
                   "capture needing more gets an error line")
    b.add_argument("--retry-errors", action="store_true",
                   help="analyse again the inputs whose earlier run ended in an error")
    b.add_argument("--no-summary", action="store_true", help="skip summary.pdf")
    b.add_argument("--fail-on-detect", action="store_true",
                   help="exit with status 3 when any capture is degraded or blocked")


def cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.batch import plan, run_batch
    from analyzer.cli.commands import limits_of
    from analyzer.cli.outputs import InputFile, OutputPath, check_outputs
    from analyzer.cli.progress import batch_bar_for
    limits = limits_of(args)  # a bad --limit is a usage error before any work
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    group_by = tuple(c.strip() for c in args.group_by.split(",") if c.strip())
    if not group_by:
        raise UsageError("--group-by needs at least one column")
    items = plan(args.inputs, args.output, manifest=args.manifest,
                 meta_from_path=args.meta_from_path)
    if not items:
        raise UsageError("no input file found")
    check_outputs([InputFile("capture", i.path) for i in items]
                  + [InputFile("baseline capture", b) for b in
                     {i.meta["baseline"] for i in items if i.meta.get("baseline")}],
                  [OutputPath("-o", args.output, directory=True)])
    bar = batch_bar_for(err)
    try:
        res = run_batch(items, args.output, scheduler=args.scheduler, workers=args.workers,
                        memory_per_worker=auto_memory_per_worker(args.workers)
                        if args.memory_per_worker == "auto" else
                        parse_size(args.memory_per_worker),
                        group_by=group_by, retry_errors=args.retry_errors,
                        summary=not args.no_summary, progress=bar,
                        limits=limits)
    finally:
        if bar is not None:
            bar.close()
    out.write(f"{res.total} inputs: {res.analysed} analysed now, {res.skipped} done before; "
              f"{res.errors} errors; {res.flagged} degraded or blocked; {res.calls} calls "
              f"({res.elapsed_s:.1f} s)\n")
    if res.population is not None:
        for g in res.population.flagged:
            from analyzer.report.population import describe
            out.write("flagged " + "\n".join(describe(g)) + "\n")
    out.write(f"wrote {args.output}/captures.jsonl, calls.parquet, findings.parquet"
              f"{'' if args.no_summary else ', summary.pdf'}\n")
    if args.fail_on_detect and res.flagged:
        return ExitStatus.DETECTED
    return ExitStatus.OK
