"""The detectors' windows stay within the analysis's window bound (``Limits``), RTP or not,
on every window length a detector asks for; resampling counts stay within the budget."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.detectors.context import DetectionContext
from analyzer.detectors.features import features_from_arrays, window_table
from analyzer.detectors.registry import build


def _rtp(n: int = 2000, start_s: float = 0.7):
    t = start_s + np.arange(n) * 0.02
    return features_from_arrays(t, np.full(n, 160), seq=np.arange(n),
                                rtp_ts=np.arange(n) * 160, clock_rate_hz=8000,
                                max_windows_floor=8, windows_per_packet=0)


def test_rtp_features_windows_within_the_bound() -> None:
    f = _rtp()
    assert len(f.windows) <= 8 and f.windows.window_s > 1.0
    assert f.windows.packets.sum() == f.packets
    # a detector asking for shorter windows gets them within the same bound
    half = window_table(f, f.windows.window_s / 2)
    assert len(half) <= 8
    # the confounders' recomputation keeps the bound
    g = f.with_confounders([(5.0, 6.0)])
    assert len(g.windows) <= 8


def test_media_without_rtp_inflight_grid_within_the_bound() -> None:
    rng = np.random.default_rng(1)
    t = 0.3 + np.arange(3000) * 0.02 + rng.uniform(0, 0.004, 3000)
    f = features_from_arrays(t, np.full(t.size, 120), max_windows_floor=8,
                             windows_per_packet=0)
    assert f.source == "arrival"
    assert len(f.windows) <= 8
    assert f.ipdv_s.size == f.packets  # one in-flight value a packet, on the bounded grid


def test_default_bound_leaves_a_call_alone() -> None:
    t = np.arange(2000) * 0.02
    f = features_from_arrays(t, np.full(2000, 160), seq=np.arange(2000),
                             rtp_ts=np.arange(2000) * 160, clock_rate_hz=8000)
    assert f.windows.window_s == 1.0 and len(f.windows) == 40


@pytest.mark.parametrize("most", [10, 30])
def test_capped_rate_cap_bootstrap_draws_at_most_the_budget(most: int,
                                                            monkeypatch) -> None:
    import analyzer.detectors.ratecap as ratecap
    seen: list[int] = []
    real = ratecap.block_bootstrap_ci

    def spy(*a, n_boot: int, **kw):
        seen.append(n_boot)
        return real(*a, n_boot=n_boot, **kw)

    monkeypatch.setattr(ratecap, "block_bootstrap_ci", spy)
    det, over = build("rate_cap").with_resamples_capped(most)
    assert over == {"n_boot": 400}
    # a policed stream: 50 pps offered, about 30 delivered after 10 s
    n = 3000
    t = np.arange(n) * 0.02
    keep = (t < 10) | (np.arange(n) % 5 < 3)
    f = features_from_arrays(t[keep], np.full(int(keep.sum()), 160),
                             seq=np.arange(n)[keep], rtp_ts=np.arange(n)[keep] * 160,
                             clock_rate_hz=8000)
    det.detect(f, DetectionContext())
    assert seen and set(seen) == {most}
