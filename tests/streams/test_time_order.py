"""Captures whose timestamps are out of order, or jump far back or ahead, and a gzip file of
zeros: the simple triggers of the fuzz failures (``tests/fuzz``).

Each case runs in a spawned child under an address-space limit and a timeout (the bugs
they guard against are crashes, span-sized arrays and endless loops), and returns plain
facts for the assertions. Records are numbered from 0.
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import Any

import numpy as np
import pytest

from tests.fuzz.harness import run_isolated
from tests.fuzz.mutate import (
    AHEAD_30_YEARS_S,
    BACK_45_DAYS_S,
    PCAP_MAGIC_US,
    parse_layout,
    zero_bomb,
)
from tests.support.paths import REPO

EXAMPLE = REPO / "captures" / "example-call.pcap"
TIMEOUT_S = 90.0
#: No array the analysis keeps may be longer than this many times the packet count.
WORK_BOUND = 10
BOMB_ZERO_MIB = 64
#: Records the reader may walk in the zero bomb before it must give up.
BOMB_RECORD_BOUND = 1_000_000


def _edited(edit: str, i: int = 200, j: int = 5) -> bytes:
    lay = parse_layout(EXAMPLE.read_bytes())
    assert lay is not None and lay.fmt == "pcap" and len(lay.blocks) > 200
    if edit == "swap":
        lay.blocks[i], lay.blocks[j] = lay.blocks[j], lay.blocks[i]
    else:
        shift = {"back45": -BACK_45_DAYS_S, "ahead30": AHEAD_30_YEARS_S}[edit]
        lay.set_ts(i, (lay.get_ts(i) or 0) + shift * lay.units_per_s)
    return lay.to_bytes()


def _array_sizes(obj: Any, depth: int = 2) -> list[int]:
    """Lengths of the numpy arrays on ``obj`` and on the objects it holds (``depth`` deep)."""
    sizes = []
    for v in getattr(obj, "__dict__", {}).values():
        if isinstance(v, np.ndarray):
            sizes.append(int(v.size))
        elif depth > 0 and hasattr(v, "__dict__"):
            sizes.extend(_array_sizes(v, depth - 1))
    return sizes


def analysis_facts(data: bytes) -> dict[str, Any]:
    """Run in the child: read, analyse, touch every quality window; return plain facts."""
    import analyzer

    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        cap = analyzer.read_capture(io.BytesIO(data), name="time-order.pcap")
        analysis = analyzer.analyze(cap)
        sizes = [0]
        qualities = [st.quality for c in analysis.calls for st in c.streams
                     if st.quality is not None] + list(analysis.quality.values())
        for q in qualities:
            sizes.append(len(q.windows))
            sizes.extend(_array_sizes(q))
    texts = [*cap.warnings, *analysis.warnings,
             *(w for c in analysis.calls for w in c.warnings), *(str(w.message) for w in log)]
    return {"packets": cap.packets, "largest_array": max(sizes), "warnings": texts}


def read_facts(data: bytes) -> dict[str, Any]:
    """Run in the child: read only; the records walked and the warnings."""
    import analyzer

    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        cap = analyzer.read_capture(io.BytesIO(data), name="zeros.pcap.gz")
    return {"packets": cap.packets,
            "warnings": [*cap.warnings, *(str(w.message) for w in log)]}


def test_swapped_records_analyse_without_error() -> None:
    got = run_isolated(analysis_facts, _edited("swap"), timeout_s=TIMEOUT_S)
    assert got.cls == "ok", got


@pytest.mark.parametrize("edit", ["back45", "ahead30"])
def test_clock_jump_is_bounded_work_and_warned(edit: str) -> None:
    got = run_isolated(analysis_facts, _edited(edit), timeout_s=TIMEOUT_S)
    assert got.cls == "ok", got
    facts = got.value
    assert facts["largest_array"] <= WORK_BOUND * facts["packets"], facts["largest_array"]
    assert any("clock" in w.lower() for w in facts["warnings"]), facts["warnings"]


def test_gzip_of_zeros_stops_early_with_a_warning() -> None:
    head = struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 65535, 1)
    data = zero_bomb(head, BOMB_ZERO_MIB)
    assert len(data) < 200_000  # small in memory and on disk
    got = run_isolated(read_facts, data, timeout_s=TIMEOUT_S)
    assert got.cls in ("ok",), got
    facts = got.value
    assert facts["packets"] < BOMB_RECORD_BOUND, facts["packets"]
    assert any("empty records" in w or "decompress" in w for w in facts["warnings"]), \
        facts["warnings"]
