"""The second answer on real-kernel calls: every lab call the kernel impaired, analysed
against the clean lab call as its baseline capture, looks deliberate (``likely``); every
clean or benign call is ``none_seen``; without a baseline, random loss alone is at most
``possible`` (the other direction is a weaker yardstick than a baseline capture)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import analyzer

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"
EXPECTED = json.loads((LAB / "expected.json").read_text())


@pytest.fixture(scope="module")
def baseline() -> analyzer.Capture:
    return analyzer.read_capture(LAB / "clean-receiver.pcap")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_interference_with_a_clean_baseline_capture(name: str,
                                                    baseline: analyzer.Capture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyzer.analyze(LAB / f"{name}-receiver.pcap", baseline=baseline)
    want = EXPECTED[name]["verdict"]
    assert a.verdict == want, (name, a.verdict, a.interference_reasons)
    if want == "clean":
        assert a.interference == "none_seen", (name, a.interference_reasons)
    else:
        assert a.interference == "likely", (name, a.interference, a.interference_reasons)
        assert a.interference_reasons and all(a.interference_reasons)


def test_random_loss_alone_is_possible_without_a_baseline() -> None:
    a = analyzer.analyze(LAB / "loss5-receiver.pcap")
    assert a.verdict == "degraded" and a.interference == "possible"
    assert any("other direction" in r for r in a.interference_reasons)
