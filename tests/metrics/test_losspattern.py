"""Loss pattern from sequence numbers: exact counts, run lengths, Gilbert and RFC 3611."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.metrics import losspattern
from analyzer.metrics.losspattern import burst_gap, loss_pattern

LOST = {10, 11, 12, 40, *range(70, 80)}


def _example() -> losspattern.LossPattern:
    seq = np.array([s for s in range(100) if s not in LOST]) + 5000
    return loss_pattern(seq, 1.0 + (seq - 5000) * 0.02, frame_interval_s=0.02)


def test_known_runs_counts_and_histogram() -> None:
    lp = _example()
    assert (lp.expected, lp.received, lp.lost) == (100, 86, 14)
    assert lp.lost_seq.tolist() == sorted(s + 5000 for s in LOST)
    # runs: {10,11,12} (3), {40} (1), {70..79} (10)
    assert lp.runs == 3 and lp.max_run == 10
    assert lp.run_histogram == (1, 0, 1, 0, 0, 0, 0, 0, 0, 1)
    assert lp.run_histogram_dict == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "6": 0, "7": 0,
                                     "8": 0, "9": 0, "10+": 1}
    # lost packets sit where they would have arrived (between their neighbours)
    assert lp.lost_time_s[:3] == pytest.approx([1.2, 1.22, 1.24])


def test_known_runs_gilbert_and_conditional_probability() -> None:
    lp = _example()
    # P(lost | previous lost) = (lost - runs) / lost = (14 - 3) / 14
    assert lp.conditional_loss_probability == pytest.approx(11 / 14)
    # p = runs / (received packets followed by an expected one) = 3 / (86 - 1)
    # q = runs / lost = 3 / 14;  BurstR = 1 / (p + q)
    assert lp.gilbert.p == pytest.approx(3 / 85)
    assert lp.gilbert.q == pytest.approx(3 / 14)
    assert lp.gilbert.burst_ratio == pytest.approx(1 / (3 / 85 + 3 / 14))


def test_known_runs_rfc3611_burst_gap() -> None:
    bg = _example().burst_gap
    # Gmin 16: 10-12 and 70-79 are bursts (>= 2 losses, < 16 received between); 40 has 27
    # received before and 29 after: an isolated loss, so a gap loss.
    assert bg.gmin == 16 and bg.bursts == 2
    assert (bg.burst_packets, bg.burst_lost) == (3 + 10, 3 + 10)
    assert bg.burst_density == 1.0
    assert (bg.gap_packets, bg.gap_lost) == (100 - 13, 1)
    assert bg.gap_density == pytest.approx(1 / 87)
    # mean burst: 13 packets / 2 bursts * 20 ms; gaps: 0-9, 13-69, 80-99 = 87 / 3 * 20 ms
    assert bg.burst_duration_s == pytest.approx(6.5 * 0.02)
    assert bg.gap_duration_s == pytest.approx(29 * 0.02)


def test_gmin_joins_bursts() -> None:
    # with Gmin 30 the isolated loss at 40 (27 received before it) joins the first burst,
    # 70-79 (29 received between) too: one burst 10..79
    seq = np.array([s for s in range(100) if s not in LOST])
    bg = loss_pattern(seq, gmin=30, frame_interval_s=0.02).burst_gap
    assert bg.bursts == 1
    assert (bg.burst_packets, bg.burst_lost) == (70, 14)
    assert bg.burst_density == pytest.approx(14 / 70)
    assert (bg.gap_packets, bg.gap_lost, bg.gap_density) == (30, 0, 0.0)


def test_reordering_and_duplicates_are_not_loss() -> None:
    # 3 arrives after 4 (late, not lost), 5 arrives twice, 8 is really lost
    seq = np.array([1, 2, 4, 3, 5, 5, 6, 7, 9, 10])
    lp = loss_pattern(seq)
    assert (lp.expected, lp.received, lp.lost) == (10, 9, 1)
    assert lp.lost_seq.tolist() == [8]
    assert (lp.duplicates, lp.late) == (1, 1)
    assert lp.late_mask.tolist() == [False, False, False, True] + [False] * 6
    assert lp.duplicate.tolist() == [False] * 5 + [True] + [False] * 4


def test_only_duplicates_never_negative() -> None:
    seq = np.repeat(np.arange(50), 2)  # every packet twice (rtpdump sample1 style)
    lp = loss_pattern(seq)
    assert (lp.lost, lp.duplicates, lp.expected) == (0, 50, 50)


def test_restart_versus_outage() -> None:
    seq = np.concatenate((np.arange(100), 40000 + np.arange(100)))
    quick = np.concatenate((np.arange(100), 100 + np.arange(100))) * 0.02
    lp = loss_pattern(seq, quick, frame_interval_s=0.02)
    assert lp.sequence_restarts == 1 and lp.lost == 0 and lp.expected == 200
    assert lp.position.tolist() == list(range(200))
    # the same jump after an 800-s silence of the stream: an outage, all of it lost
    slow = np.concatenate((np.arange(100) * 0.02, 2 + 39900 * 0.02 + np.arange(100) * 0.02))
    lp = loss_pattern(seq, slow, frame_interval_s=0.02)
    assert lp.sequence_restarts == 0 and lp.lost == 40000 - 100


def test_empty_and_single() -> None:
    assert loss_pattern(np.zeros(0, dtype=np.int64)).expected == 0
    lp = loss_pattern(np.array([7]))
    assert (lp.expected, lp.lost, lp.gilbert.burst_ratio) == (1, 0, 1.0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 300), min_size=1, max_size=400), st.integers(1, 40))
def test_properties(seq_list: list[int], gmin: int) -> None:
    seq = np.array(seq_list, dtype=np.int64)
    lp = loss_pattern(seq, gmin=gmin)
    u = np.unique(seq)
    assert lp.expected == int(u[-1] - u[0] + 1)
    assert lp.lost + lp.received == lp.expected and lp.lost >= 0
    assert lp.duplicates == seq.size - u.size
    assert sorted(set(range(int(u[0]), int(u[-1]) + 1)) - set(seq_list)) == lp.lost_seq.tolist()
    assert sum(k * c for k, c in zip(range(1, 10), lp.run_histogram, strict=False)) \
        <= lp.lost
    bg = lp.burst_gap
    assert bg.burst_lost + bg.gap_lost == lp.lost
    assert bg.burst_packets + bg.gap_packets == lp.expected
    assert 0.0 <= bg.burst_density <= 1.0 and 0.0 <= bg.gap_density <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=600), st.integers(1, 40))
def test_burst_gap_python_and_numpy_paths_agree(lost_mask: list[bool], gmin: int) -> None:
    m = np.array([False, *lost_mask, False])
    edges = np.diff(m.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    small = losspattern._burst_gap_small(starts.tolist(), lengths.tolist(), m.size, gmin, 0.02)
    old = losspattern.SMALL_RUNS
    losspattern.SMALL_RUNS = -1
    try:
        big = burst_gap(starts, lengths, m.size, gmin=gmin, frame_interval_s=0.02)
    finally:
        losspattern.SMALL_RUNS = old
    assert small == big
