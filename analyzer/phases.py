"""Where a run's time goes: named phases, timed only when asked (``--profile-phases``).

``@timed("stats")`` on a function or ``with phase("render"):`` around a block adds its
wall and CPU seconds to that phase; a phase inside another is counted once, in the inner
one (the outer gets its own time only). Off by default: then a timed call costs one check.
The table also has ``startup``: the process's time before :func:`start` (interpreter and
imports), read from ``/proc`` where there is one.
"""

from __future__ import annotations

import functools
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: The order phases are listed in (others follow in the order first seen).
ORDER = ("startup", "read", "dissect", "group", "stats", "quality", "features", "detect",
         "render")

#: name -> [wall s, cpu s, growth of the peak RSS in MiB]; None when off
_totals: dict[str, list[float]] | None = None
_stack: list[list[float]] = []  # per open phase: [wall s, cpu s, MiB] taken by inner phases
_failed_in: list[str] = []  # the innermost phase an exception left (kept until taken)


def failed_stage() -> str | None:
    """The innermost phase the last exception escaped from (and forget it): what the
    command line names in an internal-error line."""
    name = _failed_in[0] if _failed_in else None
    _failed_in.clear()
    return name


def start() -> None:
    """Begin timing phases (the time so far goes to ``startup``)."""
    global _totals
    _totals = {}
    cpu = time.process_time()
    _totals["startup"] = [_process_age_s() or cpu, cpu, _peak_rss_mib()]


def enabled() -> bool:
    return _totals is not None


def _note_failure(name: str) -> None:
    if not _failed_in:  # the innermost phase sees the exception first
        _failed_in.append(name)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase ``name`` (nothing when timing is off); an exception that
    escapes it records ``name`` as where it happened (:func:`failed_stage`)."""
    if _totals is None:
        try:
            yield
        except Exception:
            _note_failure(name)
            raise
        return
    inner = [0.0, 0.0, 0.0]
    _stack.append(inner)
    w0, c0, m0 = time.perf_counter(), time.process_time(), _peak_rss_mib()
    try:
        yield
    except Exception:
        _note_failure(name)
        raise
    finally:
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        grew = _peak_rss_mib() - m0
        _stack.pop()
        tot = _totals.setdefault(name, [0.0, 0.0, 0.0])
        tot[0] += wall - inner[0]
        tot[1] += cpu - inner[1]
        tot[2] += grew - inner[2]
        if _stack:
            _stack[-1][0] += wall
            _stack[-1][1] += cpu
            _stack[-1][2] += grew


def timed(name: str) -> Callable[[F], F]:
    """Decorator: every call of the function is timed as phase ``name``."""
    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with phase(name):
                return fn(*args, **kwargs)
        return inner  # type: ignore[return-value]
    return wrap


def report() -> list[tuple[str, float, float, float]]:
    """``(phase, wall s, cpu s, MiB the process's peak RSS grew by in it)`` in
    :data:`ORDER`, then any others (``startup``'s MiB is the peak when timing began)."""
    if _totals is None:
        return []
    names = [n for n in ORDER if n in _totals] + [n for n in _totals if n not in ORDER]
    return [(n, _totals[n][0], _totals[n][1], _totals[n][2]) for n in names]


def format_report(rows: list[tuple[str, float, float, float]]) -> str:
    """The phase table as text: wall and CPU seconds, each phase's share of the wall, and
    how much the peak resident memory grew in it (the column sums to the process peak)."""
    total_wall = sum(r[1] for r in rows) or 1.0
    lines = [f"{'phase':10s} {'wall s':>8s} {'cpu s':>8s} {'share':>6s} {'+peak MiB':>10s}"]
    for name, wall, cpu, mib in rows:
        lines.append(f"{name:10s} {wall:8.3f} {cpu:8.3f} {100 * wall / total_wall:5.1f}% "
                     f"{mib:10.0f}")
    lines.append(f"{'total':10s} {sum(r[1] for r in rows):8.3f} "
                 f"{sum(r[2] for r in rows):8.3f} {'':6s} {sum(r[3] for r in rows):10.0f}")
    return "\n".join(lines)


def _peak_rss_mib() -> float:
    """The process's peak resident set size so far, in MiB (``getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def _process_age_s() -> float | None:
    """Seconds since this process started (Linux ``/proc``), else ``None``."""
    try:
        with open(f"/proc/{os.getpid()}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None
