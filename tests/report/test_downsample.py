"""Thinning for drawing keeps what the eye needs (and never touches statistics)."""

from __future__ import annotations

import numpy as np

from analyzer.report.downsample import cdf_points, envelope, events


def test_envelope_short_series_unchanged() -> None:
    x = np.arange(10.0)
    y = x**2
    xd, yd = envelope(x, y, max_points=100)
    assert np.array_equal(xd, x) and np.array_equal(yd, y)


def test_envelope_keeps_extremes_and_ends() -> None:
    rng = np.random.default_rng(1)
    x = np.arange(100_000, dtype=float)
    y = rng.normal(size=x.size)
    y[12_345] = 50.0  # a spike
    y[77_777] = -50.0  # a drop
    xd, yd = envelope(x, y, max_points=1000)
    assert xd.size <= 1001
    assert yd.max() == 50.0 and yd.min() == -50.0
    assert xd[-1] == x[-1] and yd[-1] == y[-1]
    assert np.all(np.diff(xd) >= 0)


def test_envelope_all_nan_bucket_stays_a_break() -> None:
    x = np.arange(10_000, dtype=float)
    y = np.ones_like(x)
    y[2000:4000] = np.nan
    _, yd = envelope(x, y, max_points=200)
    assert np.isnan(yd).any() and np.nanmax(yd) == 1.0


def test_cdf_points_ends_and_size() -> None:
    v = np.concatenate([np.arange(10_000, dtype=float), [np.nan, np.inf]])
    x, p = cdf_points(v, max_points=100)
    assert x[0] == 0.0 and x[-1] == 9999.0
    assert p[-1] == 1.0 and np.all(np.diff(p) > 0)
    assert x.size <= 102
    assert cdf_points(np.array([np.nan]))[0].size == 0


def test_events_one_per_slot() -> None:
    t = np.linspace(0.0, 100.0, 1_000_000)
    e = events(t, (0.0, 100.0), max_events=500)
    assert 0 < e.size <= 501
    assert np.all(np.diff(e) > 0)
    few = np.array([3.0, 1.0, 2.0])
    assert np.array_equal(events(few, (0.0, 4.0)), [1.0, 2.0, 3.0])
