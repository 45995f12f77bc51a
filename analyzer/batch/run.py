"""``run_batch``: analyse a fleet of captures into an output folder, resumably.

The client (this process) lists the inputs, hashes each, skips those whose output exists
for the same content, ships the rest to an executor (a local process pool, or a Dask
cluster with ``scheduler=``) and writes every output itself as results come back:

* ``OUT/analyses/<id>.json`` - the full analysis, written whole or not at all, then
* ``OUT/captures.jsonl`` - one line per input (appended and synced, compacted at the end),
* ``OUT/calls.parquet``, ``OUT/findings.parquet`` - rebuilt from the analyses each run,
* ``OUT/population.json`` and ``OUT/summary.pdf`` - the population statistics.

Workers need only read the inputs (and baselines); they never write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.atomic import atomic_write, remove_stale_temps
from analyzer.batch.executors import DaskPool, Executor, LocalPool, TaskFn
from analyzer.batch.inputs import Input, expand, meta_for
from analyzer.batch.journal import Journal
from analyzer.batch.tables import (
    CALL_COLUMNS,
    FINDING_COLUMNS,
    call_rows,
    finding_rows,
    write_parquet,
)
from analyzer.batch.task import Outcome, Task, one_line, run_task
from analyzer.limits import Limits
from analyzer.population import DEFAULT_GROUP_BY, Population, summarize

#: ``progress(done, total, calls)`` after each capture.
Progress = Callable[[int, int, int], None]
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class BatchResult:
    """What a run did: inputs, how many were analysed now, skipped (done before), errors
    (now or before), captures flagged (degraded or blocked), calls, the population."""

    total: int
    analysed: int
    skipped: int
    errors: int
    flagged: int
    calls: int
    elapsed_s: float
    population: Population | None = None
    lines: Sequence[Mapping[str, Any]] = field(default=(), repr=False)


def capture_id(path: str) -> str:
    """The name of a capture's outputs: its file stem and a hash of the path as given."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(path).name)[:60] or "capture"
    return f"{stem}-{hashlib.sha1(path.encode('utf-8', 'surrogateescape')).hexdigest()[:10]}"


def sha256_of(path: str) -> str | None:
    """The content hash of a file (``None`` when it cannot be read)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(HASH_CHUNK):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def _done_before(line: Mapping[str, Any] | None, sha: str | None, baseline: str | None,
                 out: Path, retry_errors: bool) -> bool:
    if line is None or sha is None or line.get("sha256") != sha:
        return False
    if line.get("baseline") != baseline:
        return False
    if line.get("status") == "error":
        return not retry_errors
    return (out / "analyses" / f"{line.get('id')}.json").is_file()


def _line(task: Task, outcome: Outcome, hash_s: float) -> dict[str, Any]:
    calls = len((outcome.analysis or {}).get("calls") or [])
    return {"capture": task.capture, "id": task.id, "status": outcome.status,
            "verdict": outcome.verdict, "interference": outcome.interference,
            "error": outcome.error, "calls": calls, "sha256": task.sha256,
            "baseline": task.baseline, "warnings": list(outcome.warnings),
            "hash_s": round(hash_s, 4), "analyse_s": round(outcome.analyse_s, 4),
            "worker": outcome.worker,
            "worker_peak_rss_mib": round(outcome.worker_peak_rss_mib, 1),
            "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def _executor(scheduler: Any, workers: int | None, memory_bytes: int | None,
              fn: TaskFn) -> Executor:
    if scheduler is not None:
        return DaskPool(scheduler, fn=fn)
    return LocalPool(workers, memory_bytes=memory_bytes, fn=fn)


def plan(inputs: Sequence[str], out: str | os.PathLike[str], *, manifest: str | None = None,
         meta_from_path: str | None = None) -> list[Input]:
    """The captures a batch will read, with their metadata (the output folder is never
    walked)."""
    return meta_for(expand(inputs, skip=[out]), manifest=manifest,
                    path_pattern=meta_from_path)


def run_batch(inputs: Sequence[str] | Sequence[Input], out: str | os.PathLike[str], *,
              manifest: str | None = None, meta_from_path: str | None = None,
              scheduler: Any = None, workers: int | None = None,
              memory_per_worker: int | None = None,
              group_by: Sequence[str] = DEFAULT_GROUP_BY, retry_errors: bool = False,
              summary: bool = True, progress: Progress | None = None,
              fn: TaskFn = run_task, limits: Limits | None = None) -> BatchResult:
    """Analyse ``inputs`` (paths, folders, globs, or planned :class:`Input` items) into
    the folder ``out`` (see the module's docstring); rerunning skips what is done.
    ``limits``: the resource bounds of each analysis (default: the defaults)."""
    t0 = time.perf_counter()
    outdir = Path(out)
    remove_stale_temps(outdir)  # a batch killed mid-write left them; it owns this folder
    items = [i for i in inputs if isinstance(i, Input)]
    if len(items) != len(inputs):
        items = plan([str(i) for i in inputs], out, manifest=manifest,
                     meta_from_path=meta_from_path)
    journal = Journal.open(outdir / "captures.jsonl")
    tasks, skipped = [], 0
    hash_s: dict[str, float] = {}
    for item in items:
        t1 = time.perf_counter()
        sha = sha256_of(item.path)
        hash_s[item.path] = time.perf_counter() - t1
        baseline = item.meta.get("baseline") or None
        if _done_before(journal.latest.get(item.path), sha, baseline, outdir, retry_errors):
            skipped += 1
            continue
        tasks.append(Task(capture_id(item.path), item.path, sha, baseline, dict(item.meta),
                          limits))
    total, done, calls = len(items), skipped, 0
    if progress is not None:
        progress(done, total, calls)
    analysed = 0
    if tasks:
        executor = _executor(scheduler, workers, memory_per_worker, fn)
        try:
            for task, outcome in executor.run(tasks):
                if outcome.status == "ok" and outcome.analysis is not None:
                    try:
                        with atomic_write(outdir / "analyses" / f"{task.id}.json") as fh:
                            json.dump(outcome.analysis, fh, ensure_ascii=False, indent=1)
                    except (OSError, ValueError) as exc:
                        outcome = Outcome(task.id, task.capture, "error",
                                          error=f"writing its analysis: {one_line(exc)}",
                                          analyse_s=outcome.analyse_s, worker=outcome.worker)
                journal.append(_line(task, outcome, hash_s.get(task.capture, 0.0)))
                analysed += 1
                done += 1
                calls += len((outcome.analysis or {}).get("calls") or [])
                if progress is not None:
                    progress(done, total, calls)
        finally:
            executor.close()
            journal.close()
    order = [i.path for i in items]
    journal.compact(order)
    lines = [journal.latest[p] for p in order if p in journal.latest]
    population = _tables(items, journal, outdir, group_by, summary)
    return BatchResult(total, analysed, skipped,
                       sum(1 for x in lines if x.get("status") == "error"),
                       sum(1 for x in lines if x.get("verdict") in ("degraded", "blocked")),
                       population.calls if population else 0,
                       time.perf_counter() - t0, population, lines)


def _tables(items: Sequence[Input], journal: Journal, outdir: Path,
            group_by: Sequence[str], summary: bool) -> Population | None:
    calls: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for item in items:
        line = journal.latest.get(item.path)
        if line is None or line.get("status") != "ok":
            continue
        try:
            doc = json.loads((outdir / "analyses" / f"{line['id']}.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        calls += call_rows(line["id"], item.path, doc, item.meta)
        findings += finding_rows(line["id"], item.path, doc, item.meta)
    write_parquet(calls, outdir / "calls.parquet", CALL_COLUMNS)
    write_parquet(findings, outdir / "findings.parquet", FINDING_COLUMNS)
    population = summarize(calls, group_by=group_by) if calls else None
    with atomic_write(outdir / "population.json") as fh:
        json.dump(None if population is None else population.to_dict(), fh, indent=1)
    if summary:
        from analyzer.report.population import write_summary
        write_summary(population, calls, outdir / "summary.pdf")
    return population
