"""The README's sample output is the real one: the analyze example is run and compared."""

from __future__ import annotations

import io
import re
from pathlib import Path

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "analyzer analyze captures/example-call.pcap --baseline captures/example-baseline.pcap"


def test_readme_analyze_sample_is_the_real_output(monkeypatch) -> None:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"```\n\$ " + re.escape(COMMAND) + r"\n(.*?)\n```", text, re.S)
    assert m, "the README shows the analyze example"
    monkeypatch.chdir(ROOT)
    out, err = io.StringIO(), io.StringIO()
    assert main(COMMAND.split()[1:], stdout=out, stderr=err) == 0, err.getvalue()
    assert out.getvalue().rstrip("\n") == m.group(1)
