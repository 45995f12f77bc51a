"""The unit of work a batch ships to a worker: :func:`run_task` (a :class:`Task` in, an
:class:`Outcome` out), the same function for the local process pool and a Dask cluster.

A task never raises: whatever goes wrong with its capture (a truncated file, a text file,
a missing baseline, a bug, running out of memory) comes back as an ``error`` outcome with a
one-line message. The worker returns the analysis as JSON-ready data; the client writes it.
"""

from __future__ import annotations

import os
import resource
import socket
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analyzer.limits import Limits

#: Memory limit this process set for itself (address space, bytes), once.
_limit_set: int | None = None


@dataclass(frozen=True)
class Task:
    """One capture to analyse: its id (the name of its analysis file), the path as given,
    its content hash (computed by the client), a baseline capture, the metadata, the
    resource bounds (``None``: the defaults)."""

    id: str
    capture: str
    sha256: str | None
    baseline: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    limits: Limits | None = None


@dataclass(frozen=True)
class Outcome:
    """What a worker returns: ``status`` ``ok`` or ``error``, the verdicts, the analysis
    (``Analysis.to_dict()``), a one-line error, timings and the worker's name."""

    id: str
    capture: str
    status: str
    verdict: str | None = None
    interference: str | None = None
    error: str | None = None
    analysis: Mapping[str, Any] | None = None
    analyse_s: float = 0.0
    worker: str = ""
    warnings: tuple[str, ...] = ()
    #: the worker process's peak resident memory so far (it may have analysed other
    #: captures before: the largest of them), MiB; 0 where unknown
    worker_peak_rss_mib: float = 0.0


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def interference_of(obj: Any) -> str | None:
    """The ``interference`` of an analysis or a call, as a word, if the analysis has one."""
    value = getattr(obj, "interference", None)
    if value is None:
        return None
    for attr in ("level", "value", "name"):
        inner = getattr(value, attr, None)
        if isinstance(inner, str):
            return inner
    return str(value)


def limit_memory(max_bytes: int | None) -> None:
    """Cap this process's address space (a worker's initializer): an analysis that would
    need more fails with ``MemoryError`` - one error line - instead of taking the machine."""
    global _limit_set
    from analyzer.memory import limit_heap_retention
    limit_heap_retention()
    if not max_bytes or _limit_set == max_bytes:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    new = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (new, hard))
    _limit_set = max_bytes


def run_task(task: Task) -> Outcome:
    """Analyse one capture (the worker side of a batch)."""
    from analyzer.memory import release_free_memory
    from analyzer.verdict.engine import analyze
    from analyzer.verdict.settings import Settings
    worker = f"{socket.gethostname()}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            analysis = analyze(task.capture, baseline=task.baseline, settings=Settings(
                limits=task.limits if task.limits is not None else Limits()))
        doc = analysis.to_dict()
        doc.setdefault("interference", interference_of(analysis))
        calls = doc.get("calls") or []
        for call, report in zip(calls, analysis.calls, strict=False):
            call.setdefault("interference", interference_of(report))
        return Outcome(task.id, task.capture, "ok", analysis.verdict,
                       interference_of(analysis), None, doc,
                       time.perf_counter() - t0, worker,
                       tuple(dict.fromkeys(" ".join(str(w.message).split()) for w in caught)),
                       peak_rss_mib())
    except MemoryError as exc:
        return Outcome(task.id, task.capture, "error", error=one_line(exc) + " (out of "
                       "memory: raise --memory-per-worker)",
                       analyse_s=time.perf_counter() - t0, worker=worker,
                       worker_peak_rss_mib=peak_rss_mib())
    except Exception as exc:  # every failure is this capture's error line
        return Outcome(task.id, task.capture, "error", error=one_line(exc),
                       analyse_s=time.perf_counter() - t0, worker=worker)
    finally:
        release_free_memory()
