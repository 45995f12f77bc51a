"""A command loads only what it uses: ``analyze --json`` on an RTP call needs neither
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
