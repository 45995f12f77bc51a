"""The compiled per-stream RTP statistics (``rtp_stats`` in ``_walk.c``) equal the numpy
reference (``derive`` + ``rtp_stats``): the extended counters exactly, every figure to
rounding, on random streams built to hit each rule (wraps both ways, duplicates, late and
lost packets, markers, comfort noise, timestamps older than the first, unknown and mixed
clocks, one-packet streams) and on the lab captures."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from analyzer import read_capture
from analyzer.capture import records
from analyzer.streams.rtpstats import StreamStats, rtp_stats_batched
from tests.support.paths import REPO

pytestmark = pytest.mark.skipif(not hasattr(records._compiled, "rtp_stats"),
                                reason="compiled record walk not built")


def _random_streams(seed: int, m: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    lens = rng.integers(1, 400, m)
    lens[:3] = (1, 2, 3)
    parts = []
    for n in lens:
        frame = int(rng.choice([160, 320, 960]))
        seq = (int(rng.integers(0, 1 << 16)) + np.arange(n)) % (1 << 16)
        ts = (int(rng.integers(0, 1 << 32)) + frame * np.arange(n)) % (1 << 32)
        t = np.cumsum(rng.exponential(0.02, n)) + rng.uniform(0, 10)
        order = np.arange(n)
        swap = rng.random(n) < 0.05  # late packets
        for i in np.flatnonzero(swap[:-1]):
            order[i], order[i + 1] = order[i + 1], order[i]
        keep = rng.random(n) > 0.05  # lost packets
        keep[0] = True
        idx = order[keep[order]]
        dups = rng.random(idx.size) < 0.03  # duplicates
        idx = np.sort(np.concatenate([idx, idx[dups]]), kind="stable") \
            if rng.random() < 0.5 else np.concatenate([idx, idx[dups]])
        k = idx.size
        s16, t32 = seq[idx].astype(np.uint16), ts[idx].astype(np.uint32)
        if rng.random() < 0.2:  # a timestamp older than the first packet's
            t32[min(k - 1, 1)] = (int(t32[0]) - 5 * frame) % (1 << 32)
        marker = rng.random(k) < 0.05
        pt = np.where(rng.random(k) < 0.05, 13, 0).astype(np.int16)
        clock = np.full(k, int(rng.choice([0, 8000, 48000])), dtype=np.int32)
        if rng.random() < 0.1:  # mixed clocks within one stream
            clock[rng.random(k) < 0.3] = 0
        size = rng.integers(20, 200, k).astype(np.int32)
        parts.append((t[: k] if k <= n else np.sort(rng.uniform(0, 10, k)), s16, t32,
                      marker, pt, clock, size))
    cols = [np.concatenate([p[j] for p in parts]) for j in range(7)]
    starts = np.concatenate([[0], np.cumsum([p[0].size for p in parts])[:-1]]).astype(np.int64)
    return (*cols, starts)


def _assert_same(args: tuple[np.ndarray, ...]) -> None:
    seq_c, ts_c, stats_c = rtp_stats_batched(*args, compiled=True)
    seq_n, ts_n, stats_n = rtp_stats_batched(*args, compiled=False)
    assert np.array_equal(seq_c, seq_n) and np.array_equal(ts_c, ts_n)
    assert len(stats_c) == len(stats_n)
    for a, b in zip(stats_c, stats_n, strict=True):
        for f in fields(StreamStats):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(y, float):
                assert x == pytest.approx(y, rel=1e-9, abs=1e-9), f.name
            else:
                assert x == y, f.name


@pytest.mark.parametrize("seed", range(6))
def test_random_streams(seed: int) -> None:
    _assert_same(_random_streams(seed, 60))


def test_no_streams() -> None:
    empty = (np.zeros(0), np.zeros(0, np.uint16), np.zeros(0, np.uint32),
             np.zeros(0, bool), np.zeros(0, np.int16), np.zeros(0, np.int32),
             np.zeros(0, np.int32), np.zeros(0, np.int64))
    _assert_same(empty)


def test_bad_starts_are_refused() -> None:
    args = list(_random_streams(1, 3))
    args[-1] = np.array([0, 5, 3], dtype=np.int64)
    with pytest.raises(ValueError, match="starts"):
        rtp_stats_batched(*args, compiled=True)


LAB = sorted((REPO / "captures" / "lab").glob("*.pcap"))


@pytest.mark.parametrize("path", LAB, ids=lambda p: p.name)
def test_lab_captures(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stream of a lab capture: the same counters and statistics either way."""
    fast = read_capture(path)
    monkeypatch.setattr(records, "_compiled", None)
    slow = read_capture(path)
    assert len(fast.streams) == len(slow.streams) > 0
    for s, t in zip(fast.streams, slow.streams, strict=True):
        assert np.array_equal(s.series.seq, t.series.seq)
        assert np.array_equal(s.series.rtp_ts, t.series.rtp_ts)
        a, b = s.stats.to_dict(), t.stats.to_dict()
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(b[k], float):
                assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-9), k
            else:
                assert a[k] == b[k], k
