"""Batch throughput in calls per minute: the local process pool against a Dask LocalCluster
on the same captures (2 workers each), and the LocalCluster's start-up time.

    PYTHONPATH=. python benchmarks/bench_batch.py [--calls 120] [--duration 30]

Prints one JSON object. Each run writes a fresh output folder (nothing is skipped); the
summary PDF is left out so that the figure is the analysis throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer.batch import run_batch
from analyzer.simulate.campaign import make_campaign


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=120)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        per_day = max(1, a.calls // 6)
        c = make_campaign(Path(tmp) / "calls", isps=("isp-a",), apps=("whatsapp",
                          "telegram"), days=3, calls_per_day=per_day, duration_s=a.duration)
        inputs = list(c.paths)
        result: dict[str, object] = {"calls": len(inputs), "duration_s": a.duration,
                                     "workers": a.workers, "cpus": os.cpu_count(),
                                     "load_average_before": os.getloadavg()}
        t = time.perf_counter()
        r = run_batch(inputs, Path(tmp) / "local", workers=a.workers, summary=False)
        wall = time.perf_counter() - t
        result["local_s"] = round(wall, 2)
        result["local_calls_per_min"] = round(60 * r.calls / wall, 1)
        lines = [json.loads(x) for x in (Path(tmp) / "local" / "captures.jsonl").open()]
        result["cpu_s_per_call"] = round(sum(x["analyse_s"] for x in lines) / len(lines), 3)
        from distributed import LocalCluster
        t = time.perf_counter()
        with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            result["cluster_start_s"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            r = run_batch(inputs, Path(tmp) / "dask", scheduler=cluster.scheduler_address,
                          summary=False)
            wall = time.perf_counter() - t
        result["dask_s"] = round(wall, 2)
        result["dask_calls_per_min"] = round(60 * r.calls / wall, 1)
        result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
