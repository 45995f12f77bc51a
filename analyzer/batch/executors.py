"""Where tasks run: a local process pool or a Dask distributed cluster, behind one small
interface so that the batch loop is the same for both.

``executor.run(tasks)`` yields ``(task, outcome)`` as tasks finish, with at most
``in_flight`` tasks submitted at a time (a million-capture batch holds a few futures, not a
million). A worker that dies (killed by the out-of-memory killer, a crash in native code)
costs only its own capture an error line: the local pool is rebuilt and the tasks that were
running are retried one at a time, each in a fresh process, so the one that kills its
worker is named; Dask retries and names it (``KilledWorker``) itself.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from analyzer.batch.task import Outcome, Task, limit_memory, one_line, run_task

TaskFn = Callable[[Task], Outcome]
#: Tasks each worker process runs before it is replaced (memory fragmentation stays bounded).
TASKS_PER_CHILD = 200


class Executor(Protocol):
    workers: int

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Outcome]]: ...

    def close(self) -> None: ...


def crashed(task: Task, why: str) -> Outcome:
    return Outcome(task.id, task.capture, "error", error=f"worker died while analysing "
                   f"this capture ({why}); it may need more memory than --memory-per-worker")


def _context() -> mp.context.BaseContext:
    # forkserver: workers fork from a clean server process (never from a client that may
    # run threads, such as a Dask client); the analysis modules are loaded there once
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["analyzer.batch.task", "analyzer.verdict.engine"])
    return ctx


class LocalPool:
    """A pool of ``workers`` processes on this machine (default: one per core), each
    capped at ``memory_bytes`` of address space."""

    def __init__(self, workers: int | None = None, *, memory_bytes: int | None = None,
                 fn: TaskFn = run_task, in_flight: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.memory_bytes = memory_bytes
        self.fn = fn
        self.in_flight = in_flight or 2 * self.workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def _new_pool(self, workers: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(workers, mp_context=_context(), initializer=limit_memory,
                                      initargs=(self.memory_bytes,),
                                      max_tasks_per_child=TASKS_PER_CHILD)

    def _alone(self, task: Task) -> Outcome:
        with self._new_pool(1) as solo:
            try:
                return solo.submit(self.fn, task).result()
            except BrokenProcessPool as exc:
                return crashed(task, one_line(exc))

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Outcome]]:
        todo = iter(tasks)
        running: dict[cf.Future[Outcome], Task] = {}
        self._pool = self._pool or self._new_pool(self.workers)
        while True:
            while len(running) < self.in_flight:
                task = next(todo, None)
                if task is None:
                    break
                running[self._pool.submit(self.fn, task)] = task
            if not running:
                return
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            broken = []
            for fut in done:
                task = running.pop(fut)
                try:
                    yield task, fut.result()
                except BrokenProcessPool:
                    broken.append(task)
            if broken:  # every running task failed with the pool: find the culprit
                suspects = broken + list(running.values())
                running.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                for task in suspects:
                    yield task, self._alone(task)
                self._pool = self._new_pool(self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskPool:
    """The same tasks on a Dask distributed cluster: ``scheduler`` is an address
    (``tcp://host:8786``), a ``distributed.Client`` or a ``LocalCluster``."""

    def __init__(self, scheduler: Any, *, fn: TaskFn = run_task,
                 in_flight: int | None = None) -> None:
        from distributed import Client
        if isinstance(scheduler, Client):
            self.client, self._own = scheduler, False
        else:
            self.client, self._own = Client(scheduler), True
        self.fn = fn
        info = self.client.scheduler_info()
        self.workers = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1
        self.in_flight = in_flight or 2 * self.workers

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Outcome]]:
        from distributed import as_completed
        todo = iter(tasks)
        futures: dict[Any, Task] = {}
        queue = as_completed()

        def submit() -> bool:
            task = next(todo, None)
            if task is None:
                return False
            fut = self.client.submit(self.fn, task, pure=False, key=f"analyze-{task.id}-"
                                     f"{os.urandom(4).hex()}")
            futures[fut.key] = task
            queue.add(fut)
            return True

        for _ in range(self.in_flight):
            if not submit():
                break
        for fut in queue:
            task = futures.pop(fut.key)
            try:
                outcome = fut.result()
            except Exception as exc:  # KilledWorker and kin: this capture's error line
                outcome = crashed(task, one_line(exc))
            fut.release()
            yield task, outcome
            submit()

    def close(self) -> None:
        if self._own:
            self.client.close()
