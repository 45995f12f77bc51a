"""The in-flight dispersion (analyzer.detectors.inflight) against ground truth: seeded
lattices with known delays, where RTP's mean |D| is E|X - X'| of two independent delays."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.detectors.inflight import _square_integrals, inflight_jitter


def _lattice(rng: np.random.Generator, c: float, n: int, delay: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    send = 1.0 + c * np.arange(n)
    return send + delay, send


def _windows(arr: np.ndarray, grid: np.ndarray, c: float) -> np.ndarray:
    nw = int(np.ceil(arr.max())) + 1
    r = inflight_jitter(arr, grid, ((float(arr.min()), c),), origin_s=0.0, window_s=1.0,
                        n_windows=nw)
    full = np.isfinite(r.window_s)
    return r.window_s[full][1:-1]  # the partial first and last windows out


def _gini(x: np.ndarray) -> float:
    """E|X - X'| of a sample."""
    s = np.sort(x)
    k = np.arange(1, s.size + 1)
    return float(2 * np.sum((2 * k - s.size - 1) * s) / (s.size * (s.size - 1)))


@pytest.mark.parametrize("c,std", [(0.02, 0.001), (0.02, 0.008), (0.02, 0.02),
                                   (0.02, 0.04), (0.06, 0.002), (0.06, 0.04)])
def test_reads_mean_abs_delay_difference_in_every_regime(c: float, std: float) -> None:
    """Gaussian path jitter plus exponential queueing delay, from a quiet path to delays
    of twice the packet time (packets reorder): the median window reads E|X - X'| within
    15 %, and the grid's phase (the path's constant delay) does not matter."""
    rng = np.random.default_rng(int(c * 1000) * 100 + int(std * 1000))
    n = int(60 / c)
    delay = 0.0537 + rng.normal(0, std / 4, n) + rng.exponential(std, n)
    arr, send = _lattice(rng, c, n, delay)
    truth = _gini(delay)
    got = float(np.median(_windows(arr, send, c)))
    assert got == pytest.approx(truth, rel=0.15)


def test_keeps_growing_under_reordering() -> None:
    """Where a statistic of consecutive arrivals levels off, this one keeps the scale:
    20 -> 40 -> 80 ms of added delay on 20 ms frames reads about double each time."""
    rng = np.random.default_rng(7)
    c, n = 0.02, 3000
    reads = []
    for std in (0.02, 0.04, 0.08):
        delay = rng.exponential(std, n)
        arr, send = _lattice(rng, c, n, delay)
        reads.append(float(np.median(_windows(arr, send, c))))
    assert reads[1] / reads[0] == pytest.approx(2.0, rel=0.2)
    assert reads[2] / reads[1] == pytest.approx(2.0, rel=0.25)


def test_no_jitter_reads_zero_whatever_the_offset() -> None:
    """A constant delay off the grid's phase (B is 1 for part of every period) is the
    periodic part the fold removes: no jitter reads 0."""
    c, n = 0.02, 3000
    send = 1.0 + c * np.arange(n)
    for offset in (0.0, 0.003, 0.0137, 0.02, 0.047):
        w = _windows(send + offset, send, c)
        assert np.allclose(w, 0.0, atol=1e-9)


def test_order_free_and_slot_pairing_free() -> None:
    """Only the two sets of times matter: shuffling which slot goes with which arrival
    changes nothing."""
    rng = np.random.default_rng(3)
    c, n = 0.02, 1500
    arr, send = _lattice(rng, c, n, rng.exponential(0.03, n))
    a = _windows(arr, send, c)
    b = _windows(arr, rng.permutation(send), c)
    assert np.allclose(a, b)


def test_excluded_packets_leave_with_their_slot() -> None:
    """A keep-alive between speech packets, excluded together with its slot, does not
    change the reading."""
    rng = np.random.default_rng(5)
    c, n = 0.06, 1000
    arr, send = _lattice(rng, c, n, 0.05 + rng.normal(0, 0.001, n))
    base = _windows(arr, send, c)
    arr2 = np.insert(arr, 500, arr[499] + 0.01)
    send2 = np.insert(send, 500, send[499])
    excl = np.zeros(arr2.size, dtype=bool)
    excl[500] = True
    nw = int(np.ceil(arr2.max())) + 1
    r = inflight_jitter(arr2, send2, ((float(arr2.min()), c),), origin_s=0.0,
                        window_s=1.0, n_windows=nw, exclude=excl)
    got = r.window_s[np.isfinite(r.window_s)][1:-1]
    assert np.allclose(got, base)


def test_per_packet_values_average_to_the_window() -> None:
    rng = np.random.default_rng(11)
    c, n = 0.02, 1500
    arr, send = _lattice(rng, c, n, rng.exponential(0.01, n))
    r = inflight_jitter(arr, send, ((float(arr.min()), c),), origin_s=0.0, window_s=1.0,
                        n_windows=int(np.ceil(arr.max())) + 1)
    assert np.isfinite(r.packet_s).mean() > 0.95
    # skewed per period (they locate a change), but on the window's scale on average
    assert np.nanmean(r.packet_s) == pytest.approx(np.nanmean(r.window_s), rel=0.2)


def test_square_integrals_exact() -> None:
    """(base + cumulative weights)^2 integrated per group, by hand."""
    group = np.array([0, 0, 1])
    base = np.array([1.0, 0.0, 2.0])
    phase = np.array([0.5, 0.2, 0.1])
    weight = np.array([-1.0, 1.0, 1.0])
    length = np.array([1.0, 1.0, 1.0])
    got = _square_integrals(group, base, phase, weight, length)
    # group 0: 1 on [0, .2), 2 on [.2, .5), 1 on [.5, 1); group 1: 0 on [0, .1), 1 after;
    # group 2: no events, 2^2 * 1
    assert got == pytest.approx([0.2 + 4 * 0.3 + 0.5, 0.9, 4.0])


def test_too_little_is_nan() -> None:
    r = inflight_jitter(np.array([1.0]), np.array([1.0]), ((1.0, 0.02),), origin_s=0.0,
                        window_s=1.0, n_windows=3)
    assert np.isnan(r.window_s).all() and np.isnan(r.packet_s).all()
