"""A command loads only what it uses: ``flows`` no verdict engine or reports (``import
analyzer`` loads its API on first use); ``analyze --json`` on an RTP call needs neither
scipy (its few functions are in analyzer.detectors.special) nor matplotlib."""

from __future__ import annotations

from tests.support.imports import modules_after, top_packages
from tests.support.paths import REPO

CAPTURE = REPO / "captures" / "lab" / "asym-receiver.pcap"


def test_analyze_json_loads_neither_scipy_nor_matplotlib() -> None:
    loaded = modules_after("from analyzer.cli import main\n"
                           f"main(['analyze', {str(CAPTURE)!r}, '--json'], stdout=io.StringIO())")
    assert sorted(top_packages(loaded) & {"scipy", "matplotlib"}) == []


def test_flows_loads_neither_the_verdict_engine_nor_the_reports() -> None:
    loaded = modules_after("from analyzer.cli import main\n"
                           f"main(['flows', {str(CAPTURE)!r}, '--json'], stdout=io.StringIO())")
    assert sorted(top_packages(loaded, 2)
                  & {"analyzer.verdict", "analyzer.report", "analyzer.detectors"}) == []
