"""The statistics under the detectors, on seeded synthetic arrays with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.detectors.stats import (
    P_FLOOR,
    area_statistic,
    bernoulli_scan,
    block_bootstrap_ci,
    excess_rate_test,
    gumbel_pvalue,
    hodges_lehmann,
    kolmogorov_sf,
    ks_2samp,
    markov_vs_bernoulli,
    pettitt,
    rank_shift,
    wehe_compare,
    wehe_decision,
    wilson_interval,
)
from analyzer.verdict.multitest import adjust, benjamini_hochberg, holm


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


class TestWehe:
    def test_band_edges(self) -> None:
        assert wehe_decision(0.2, 0.01) == "different"
        assert wehe_decision(0.05, 0.5) == "same"
        assert wehe_decision(0.2, 0.5) == "inconclusive"
        assert wehe_decision(0.05, 0.01) == "inconclusive"

    def test_same_distribution_is_same(self) -> None:
        r = rng()
        res = wehe_compare(r.normal(10, 1, 200), r.normal(10, 1, 200))
        assert res.decision == "same"
        assert res.area < 0.1

    def test_shifted_distribution_is_different(self) -> None:
        r = rng()
        res = wehe_compare(r.normal(10, 1, 200), r.normal(13, 1, 200))
        assert res.decision == "different"
        assert res.pvalue < 1e-6

    def test_small_shift_large_samples_is_inconclusive(self) -> None:
        # significant but tiny: KS says different, the area says same -> inconclusive
        r = rng(3)
        res = wehe_compare(r.normal(100, 1, 5000), r.normal(100.3, 1, 5000))
        assert res.pvalue < 0.05 and res.area < 0.1
        assert res.decision == "inconclusive"

    def test_area_is_normalised_and_floored(self) -> None:
        assert area_statistic([0, 0, 0], [0, 0, 0]) == 0.0
        assert area_statistic([1.0, 1.0], [2.0, 2.0]) == pytest.approx(0.999, abs=1e-3)
        # an all-zero sample: the floor keeps the normaliser finite
        assert np.isfinite(area_statistic([0, 0], [0.1, 0.1], scale_floor=0.01))


class TestRankShift:
    def test_hodges_lehmann_interval_covers_the_shift(self) -> None:
        r = rng(2)
        x, y = r.normal(5.0, 1, 80), r.normal(3.0, 1, 80)
        est, (lo, hi) = hodges_lehmann(x, y)
        assert lo < 2.0 < hi
        assert est == pytest.approx(2.0, abs=0.4)

    def test_coverage_over_many_seeds(self) -> None:
        hits = 0
        for seed in range(60):
            r = rng(seed)
            _, (lo, hi) = hodges_lehmann(r.exponential(1, 40) + 1.0, r.exponential(1, 40))
            hits += lo <= 1.0 <= hi
        assert hits >= 52  # nominal 95 % of 60 = 57

    def test_one_sided_test_direction(self) -> None:
        r = rng(4)
        a, b = r.normal(1, 1, 50), r.normal(0, 1, 50)
        assert rank_shift(a, b, alternative="greater").pvalue < 0.01
        assert rank_shift(b, a, alternative="greater").pvalue > 0.5

    def test_constant_samples(self) -> None:
        res = rank_shift([1.0] * 10, [1.0] * 10)
        assert res.pvalue == 1.0 and res.shift == 0.0


class TestRates:
    def test_wilson_interval(self) -> None:
        lo, hi = wilson_interval(5, 100)
        assert lo < 0.05 < hi and lo >= 0 and hi <= 1
        assert wilson_interval(0, 0) == (0.0, 1.0)

    def test_excess_rate_detects_three_percent_over_one(self) -> None:
        r = rng(5)
        n = np.full(40, 50)
        lost = r.binomial(n, 0.03)
        res = excess_rate_test(lost, n, 0.01)
        assert res.pvalue < 1e-6 and res.rate == pytest.approx(0.03, abs=0.01)

    def test_excess_rate_null_is_not_rejected(self) -> None:
        r = rng(6)
        n = np.full(60, 50)
        res = excess_rate_test(r.binomial(n, 0.005), n, 0.01)
        assert res.pvalue > 0.5

    def test_bursts_inflate_dispersion(self) -> None:
        n = np.full(30, 50)
        bursty = np.zeros(30)
        bursty[::6] = 15  # all loss in a few windows
        res = excess_rate_test(bursty, n, 0.05)
        assert res.dispersion > 5


class TestChangePoints:
    def test_pettitt_finds_the_step(self) -> None:
        r = rng(7)
        x = np.concatenate([r.normal(2, 0.5, 30), r.normal(5, 0.5, 30)])
        cp = pettitt(x)
        assert cp is not None and abs(cp.index - 30) <= 1 and cp.pvalue < 1e-6

    def test_pettitt_null(self) -> None:
        cp = pettitt(rng(8).normal(0, 1, 60))
        assert cp is not None and cp.pvalue > 0.01

    def test_bernoulli_scan_finds_onset(self) -> None:
        r = rng(9)
        ind = np.concatenate([np.zeros(1000), r.random(2000) < 0.1]).astype(np.int8)
        cp = bernoulli_scan(ind, min_size=100, n_perm=49, rng=r)
        assert cp is not None and 1000 <= cp.index <= 1060 and cp.pvalue < 0.01

    def test_bernoulli_scan_null(self) -> None:
        r = rng(10)
        cp = bernoulli_scan((r.random(3000) < 0.05).astype(np.int8), min_size=100, n_perm=49,
                            rng=r)
        assert cp is not None and cp.pvalue > 0.01

    def test_gumbel_tail_extends_permutation_resolution(self) -> None:
        null = rng(11).gumbel(10, 1, 199)
        assert gumbel_pvalue(10.0, null) > 0.2
        assert gumbel_pvalue(25.0, null) < 1e-5  # beyond every permutation value


class TestMarkov:
    def test_bernoulli_loss_is_not_bursty(self) -> None:
        res = markov_vs_bernoulli((rng(12).random(5000) < 0.05).astype(np.int8))
        assert res is not None and res.pvalue > 0.01
        assert res.mean_run == pytest.approx(res.bernoulli_mean_run, abs=0.15)

    def test_runs_of_four_are_bursty(self) -> None:
        ind = np.zeros(5000, dtype=np.int8)
        for s in rng(13).choice(4990, 60, replace=False):
            ind[s:s + 4] = 1
        res = markov_vs_bernoulli(ind)
        assert res is not None and res.pvalue < 1e-10 and res.mean_run > 3


def test_block_bootstrap_covers_the_median() -> None:
    lo, hi = block_bootstrap_ci(rng(14).normal(40000, 500, 40), np.median)
    assert lo < 40000 < hi


class TestMultipleTesting:
    def test_holm_matches_definition(self) -> None:
        p = [0.01, 0.04, 0.03, 0.005]
        assert np.allclose(holm(p), [0.03, 0.06, 0.06, 0.02])

    def test_bh_matches_definition(self) -> None:
        p = [0.01, 0.04, 0.03, 0.005]
        assert np.allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])

    def test_adjust_rejects_unknown(self) -> None:
        with pytest.raises(ValueError):
            adjust([0.1], "bonferroni")

    def test_family_wise_error_under_the_null(self) -> None:
        r = rng(15)
        flagged = sum(bool((holm(r.random(12)) < 0.01).any()) for _ in range(2000))
        assert flagged / 2000 <= 0.015


class TestKolmogorovSmirnov:
    """Our two-sample KS (numpy, no scipy.stats import on the analysis path) against
    ``scipy.stats.ks_2samp`` on seeded samples: the exact p-value to 1e-9 (relative),
    the asymptotic one (beyond 10 000 values) within its stated approximation."""

    @pytest.mark.parametrize("seed", range(40))
    def test_exact_matches_scipy(self, seed: int) -> None:
        from scipy.stats import ks_2samp as scipy_ks

        r = rng(seed)
        n1 = int(r.integers(2, 1200))
        n2 = n1 if seed % 4 == 0 else int(r.integers(2, 1200))
        a, b = r.normal(0, 1, n1), r.normal([0.0, 0.1, 0.3, 1.0][seed % 4], 1, n2)
        if seed % 3 == 0:  # ties, as windowed metrics have
            a, b = np.round(a, 1), np.round(b, 1)
        ref = scipy_ks(a, b)
        d, p = ks_2samp(a, b)
        assert d == pytest.approx(float(ref.statistic), rel=1e-12)
        ref_p = max(float(ref.pvalue), P_FLOOR)
        assert max(p, P_FLOOR) == pytest.approx(ref_p, rel=1e-9, abs=1e-300)

    def test_window_sizes_of_a_long_call(self) -> None:
        from scipy.stats import ks_2samp as scipy_ks

        r = rng(3)
        a, b = r.gamma(2, 0.01, 900), r.gamma(2, 0.0105, 898)
        _, p = ks_2samp(a, b)
        assert p == pytest.approx(float(scipy_ks(a, b).pvalue), rel=1e-9)

    def test_far_apart_is_the_floor(self) -> None:
        r = rng(4)
        d, p = ks_2samp(r.normal(0, 1, 500), r.normal(3, 1, 400))
        assert p == P_FLOOR and d > 0.8

    @pytest.mark.parametrize("shift", [0.0, 0.02, 0.04])
    def test_asymptotic_beyond_the_exact_limit(self, shift: float) -> None:
        from scipy.stats import ks_2samp as scipy_ks

        r = rng(5)
        a, b = r.normal(0, 1, 12_000), r.normal(shift, 1, 10_500)
        ref = scipy_ks(a, b)
        d, p = ks_2samp(a, b)
        assert d == pytest.approx(float(ref.statistic), rel=1e-12)
        assert p == pytest.approx(float(ref.pvalue), rel=0.03)

    def test_kolmogorov_tail(self) -> None:
        from scipy.special import kolmogorov

        for lam in (0.05, 0.3, 0.7, 0.99, 1.0, 1.36, 2.0, 4.0, 8.0):
            assert kolmogorov_sf(lam) == pytest.approx(float(kolmogorov(lam)), rel=1e-12,
                                                       abs=1e-300)

    def test_wehe_compare_does_not_import_scipy_stats(self) -> None:
        from tests.support.imports import modules_after

        loaded = modules_after("import numpy as np; "
                               "from analyzer.detectors.stats import wehe_compare;"
                               "wehe_compare(np.arange(50.0), np.arange(60.0) * 1.1)")
        assert "scipy.stats" not in loaded


def test_block_bootstrap_of_a_numpy_reduction_is_the_per_resample_one() -> None:
    x = rng(9).gamma(2, 1000, 301)
    for stat in (np.median, np.mean):
        fast = block_bootstrap_ci(x, stat, rng=rng(0))
        slow = block_bootstrap_ci(x, lambda v, f=stat: float(f(v)), rng=rng(0))
        assert fast == slow


def test_bernoulli_scan_stops_early_only_where_the_full_count_agrees() -> None:
    """The early stops (ten nulls reached, or far beyond every draw at a checkpoint) are
    decided on counts of draws from the same seeded permutations: a clear change is
    reported at the floor, a null series far above every level, a borderline one with
    the full count's p-value."""
    r = rng(21)
    clear = np.zeros(20_000, dtype=np.int8)
    clear[10_000:] = r.random(10_000) < 0.05
    cp = bernoulli_scan(clear, min_size=250, n_perm=99, rng=rng(0))
    assert cp is not None and cp.pvalue == 1e-16
    flat = (r.random(20_000) < 0.02).astype(np.int8)
    early = bernoulli_scan(flat, min_size=250, n_perm=99, rng=rng(0))
    full = bernoulli_scan(flat, min_size=250, n_perm=99, rng=rng(0), stop_exceedances=10**6)
    if early is not None and full is not None:
        assert (early.pvalue > 0.1) == (full.pvalue > 0.1)
