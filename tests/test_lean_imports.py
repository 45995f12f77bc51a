"""A command loads only what it uses: ``flows`` no verdict engine or reports (``import
analyzer`` loads its API on first use); ``analyze --json`` on an RTP call needs neither
scipy (its few functions are in analyzer.detectors.special) nor matplotlib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "captures" / "lab" / "asym-receiver.pcap"


def test_analyze_json_loads_neither_scipy_nor_matplotlib() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from analyzer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['analyze', {str(CAPTURE)!r}, '--json'], stdout=io.StringIO())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_flows_loads_neither_the_verdict_engine_nor_the_reports() -> None:
    code = (
        "import sys, io\n"
        "from analyzer.cli import main\n"
        f"main(['flows', {str(CAPTURE)!r}, '--json'], stdout=io.StringIO())\n"
        "print(sorted({'.'.join(m.split('.')[:2]) for m in sys.modules}\n"
        "             & {'analyzer.verdict', 'analyzer.report', 'analyzer.detectors'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "[]"
