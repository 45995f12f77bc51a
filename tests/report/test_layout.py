"""Page plan, pagination and drawing limits, without rendering whole PDFs."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import analyzer
from analyzer.report import report_data, timeline_figure
from analyzer.report.data import MAX_CALLS
from analyzer.report.document import plan
from analyzer.report.downsample import MAX_LINE_POINTS
from analyzer.report.streamtable import COLUMNS, paginate
from analyzer.report.timeline import display_window_s
from analyzer.simulate.scenarios import simulate_to_file
from tests.report.conftest import Sim


def test_stream_table_paginates_in_order() -> None:
    rows = [[str(i), "2001:db8::1:5000", "2001:db8::2:6000", "rtp / whatsapp", "PT 120",
             "1 000", "0 (0.0 %)", "20.0", "1.00", "2.00", "0.00", "60.00", "1", "4.40*"]
            for i in range(200)]
    assert all(len(r) == len(COLUMNS) for r in rows)
    pages = paginate(rows)
    assert len(pages) > 3
    assert pages[0][0] == 0 and all(n > 0 for _, n in pages)
    assert sum(n for _, n in pages) == len(rows)
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(pages))
    assert paginate([]) == [(0, 0)]  # an empty capture still gets its (empty) table


def test_many_calls_are_capped(sims: dict[str, Sim]) -> None:
    cap = sims["periodic"].capture
    call = cap.calls[0]
    many = tuple(replace(call, index=i) for i in range(MAX_CALLS + 3))
    from analyzer.verdict import analyze

    data = report_data(analyze(replace(cap, calls=many)))
    assert len(data.calls) == MAX_CALLS and data.omitted_calls == 3
    assert [c.number for c in data.calls] == list(range(1, MAX_CALLS + 1))


def test_call_without_media_has_no_baseline_page(sims: dict[str, Sim]) -> None:
    from analyzer.verdict import analyze

    data = report_data(analyze(sims["blocked"].capture, baseline=sims["baseline"].capture))
    assert not data.calls[0].has_media
    kinds = [p.kind for p in plan(data).pages]
    # page 1 (and its continuation when the provenance and findings fill it), then the
    # call's timeline; no comparison with the baseline for a call that carried no sound
    first = kinds.index("timeline")
    assert kinds[0] == "summary" and set(kinds[1:first]) <= {"findings", "how_to"}
    assert "compare" not in kinds


@pytest.fixture(scope="module")
def long_call(tmp_path_factory: pytest.TempPathFactory) -> analyzer.Capture:
    path: Path = tmp_path_factory.mktemp("long") / "long.pcap"
    simulate_to_file(path, kind="periodic", seed=3, duration_s=600.0, onset_s=100.0)
    return analyzer.read_capture(path)


def test_long_call_is_thinned_for_drawing_only(long_call: analyzer.Capture) -> None:
    from analyzer.verdict import analyze

    analysis = analyze(long_call)
    data = report_data(analysis)
    call = data.calls[0]
    # statistics keep 1-second windows; the drawing uses wider ones on a long call
    q = data.quality[call.streams[0].index]
    assert q.window_s == 1.0 and len(q.windows) >= 590
    assert display_window_s(call, 1.0) == 5.0
    fig = timeline_figure(data)
    for ax in fig.axes:
        for line in ax.get_lines():
            assert np.asarray(line.get_xdata()).size <= MAX_LINE_POINTS + 2
    # a long call gets a detail page around the first onset, at half-second windows
    pages = plan(data).pages
    detail = [p for p in pages if p.kind == "detail"]
    assert len(detail) == 1
    assert [p.kind for p in pages][:4] == ["summary", "timeline", "detail", "compare"] or \
        [p.kind for p in pages][:5] == ["summary", "findings", "timeline", "detail",
                                        "compare"]
