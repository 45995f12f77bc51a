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


@pytest.mark.parametrize("path", LAB[::4], ids=lambda p: p.name)
def test_gathered_columns(path: Path) -> None:
    """The RTP columns gathered in one compiled pass equal numpy's gathers (ChannelData
    sizes, markers, frames), for every row of the table in a shuffled order."""
    from analyzer.capture.dissect import F_CHANNEL
    from analyzer.capture.reader import read_packets
    from analyzer.streams.build import _rtp_columns

    table = read_packets(path)
    chan = (table.flags & F_CHANNEL) != 0
    rows = np.random.default_rng(0).permutation(len(table)).astype(np.int32)
    for r in (rows, rows.astype(np.int64)):
        fast = _rtp_columns(table, chan, r, compiled=True)
        slow = _rtp_columns(table, chan, r, compiled=False)
        for a, b in zip(fast, slow, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    with pytest.raises(IndexError, match="outside the table"):
        _rtp_columns(table, chan, np.array([len(table)], np.int32), compiled=True)


@pytest.mark.parametrize("seed", range(4))
def test_clock_inference(seed: int) -> None:
    """Clock rates from the compiled slopes and median steps equal the numpy ones, on
    streams of every common rate and packet time (with jitter, loss, wraps, junk)."""
    from analyzer.streams.clock import COMMON_CLOCK_RATES_HZ, _infer_batch

    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(80):
        n = int(rng.integers(1, 600))
        rate = int(rng.choice(COMMON_CLOCK_RATES_HZ))
        ptime = float(rng.choice([0.01, 0.02, 0.03, 0.06]))
        t = np.arange(n) * ptime + rng.normal(0, 0.002, n) + rng.uniform(0, 5)
        ts = (int(rng.integers(0, 1 << 32)) + np.round(np.arange(n) * ptime * rate)) % (1 << 32)
        seq = (int(rng.integers(0, 1 << 16)) + np.arange(n)) % (1 << 16)
        keep = rng.random(n) > 0.05
        keep[0] = True
        if rng.random() < 0.1:  # junk timestamps
            ts = rng.integers(0, 1 << 32, n)
        parts.append((np.sort(t[keep]), ts[keep].astype(np.uint32), seq[keep].astype(np.uint16)))
    arrival, ts32, seq16 = (np.concatenate([p[j] for p in parts]) for j in range(3))
    starts = np.concatenate([[0], np.cumsum([p[0].size for p in parts])[:-1]]).astype(np.int64)
    fast = _infer_batch(arrival, ts32, seq16, starts, compiled=True)
    slow = _infer_batch(arrival, ts32, seq16, starts, compiled=False)
    assert np.array_equal(fast, slow)
    assert (fast > 0).sum() > 40
