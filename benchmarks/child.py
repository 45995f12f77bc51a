"""One child process timed as a whole (for the benchmark scripts): wall and CPU seconds and
peak RSS of that process alone, from ``wait4``.

Importing this module byte-compiles the package first, as ``pip install .`` does: with
``PYTHONDONTWRITEBYTECODE`` set (some shells and CI images set it) an editable install
would otherwise recompile every module changed since its last ``.pyc`` in every timed run
(up to 0.1 s of the ``flows`` benchmark's startup).
"""

from __future__ import annotations

import compileall
import os
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

PACKAGE = Path(__file__).resolve().parent.parent / "analyzer"
compileall.compile_dir(str(PACKAGE), quiet=1)


class ChildRun(NamedTuple):
    wall_s: float
    cpu_s: float  # user + sys
    peak_rss_bytes: int
    stderr: str


def run_child(cmd: list[str], stdout_path: Path, env: dict[str, str] | None = None,
              ok: tuple[int, ...] = (0,)) -> ChildRun:
    """Run ``cmd`` with its stdout in ``stdout_path``; exit with its stderr unless its exit
    status is in ``ok``."""
    with open(stdout_path, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""  # no stall
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        raise SystemExit(f"{cmd[0]} failed ({code}): {err.strip()[:500]}")
    return ChildRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, err)
