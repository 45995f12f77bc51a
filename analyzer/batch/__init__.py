"""Fleets of captures: ``run_batch(inputs, out)`` analyses every capture (locally on a
process pool, or on a Dask cluster), resumably, and writes per-capture lines, full analyses,
call and finding tables and the population summary (see :mod:`analyzer.batch.run`)."""

from analyzer.batch.executors import DaskPool, LocalPool
from analyzer.batch.inputs import Input, expand, meta_for, meta_from_path, read_manifest
from analyzer.batch.run import BatchResult, capture_id, plan, run_batch
from analyzer.batch.task import Outcome, Task, run_task

__all__ = ["BatchResult", "DaskPool", "Input", "LocalPool", "Outcome", "Task", "capture_id",
           "expand", "meta_for", "meta_from_path", "plan", "read_manifest", "run_batch",
           "run_task"]
