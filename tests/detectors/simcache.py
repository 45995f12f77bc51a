"""Simulated captures for detector and verdict tests, written once per test session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import cache
from typing import Any

import analyzer
from analyzer.simulate.scenarios import simulate_to_file

_DIR = tempfile.mkdtemp(prefix="analyzer-sims-")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


@cache
def _sim(kind: str, seed: int, items: tuple[tuple[str, Any], ...]) -> tuple[Any, Any]:
    params = dict(items)
    name = f"{kind}-{seed}-{abs(hash(items)) % 10**8}.pcap"
    path = os.path.join(_DIR, name)
    sim = simulate_to_file(path, kind=kind, seed=seed, include_packets=False, **params)
    return analyzer.read_capture(path), sim.truth


def simulated(kind: str, seed: int = 7, **params: Any) -> tuple[Any, Any]:
    """``(Capture, CallTruth)`` of a simulated scenario (cached per session)."""
    return _sim(kind, seed, tuple(sorted(params.items())))


def path_of(capture: Any) -> str:
    return capture.path
