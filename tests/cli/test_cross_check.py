"""``flows --cross-check`` runs TShark on the same capture and compares every stream."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.cli.status import ExitStatus

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"


@pytest.mark.skipif(not shutil.which("tshark"), reason="tshark not installed")
def test_cross_check_agrees_on_a_real_kernel_capture() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main(["flows", "--json", "--no-quality", "--cross-check",
                   str(LAB / "loss5-receiver.pcap")], stdout=out, stderr=err)
    assert status == ExitStatus.OK
    check = json.loads(out.getvalue())["cross_check"]
    assert check["streams_compared"] == 2 and check["streams_agreeing"] == 2


def test_cross_check_without_tshark_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out, err = io.StringIO(), io.StringIO()
    status = main(["flows", "--cross-check", str(LAB / "clean-receiver.pcap")], stdout=out,
                  stderr=err)
    assert status == ExitStatus.USAGE and "needs tshark" in err.getvalue()
