"""Send slots inferred from arrival times (media without sequence numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.detectors.features import features_from_arrays
from analyzer.detectors.slots import (
    estimate_interval,
    infer_slots,
    opening_interval,
    small_packets,
)


def cadence(n: int, c: float, *, jitter_s: float = 0.002, seed: int = 1,
            t0: float = 1.0) -> np.ndarray:
    r = np.random.default_rng(seed)
    return t0 + np.arange(n) * c + 0.04 + np.abs(r.normal(0, jitter_s, n))


def test_loss_is_recovered_from_gaps() -> None:
    t = cadence(3000, 0.02)
    keep = np.ones(3000, dtype=bool)
    lost = np.random.default_rng(2).choice(np.arange(10, 2990), 90, replace=False)
    keep[lost] = False
    s = infer_slots(t[keep], np.full(keep.sum(), 100), 0.02)
    assert s.seq[-1] - s.seq[0] + 1 - keep.sum() == 90


def test_jitter_adds_no_loss() -> None:
    t = np.sort(cadence(3000, 0.02, jitter_s=0.006, seed=3))
    s = infer_slots(t, np.full(3000, 100), 0.02)
    assert s.seq[-1] - s.seq[0] + 1 - 3000 <= 3


def test_late_packets_keep_their_slot() -> None:
    # 8 ms of jitter on 20 ms frames puts a packet past half a slot every few seconds; a
    # loss run of two followed by an early packet stays one run, and late packets neither
    # add lost slots nor push the grid
    r = np.random.default_rng(6)
    slots = np.arange(3000)
    keep = np.ones(3000, dtype=bool)
    keep[1500:1502] = False
    t = np.sort(1.0 + slots[keep] * 0.02 + r.normal(0.05, 0.006, keep.sum()))
    s = infer_slots(t, np.full(t.size, 100), 0.02)
    missing = s.seq[-1] - s.seq[0] + 1 - t.size
    assert missing == 2
    assert np.abs(s.sender_s - (1.05 + slots[keep] * 0.02)).max() < 0.03


def test_silence_next_to_comfort_noise_is_not_loss() -> None:
    t = cadence(1500, 0.02)
    size = np.full(1500, 110)
    speech = (t < 10) | (t > 14)
    cn = np.arange(10.0, 14.0, 0.4) + 0.05
    tt = np.concatenate([t[speech], cn])
    ss = np.concatenate([size[speech], np.full(cn.size, 26)])
    order = np.argsort(tt)
    s = infer_slots(tt[order], ss[order], 0.02)
    assert s.seq[-1] - s.seq[0] + 1 - order.size <= 1
    assert s.silent_slots > 150


def test_packet_time_change_starts_a_new_grid() -> None:
    a = cadence(1000, 0.02)
    b = a[-1] + 0.06 + np.arange(300) * 0.06
    t = np.concatenate([a, b])
    size = np.concatenate([np.full(1000, 100), np.full(300, 280)])
    s = infer_slots(t, size, 0.02)
    assert len(s.segments) == 2 and abs(s.segments[1][1] - 0.06) < 1e-9
    assert s.seq[-1] - s.seq[0] + 1 - t.size <= 2


def test_interval_is_the_shortest_regular_spacing() -> None:
    # 20 ms for 30 s, then a shaper spaces packets 27 ms apart for 30 s
    a = cadence(1500, 0.02)
    b = a[-1] + np.arange(1, 1100) * 0.0268
    t = np.concatenate([a, b])
    assert estimate_interval(t, small_packets(np.full(t.size, 100))) == 0.02


def test_opening_cadence_is_read_through_clean_path_jitter() -> None:
    # 20 ms for the first 8 s on a path with 5 ms of jitter, then a policer keeps every
    # other packet (the same sizes): the rest is spaced 40 ms apart. Single steps scatter
    # over 10-30 ms; ten steps together span 200 ms.
    r = np.random.default_rng(5)
    slots = np.arange(3000)
    keep = (slots < 400) | (slots % 2 == 0)
    t = np.sort(1.0 + slots[keep] * 0.02 + r.normal(0.05, 0.005, keep.sum()))
    size = np.full(t.size, 100)
    small = small_packets(size)
    later = estimate_interval(t, small)
    assert later >= 0.03
    assert opening_interval(t, size, small, later) == 0.02
    # a stream spaced wide from its first packet has no faster opening
    assert opening_interval(t[400:], size[400:], small[400:], later) is None


def test_features_from_arrays_gives_slot_loss_and_windows() -> None:
    t = cadence(3000, 0.02)
    keep = np.random.default_rng(4).random(3000) > 0.05
    f = features_from_arrays(t[keep], np.full(keep.sum(), 120))
    assert f.source == "arrival" and f.frame_interval_s == 0.02
    assert abs(f.loss.loss_fraction - 0.05) < 0.015
    assert len(f.windows) >= 59 and f.windows.usable.sum() >= 58


def test_interval_not_shortened_by_reordering() -> None:
    """40 ms of exponential delay on 60 ms frames from 20 s on reorders packets: the
    sorted arrivals' median spacing drops to 40-50 ms in many bins, but their packet
    rate stays one per 60 ms (ground truth: the sender's cadence)."""
    rng = np.random.default_rng(54009)
    c, n = 0.06, 1000
    send = c * np.arange(n)
    delay = 0.05 + rng.normal(0, 0.002, n) + np.where(send >= 20, rng.exponential(0.04, n), 0)
    t = np.sort(send + delay)
    assert estimate_interval(t, np.zeros(n, dtype=bool)) == pytest.approx(0.06)
