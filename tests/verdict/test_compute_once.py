"""The analysis computes each stream's metrics once; the terminal text, the JSON, the PDF
and the PNGs are renderings of it (issue: one analysis object)."""

from __future__ import annotations

import collections
import functools
import json
from pathlib import Path
from typing import Any

import pytest

import analyzer
from analyzer.metrics import delay, framing, jitterbuffer, losspattern, quality
from analyzer.verdict import render_text
from tests.support.paths import REPO

EXAMPLE = REPO / "captures" / "example-call.pcap"
BASELINE = REPO / "captures" / "example-baseline.pcap"

#: (module, function) pairs that compute a metric of a whole stream.
COUNTED = (
    (quality, "stream_quality"),
    (framing, "frame_timing"),
    (losspattern, "loss_pattern"),
    (delay, "rfc3550_jitter_s"),
    (jitterbuffer, "simulate"),
)


@pytest.fixture()
def counts(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[tuple[str, Any]]:
    """Calls of each metric function, keyed by (function, its first argument: the
    stream, or the address of the array's data) - one key per stream."""
    seen: collections.Counter[tuple[str, Any]] = collections.Counter()
    import sys

    for module, name in COUNTED:
        original = getattr(module, name)

        def counter(*args: Any, __f: Any = original, __n: str = name, **kw: Any) -> Any:
            first = args[0] if args else None
            key = first.__array_interface__["data"][0] if hasattr(
                first, "__array_interface__") else id(first)
            if __n == "simulate":  # one run per (frames, buffer)
                key = (key, getattr(args[1] if len(args) > 1 else kw.get("config"),
                                    "name", None))
            seen[(__n, key)] += 1
            return __f(*args, **kw)

        functools.update_wrapper(counter, original)
        # the function itself, and every module that imported it by name
        for mod in list(sys.modules.values()):
            if (mod is not None and getattr(mod, "__name__", "").startswith("analyzer")
                    and getattr(mod, name, None) is original):
                monkeypatch.setattr(mod, name, counter)
    return seen


def test_each_metric_is_computed_once_per_stream(counts: collections.Counter[Any],
                                                 tmp_path: Path) -> None:
    capture = analyzer.read_capture(EXAMPLE)
    base = analyzer.read_capture(BASELINE)
    a = analyzer.analyze(capture, baseline=base)
    json.dumps(a.to_dict())
    render_text(a)
    analyzer.write_report(a, tmp_path / "r.pdf", png_dir=tmp_path / "png")
    media = len(capture.media_streams) + len(base.media_streams)
    per_fn = collections.Counter(fn for fn, _ in counts)
    assert per_fn["stream_quality"] == media, counts
    over = {k: n for k, n in counts.items() if n != 1}
    assert not over, f"computed more than once: {over}"
    # every jitter buffer of every RTP stream simulated exactly once
    assert per_fn["simulate"] == media * len(jitterbuffer.DEFAULT_BUFFERS)
