"""Simulated calls for the report tests: short (25 s), one per pattern, written once per
session into a temporary folder, with a clean baseline call."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import analyzer
from analyzer.api import Capture
from analyzer.simulate.scenarios import simulate_to_file

DURATION_S = 25.0
ONSET_S = 8.0

#: name -> (scenario, parameters): every degradation pattern, a clean and a blocked call.
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "clean": ("clean", {}),
    "loss": ("bernoulli", {"p": 0.08, "onset_s": ONSET_S}),
    "burst": ("gilbert", {"onset_s": ONSET_S}),
    "periodic": ("periodic", {"onset_s": ONSET_S, "period_s": 2.0, "drop_s": 0.4,
                              "direction": "caller_to_callee"}),
    "policer": ("policer", {"onset_s": ONSET_S, "rate_bps": 24000.0}),
    "shaper": ("shaper", {"onset_s": ONSET_S, "rate_bps": 30000.0}),
    "jitter": ("jitter", {"onset_s": ONSET_S, "std_ms": 40.0}),
    "cutoff": ("cutoff", {"after_s": 12.0}),
    "blocked": ("blocked", {}),
}


@dataclass(frozen=True)
class Sim:
    name: str
    path: Path
    capture: Capture


def _simulate(folder: Path, name: str, kind: str, params: dict[str, Any], seed: int) -> Sim:
    path = folder / f"{name}.pcap"
    spec = {} if kind == "blocked" else {"duration_s": DURATION_S}
    simulate_to_file(path, kind=kind, seed=seed, **spec, **params)
    return Sim(name, path, analyzer.read_capture(path))


@pytest.fixture(scope="session")
def sims(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sim]:
    folder = tmp_path_factory.mktemp("report-captures")
    out = {name: _simulate(folder, name, kind, params, seed=1)
           for name, (kind, params) in SCENARIOS.items()}
    out["baseline"] = _simulate(folder, "baseline", "clean", {}, seed=2)
    return out


def pdf_text(path: Path, *, page: int | None = None, layout: bool = False) -> str:
    """The PDF's text in reading order (``pdftotext``) with runs of white space as one
    space, or skip when poppler is missing."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: cannot read the PDF's text")
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    pages += ["-layout"] if layout else []
    out = subprocess.run([exe, *pages, str(path), "-"], check=True, capture_output=True,
                         text=True).stdout
    return " ".join(out.split())
