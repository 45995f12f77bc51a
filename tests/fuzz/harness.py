"""Running the whole pipeline on hostile inputs, in child processes with bounds.

Each input goes through every public stage a user reaches::

    read_capture(BytesIO(data)) -> quality_of -> analyze -> json.dumps(to_dict(),
    allow_nan=False) -> verdict.render_text -> report.report_data

and ends in one outcome class:

``ok``          every stage finished
``rejected``    an :class:`analyzer.CaptureError` subclass: the file is wrong (fine)
``unexpected``  any other exception: a bug (type, message, last analyzer frame, stage)
``memory``      MemoryError, or the worker killed at the address-space limit
``hang``        the input took longer than the per-input timeout; the worker is killed

Library warnings (numpy, scipy: anything not of an ``analyzer`` warning class) reaching
the caller are counted apart as ``leaked`` on the outcome.

:func:`run_pipeline` runs one input in this process; :class:`Harness` runs many in
``workers`` spawned processes under ``RLIMIT_AS`` and a per-input timeout, restarting a
worker after a hang or a death.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import multiprocessing as mp
import os
import re
import resource
import signal
import tempfile
import time
import traceback
import warnings
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

OUTCOMES = ("ok", "rejected", "unexpected", "memory", "hang")
BAD_OUTCOMES = ("unexpected", "memory", "hang")
STAGES = ("read", "quality", "analyze", "json", "text", "report")
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MEMORY_BYTES = 3 << 30
#: Seconds a new worker may take to import analyzer and report ready.
STARTUP_TIMEOUT_S = 120.0
#: Threads of the numeric libraries in a worker (two workers share two cores).
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_FRAME_RE = re.compile(r'File "([^"]+)", line (\d+)')


@dataclass(frozen=True)
class Outcome:
    """How one input ended. ``where`` is the last frame inside ``analyzer/`` (file:line)."""

    cls: str
    stage: str = ""
    error: str = ""
    message: str = ""
    where: str = ""
    seconds: float = 0.0
    leaked: tuple[str, ...] = ()
    peak_rss_mib: float = 0.0

    @property
    def bad(self) -> bool:
        return self.cls in BAD_OUTCOMES

    @property
    def signature(self) -> tuple[str, str, str, str]:
        """What tells two failures apart: class, stage, exception type, analyzer frame."""
        return (self.cls, self.stage, self.error, self.where)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["leaked"] = list(self.leaked)
        return d


def _analyzer_root() -> str:
    import analyzer

    return os.path.dirname(os.path.abspath(analyzer.__file__))


def _short(path: str, root: str) -> str:
    return "analyzer/" + os.path.relpath(path, root) if path.startswith(root) else \
        os.path.basename(path)


def last_analyzer_frame(exc: BaseException) -> str:
    """``analyzer/…/file.py:line`` of the innermost traceback frame inside the package."""
    root = _analyzer_root()
    where = ""
    for fr in traceback.extract_tb(exc.__traceback__):
        if fr.filename.startswith(root):
            where = f"{_short(fr.filename, root)}:{fr.lineno}"
    return where


def _is_analyzer_warning(w: warnings.WarningMessage) -> bool:
    return w.category.__module__.split(".")[0] == "analyzer"


def _describe_warning(w: warnings.WarningMessage, root: str) -> str:
    msg = str(w.message).splitlines()[0][:100] if str(w.message) else ""
    return f"{w.category.__name__}: {msg} ({_short(w.filename, root)}:{w.lineno})"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_pipeline(data: bytes, name: str = "fuzz-input", stage_cell: Any = None) -> Outcome:
    """Every stage on ``data``, in this process; ``stage_cell.value`` (optional) follows
    the stage reached, for a watchdog in another process."""
    import analyzer
    from analyzer.report import report_data
    from analyzer.verdict import render_text

    root = _analyzer_root()
    stage = STAGES[0]

    def enter(i: int) -> str:
        if stage_cell is not None:
            stage_cell.value = i
        return STAGES[i]

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            stage = enter(0)
            cap = analyzer.read_capture(io.BytesIO(data), name=name)
            stage = enter(1)
            analyzer.quality_of(cap)
            stage = enter(2)
            analysis = analyzer.analyze(cap)
            stage = enter(3)
            json.dumps(analysis.to_dict(), allow_nan=False)
            stage = enter(4)
            render_text(analysis)
            stage = enter(5)
            report_data(analysis)
            cls, error, message, where = "ok", "", "", ""
            stage = ""
        except analyzer.CaptureError as exc:
            cls, error, message, where = ("rejected", type(exc).__name__, str(exc)[:300],
                                          last_analyzer_frame(exc))
        except MemoryError as exc:
            cls, error, message, where = ("memory", type(exc).__name__, str(exc)[:300],
                                          last_analyzer_frame(exc))
        except Exception as exc:
            cls = "unexpected"
            if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
                cls = "memory"  # thread stacks refused by the address-space limit
            error, message, where = type(exc).__name__, str(exc)[:300], last_analyzer_frame(exc)
    leaked = tuple(_describe_warning(w, root) for w in caught if not _is_analyzer_warning(w))
    return Outcome(cls, stage, error, message, where, time.perf_counter() - t0, leaked,
                   _peak_rss_mib())


# -- the worker processes ------------------------------------------------------------------------
def _worker(conn: Connection, stage_cell: Any, memory_bytes: int, dump_path: str,
            timeout_s: float) -> None:
    for var in THREAD_ENV:
        os.environ[var] = "1"
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C
    import analyzer  # noqa: F401 - imported once, before the first input

    conn.send("ready")
    with open(dump_path, "w") as dump:
        while True:
            try:
                msg = conn.recv()
            except EOFError:
                return
            if msg is None:
                return
            name, data = msg
            dump.seek(0)
            dump.truncate()
            faulthandler.dump_traceback_later(max(timeout_s - 1.0, 0.5), file=dump)
            try:
                out = run_pipeline(data, name, stage_cell)
            finally:
                faulthandler.cancel_dump_traceback_later()
            conn.send(out)


def _hang_frame(dump_path: str, root: str) -> str:
    """The innermost analyzer frame of the thread that ran the pipeline, from the
    faulthandler dump written just before the timeout."""
    try:
        text = Path(dump_path).read_text(errors="replace")
    except OSError:
        return ""
    for section in re.split(r"\n(?=Thread 0x|Current thread 0x)", text):
        if "harness.py" not in section:
            continue
        for m in _FRAME_RE.finditer(section):  # most recent call first
            if m.group(1).startswith(root):
                return f"{_short(m.group(1), root)}:{m.group(2)}"
    return ""


def _vm_hwm_mib(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


@dataclass
class _Slot:
    proc: Any
    conn: Connection
    stage: Any
    dump_path: str
    task: tuple[Hashable, str, bytes] | None = None
    started: float = 0.0
    served: int = 0
    peak_rss_mib: float = 0.0


@dataclass
class Harness:
    """Runs inputs through :func:`run_pipeline` in ``workers`` child processes.

    ``recycle_after`` restarts a worker after that many inputs (bounds slow leaks);
    ``deadline_s`` stops handing out inputs once the whole run has taken that long.
    """

    workers: int = 2
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    recycle_after: int = 5000
    deadline_s: float | None = None
    peak_rss_mib: float = 0.0
    started_workers: int = 0
    _slots: list[_Slot] = field(default_factory=list)
    _tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self) -> _Slot:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="analyzer-fuzz-")
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        stage = ctx.Value("i", 0, lock=False)
        self.started_workers += 1
        dump_path = os.path.join(self._tmp.name, f"worker{self.started_workers}.txt")
        proc = ctx.Process(target=_worker, name=f"fuzz-worker-{self.started_workers}",
                           args=(child, stage, self.memory_bytes, dump_path, self.timeout_s),
                           daemon=True)
        proc.start()
        child.close()
        ready = parent.poll(STARTUP_TIMEOUT_S)
        try:
            hello = parent.recv() if ready else None
        except EOFError:
            hello = None
        if hello != "ready":
            proc.kill()
            proc.join()
            raise RuntimeError(
                f"fuzz worker did not start (exit code {proc.exitcode}); a script using "
                "Harness needs an `if __name__ == \"__main__\":` guard (spawned workers "
                "import the main module)")
        return _Slot(proc, parent, stage, dump_path)

    def _retire(self, slot: _Slot, *, kill: bool) -> None:
        self.peak_rss_mib = max(self.peak_rss_mib, slot.peak_rss_mib,
                                _vm_hwm_mib(slot.proc.pid) if slot.proc.pid else 0.0)
        if kill:
            slot.proc.kill()
        else:
            with contextlib.suppress(OSError, BrokenPipeError):
                slot.conn.send(None)
        slot.proc.join(5)
        if slot.proc.is_alive():
            slot.proc.kill()
            slot.proc.join()
        slot.conn.close()

    def close(self) -> None:
        for slot in self._slots:
            self._retire(slot, kill=slot.task is not None)
        self._slots = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def run(self, inputs: Iterable[tuple[Hashable, str, bytes]]
            ) -> Iterator[tuple[Hashable, Outcome]]:
        """Yield ``(key, outcome)`` for each ``(key, name, data)``, in completion order."""
        root = _analyzer_root()
        it = iter(inputs)
        t_start = time.monotonic()
        exhausted = False
        while not self._slots or len(self._slots) < self.workers:
            self._slots.append(self._spawn())
        while True:
            out_of_time = self.deadline_s is not None and \
                time.monotonic() - t_start > self.deadline_s
            for i, slot in enumerate(self._slots):
                if slot.task is None and not exhausted and not out_of_time:
                    if slot.served >= self.recycle_after:
                        self._retire(slot, kill=False)
                        slot = self._slots[i] = self._spawn()
                    task = next(it, None)
                    if task is None:
                        exhausted = True
                        continue
                    slot.task, slot.started = task, time.monotonic()
                    slot.stage.value = 0
                    slot.conn.send((task[1], task[2]))
            busy = [s for s in self._slots if s.task is not None]
            if not busy:
                return
            now = time.monotonic()
            wait_s = max(0.0, min(s.started + self.timeout_s - now for s in busy))
            ready = wait([s.conn for s in busy], timeout=min(wait_s, 1.0) + 0.01)
            for i, slot in enumerate(self._slots):
                if slot.task is None:
                    continue
                key = slot.task[0]
                if slot.conn in ready:
                    try:
                        out: Outcome = slot.conn.recv()
                    except (EOFError, OSError):
                        out = self._death(slot)
                        slot.task = None
                        self._retire(slot, kill=True)
                        self._slots[i] = self._spawn()
                        yield key, out
                        continue
                    slot.task = None
                    slot.served += 1
                    slot.peak_rss_mib = max(slot.peak_rss_mib, out.peak_rss_mib)
                    yield key, out
                elif time.monotonic() - slot.started > self.timeout_s:
                    out = Outcome("hang", STAGES[slot.stage.value], "Timeout",
                                  f"no result after {self.timeout_s:g} s",
                                  _hang_frame(slot.dump_path, root),
                                  time.monotonic() - slot.started, (),
                                  _vm_hwm_mib(slot.proc.pid))
                    slot.task = None
                    self._retire(slot, kill=True)
                    self._slots[i] = self._spawn()
                    yield key, out

    def _death(self, slot: _Slot) -> Outcome:
        """The outcome of an input whose worker died (killed at a limit, or crashed)."""
        slot.proc.join(5)
        code = slot.proc.exitcode
        rss = _vm_hwm_mib(slot.proc.pid)
        stage = STAGES[slot.stage.value]
        seconds = time.monotonic() - slot.started
        if code is not None and code < 0:
            sig = signal.Signals(-code).name
            cls = "memory" if -code == signal.SIGKILL else "unexpected"
            return Outcome(cls, stage, "WorkerDied", f"worker killed by {sig}", "", seconds,
                           (), rss)
        return Outcome("unexpected", stage, "WorkerDied", f"worker exited with {code}", "",
                       seconds, (), rss)


# -- one function in a bounded child ------------------------------------------------------------
@dataclass(frozen=True)
class Isolated:
    """What :func:`run_isolated` got: ``cls`` is ``ok`` (``value`` holds the result),
    ``error`` (an exception: ``error``/``message``/``where``), ``memory`` or ``hang``."""

    cls: str
    value: Any = None
    error: str = ""
    message: str = ""
    where: str = ""


def _isolated_child(conn: Connection, func: Any, args: tuple, memory_bytes: int) -> None:
    for var in THREAD_ENV:
        os.environ[var] = "1"
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        conn.send(Isolated("ok", func(*args)))
    except MemoryError as exc:
        conn.send(Isolated("memory", None, type(exc).__name__, str(exc)[:300],
                           last_analyzer_frame(exc)))
    except Exception as exc:
        conn.send(Isolated("error", None, type(exc).__name__, str(exc)[:300],
                           last_analyzer_frame(exc)))


def run_isolated(func: Any, *args: Any, timeout_s: float = DEFAULT_TIMEOUT_S,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES) -> Isolated:
    """``func(*args)`` in a spawned child under ``RLIMIT_AS`` and a timeout (``func`` and
    its result must pickle: a module-level function returning plain data). The timeout
    counts from the child's start, imports included."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_isolated_child, args=(child, func, args, memory_bytes),
                       daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout_s):
            try:
                return parent.recv()
            except EOFError:
                proc.join(5)
                return Isolated("memory" if proc.exitcode == -signal.SIGKILL else "error",
                                None, "WorkerDied", f"exit code {proc.exitcode}")
        return Isolated("hang", None, "Timeout", f"no result after {timeout_s:g} s")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        parent.close()
