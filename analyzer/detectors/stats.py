"""Statistical building blocks of the detectors, on plain numpy arrays.

* Wehe's comparison of two samples (Kakhki et al., IMC 2015; ../shared/DOMAIN.md §4): the
  two-sample Kolmogorov-Smirnov test plus the *area test* - the integral over
  ``q in [0.001, 1]`` of ``|F1^-1(q) - F2^-1(q)|`` divided by ``min(max1, max2)`` - read
  with Wehe's band: area > 0.1 and p < 0.05 "different", area < 0.1 and p > 0.05 "same",
  otherwise "inconclusive" (:func:`wehe_compare`);
* the Mann-Whitney rank test with the Hodges-Lehmann shift and its distribution-free
  (Moses) confidence interval (:func:`rank_shift`);
* a one-sided test of an event rate against a null rate with over-dispersion estimated from
  windows (quasi-binomial, :func:`excess_rate_test`);
* change-point scans: Pettitt's rank test for a windowed series (:func:`pettitt`) and the
  Bernoulli likelihood-ratio scan for a loss indicator (:func:`bernoulli_scan`);
* the Markov (Gilbert) against Bernoulli likelihood ratio for loss runs
  (:func:`markov_vs_bernoulli`);
* a moving-block bootstrap percentile interval (:func:`block_bootstrap_ci`).

No scipy: ``scipy.stats`` costs about 0.5 s and 100 MiB at import and ``scipy.special``
0.17 s, more than an analysis spends computing. The two-sample Kolmogorov-Smirnov test
(:func:`ks_2samp`, exact below 10 000 values as scipy's, asymptotic above), ranks and the
asymptotic Mann-Whitney test are computed here, the normal, chi-square and t tails in
:mod:`analyzer.detectors.special`; the tests compare each with scipy's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from analyzer.detectors import special

#: Wehe's decision band.
WEHE_AREA_THRESHOLD = 0.1
WEHE_ALPHA = 0.05
#: Quantile grid of the area test.
AREA_Q_MIN = 0.001
AREA_Q_POINTS = 1000
#: Smallest p-value reported (permutation and asymptotic tails are not trusted below it).
P_FLOOR = 1e-16


def _clean(x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    return a[np.isfinite(a)]


def norm_sf(z: float) -> float:
    """Upper tail of the standard normal (as ``scipy.stats.norm.sf``)."""
    return special.ndtr(-z)


def norm_ppf(q: float) -> float:
    """Quantile of the standard normal (as ``scipy.stats.norm.ppf``)."""
    return special.ndtri(q)


def chi2_sf(x: float, df: float) -> float:
    """Upper tail of the chi-square distribution (as ``scipy.stats.chi2.sf``)."""
    return special.chdtrc(df, x)


def chi2_cdf(x: float, df: float) -> float:
    """Lower tail of the chi-square distribution (as ``scipy.stats.chi2.cdf``)."""
    return special.chdtr(df, x)


def student_t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t distribution (as ``scipy.stats.t.ppf``)."""
    return special.stdtrit(df, q)


def rank_average(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks (1-based, ties get their average rank, as ``scipy.stats.rankdata``) and the
    size of each group of tied values."""
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    edge = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1], [True])))
    counts = np.diff(edge)
    ranks = np.empty(a.size, dtype=np.float64)
    ranks[order] = np.repeat(0.5 * (edge[:-1] + edge[1:] + 1), counts)
    return ranks, counts


def mann_whitney(a: np.ndarray, b: np.ndarray, alternative: str) -> tuple[float, float]:
    """Mann-Whitney U of ``a`` and its asymptotic p-value with the tie and continuity
    corrections (as ``scipy.stats.mannwhitneyu(..., method="asymptotic")``)."""
    n1, n2 = a.size, b.size
    ranks, t = rank_average(np.concatenate([a, b]))
    u1 = float(np.sum(ranks[:n1])) - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    u, f = {"greater": (u1, 1), "less": (u2, 1)}.get(alternative, (max(u1, u2), 2))
    n = n1 + n2
    tf = t.astype(np.float64)
    tie_term = float(np.sum(tf ** 3 - tf))
    sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.float64(u - n1 * n2 / 2 - 0.5) / np.float64(sd)
    return u1, min(max(norm_sf(float(z)) * f, 0.0), 1.0)


def area_statistic(x: Any, y: Any, *, scale_floor: float = 0.0) -> float:
    """Wehe's area between the quantile functions of ``x`` and ``y``, normalised.

    ``scale_floor`` keeps the normaliser ``min(max x, max y)`` away from zero (e.g. a loss
    fraction that is 0 in every window of one sample).
    """
    a, b = _clean(x), _clean(y)
    if a.size == 0 or b.size == 0:
        return float("nan")
    q = np.linspace(AREA_Q_MIN, 1.0, AREA_Q_POINTS)
    qa = np.quantile(a, q, method="inverted_cdf")
    qb = np.quantile(b, q, method="inverted_cdf")
    f = np.abs(qa - qb)
    integral = float(np.sum((f[1:] + f[:-1]) * np.diff(q)) / 2)  # trapezoid rule
    scale = max(min(float(a.max()), float(b.max())), scale_floor)
    if scale <= 0:
        return 0.0 if integral == 0 else float("inf")
    return integral / scale


#: Two-sample KS: exact p-value up to this many values in the larger sample (scipy's
#: ``method="auto"`` limit), the asymptotic Kolmogorov distribution above it.
KS_EXACT_MAX_N = 10_000
#: The KS p-value is reported as :data:`P_FLOOR` without the exact computation when the
#: leading term ``exp(-2 n_e D^2)`` of the tail is below this (the two-sample DKW bounds
#: of Wei & Dudley 2012 keep the exact tail within a small constant of it).
KS_FLOOR_TERM = 1e-30


def kolmogorov_sf(lam: float) -> float:
    """Upper tail of the Kolmogorov distribution, ``P(K > lam)`` (as
    ``scipy.special.kolmogorov``): the alternating series for ``lam >= 1``, the Jacobi
    theta form below (both converge to double precision in a few terms)."""
    if not lam > 0:
        return 1.0
    if lam >= 1.0:
        s, k = 0.0, 1
        while True:
            term = math.exp(-2.0 * k * k * lam * lam)
            s += term if k % 2 else -term
            if term < 1e-17 * max(s, 1e-300) or term == 0.0:
                break
            k += 1
        return min(1.0, max(0.0, 2.0 * s))
    c = math.pi * math.pi / (8.0 * lam * lam)
    s = sum(math.exp(-(2 * k - 1) ** 2 * c) for k in range(1, 8))
    return min(1.0, max(0.0, 1.0 - math.sqrt(2.0 * math.pi) / lam * s))


def _ks_outside_square(n: int, h: int) -> float:
    """``P(D >= h / n)`` for two samples of ``n`` each: ``2 sum_k (-1)^(k+1)
    C(2n, n - k h) / C(2n, n)``, evaluated as a nested product (no cancellation)."""
    kmax = n // h
    j = np.arange(h, dtype=np.float64)
    ks = np.arange(kmax + 1, dtype=np.float64)[:, None] * h
    ratios = np.prod((n - ks - j) / (n + ks + j + 1), axis=1)  # ratio to the k - 1 term
    p = 0.0
    for r in ratios[::-1]:
        p = float(r) * (1.0 - p)
    return 2.0 * p


def _ks_outside_band(m: int, n: int, g: int, h: int) -> float:
    """Share of the monotone lattice paths from ``(0, 0)`` to ``(m, n)`` that reach
    ``|n x - m y| >= h g`` (Hodges' inside method, computed as ``1 - inside`` directly as
    Viehmann 2021 does). ``A(x, y)``, the share of the paths to ``(x, y)`` that left the
    band, is 1 outside it and ``(x A(x-1, y) + y A(x, y-1)) / (x + y)`` inside. Column by
    column (over the smaller sample), each column's recurrence in ``y`` is linear of first
    order, ``A_y = c_y + q_y A_(y-1)`` with ``q_y = y / (x + y)``, and solved at once:
    ``A_y = Q_y (A_(lo-1) + cumsum(c / Q)_y)`` with ``Q_y = y! (x + lo - 1)! / ((lo - 1)!
    (x + y)!)`` from a log-factorial table (in pieces when ``Q`` spans more than
    ``e^600``, so nothing overflows): O(min(m, n)) numpy steps over the band's width."""
    if m > n:
        m, n = n, m  # columns over the smaller sample: x in 0..m, y in 0..n
    mg, ng = m // g, n // g
    # inside the band: |x ng - y mg| < h (units of 1 / lcm(m, n))
    lf = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, m + n + 1, dtype=np.float64)))))
    yv = np.arange(n + 1, dtype=np.float64)
    lo, hi = 0, min(-(-h // mg), n + 1)
    col = np.zeros(hi)  # column x = 0: inside the band, no path has left yet
    for x in range(1, m + 1):
        plo, phi, prev = lo, hi, col
        lo = min(max((ng * x - h) // mg + 1, 0), n)
        hi = min(-((-(ng * x + h)) // mg), n + 1)
        if hi <= lo:
            return 1.0
        c = np.ones(hi - lo)  # A(x - 1, y): 1 outside the previous column's band
        if phi > lo:
            c[:phi - lo] = prev[lo - plo:]
        c *= x / (x + yv[lo:hi])
        if lo == 0:  # q_0 = 0: A(x, 0) = c_0
            first, v = 1, float(c[0])
        else:
            first, v = 0, 1.0  # A(x, lo - 1) is outside the band
        s = lo + first  # the first y solved by the cumulative product
        base = lf[s - 1] - lf[x + s - 1]
        lq = (lf[s:hi] - lf[x + s:x + hi]) - base  # log Q_y, y = s..hi-1 (<= 0)
        c[first:] = _first_order(c[first:], lq, v)
        col = c
    return float(col[n - lo])  # (m, n) is inside the band: |m ng - n mg| = 0


def _first_order(c: np.ndarray, lq: np.ndarray, v: float) -> np.ndarray:
    """``A_y = c_y + q_y A_(y-1)`` from ``A_(-1) = v``, given ``lq = cumsum(log q)``."""
    if lq.size == 0 or lq[-1] > -600.0:
        e = np.exp(lq)
        return e * (v + np.cumsum(c / e))
    out = np.empty_like(c)
    s = 0
    while s < c.size:  # pieces in which the product spans less than e^600
        e_ = s + int(np.searchsorted(-lq[s:], -lq[s] + 600.0, side="right"))
        e_ = max(e_, s + 1)
        rel = lq[s:e_] - (lq[s - 1] if s else 0.0)
        w = np.exp(rel)
        out[s:e_] = w * (v + np.cumsum(c[s:e_] / w))
        v = float(out[e_ - 1])
        s = e_
    return out


def ks_2samp(x: Any, y: Any) -> tuple[float, float]:
    """Two-sample two-sided Kolmogorov-Smirnov test: ``(D, p)`` as
    ``scipy.stats.ks_2samp(x, y)`` gives them (``method="auto"``): the exact p-value
    (:func:`_ks_outside_square`, :func:`_ks_outside_band`) when neither sample has more
    than :data:`KS_EXACT_MAX_N` values, else the asymptotic Kolmogorov tail at
    ``D (sqrt(n_e) + 0.12 + 0.11 / sqrt(n_e))`` (Stephens 1970; scipy evaluates the
    one-sample distribution of size ``n_e = n m / (n + m)`` there instead: the two agree
    within 0.3 % at p = 0.05 and 3 % at p = 1e-6 for ``n_e >= 100``). A tail far below
    :data:`P_FLOOR` is reported as ``P_FLOOR`` without the exact sum."""
    a, b = np.sort(np.asarray(x, dtype=np.float64)), np.sort(np.asarray(y, dtype=np.float64))
    n1, n2 = a.size, b.size
    if n1 == 0 or n2 == 0:
        raise ValueError("ks_2samp needs two non-empty samples")
    both = np.concatenate([a, b])
    diff = np.searchsorted(a, both, side="right") / n1 - np.searchsorted(
        b, both, side="right") / n2
    d = max(float(np.clip(-diff.min(), 0, 1)), float(diff.max()))
    en = n1 * n2 / (n1 + n2)
    if math.exp(-2.0 * en * d * d) < KS_FLOOR_TERM:
        return d, P_FLOOR
    if max(n1, n2) <= KS_EXACT_MAX_N:
        g = math.gcd(n1, n2)
        lcm = (n1 // g) * n2
        h = round(d * lcm)
        d = h / lcm
        if h == 0:
            return d, 1.0
        p = _ks_outside_square(n1, h) if n1 == n2 else _ks_outside_band(n1, n2, g, h)
        if 0.0 <= p <= 1.0:
            return d, p
    s = math.sqrt(en)
    return d, kolmogorov_sf(d * (s + 0.12 + 0.11 / s))


@dataclass(frozen=True)
class WeheComparison:
    """KS two-sample test and area statistic with Wehe's three-way decision."""

    statistic: float  # KS D
    pvalue: float
    area: float
    decision: str  # "different", "same" or "inconclusive"
    n: int
    m: int

    def to_dict(self) -> dict[str, Any]:
        return {"ks_statistic": self.statistic, "ks_pvalue": self.pvalue, "area": self.area,
                "decision": self.decision, "n": self.n, "m": self.m}


def wehe_decision(area: float, pvalue: float, *, area_threshold: float = WEHE_AREA_THRESHOLD,
                  alpha: float = WEHE_ALPHA) -> str:
    if area > area_threshold and pvalue < alpha:
        return "different"
    if area < area_threshold and pvalue > alpha:
        return "same"
    return "inconclusive"


def wehe_compare(x: Any, y: Any, *, scale_floor: float = 0.0,
                 area_threshold: float = WEHE_AREA_THRESHOLD,
                 alpha: float = WEHE_ALPHA) -> WeheComparison:
    """Wehe's KS + area comparison of sample ``x`` against reference ``y`` (the KS test
    is :func:`ks_2samp`)."""
    a, b = _clean(x), _clean(y)
    if a.size < 2 or b.size < 2:
        return WeheComparison(float("nan"), float("nan"), float("nan"), "inconclusive",
                              int(a.size), int(b.size))
    d, p = ks_2samp(a, b)
    area = area_statistic(a, b, scale_floor=scale_floor)
    p = max(p, P_FLOOR)
    return WeheComparison(d, p, area,
                          wehe_decision(area, p, area_threshold=area_threshold, alpha=alpha),
                          int(a.size), int(b.size))


@dataclass(frozen=True)
class RankShift:
    """Mann-Whitney U test of ``x`` against ``y`` and the Hodges-Lehmann shift ``x - y``."""

    statistic: float  # U of x
    pvalue: float
    shift: float
    interval: tuple[float, float]
    confidence: float
    alternative: str

    def to_dict(self) -> dict[str, Any]:
        return {"u_statistic": self.statistic, "pvalue": self.pvalue,
                "hodges_lehmann": self.shift, "interval": list(self.interval),
                "confidence_level": self.confidence, "alternative": self.alternative}


#: Above this many pairs the reference is thinned to its quantiles for the HL estimate.
HL_MAX_PAIRS = 400_000


def hodges_lehmann(x: Any, y: Any, *, confidence: float = 0.95
                   ) -> tuple[float, tuple[float, float]]:
    """Hodges-Lehmann shift (median of all ``x_i - y_j``) and its Moses interval.

    The interval takes the order statistics of the pairwise differences at the ranks the
    normal approximation of the Mann-Whitney null gives (ties make it slightly wide).
    """
    a, b = _clean(x), _clean(y)
    if a.size == 0 or b.size == 0:
        return float("nan"), (float("nan"), float("nan"))
    if a.size * b.size > HL_MAX_PAIRS:  # thin the larger sample to evenly spaced quantiles
        if b.size >= a.size:
            b = np.quantile(b, (np.arange(max(1, HL_MAX_PAIRS // a.size)) + 0.5)
                            / max(1, HL_MAX_PAIRS // a.size))
        else:
            a = np.quantile(a, (np.arange(max(1, HL_MAX_PAIRS // b.size)) + 0.5)
                            / max(1, HL_MAX_PAIRS // b.size))
    d = (a[:, None] - b[None, :]).ravel()
    n, m = a.size, b.size
    nm = d.size
    z = norm_ppf(0.5 + confidence / 2)
    c = math.floor(nm / 2 - z * math.sqrt(n * m * (n + m + 1) / 12.0))
    c = min(max(c, 0), nm - 1)
    # only four order statistics are needed: a partition, not a sort
    mid_lo, mid_hi, top = (nm - 1) // 2, nm // 2, max(nm - 1 - c, c)
    d.partition(sorted({c, mid_lo, mid_hi, top}))
    median = float(d[mid_hi]) if nm % 2 else float((d[mid_lo] + d[mid_hi]) / 2)
    return median, (float(d[c]), float(d[top]))


def rank_shift(x: Any, y: Any, *, alternative: str = "greater",
               confidence: float = 0.95) -> RankShift:
    """Mann-Whitney U (asymptotic, tie-corrected) and the Hodges-Lehmann shift of x - y."""
    a, b = _clean(x), _clean(y)
    if a.size < 2 or b.size < 2:
        return RankShift(float("nan"), float("nan"), float("nan"), (float("nan"),) * 2,
                         confidence, alternative)
    if np.ptp(np.concatenate([a, b])) == 0:
        p = 1.0
        u = a.size * b.size / 2.0
    else:
        u, p = mann_whitney(a, b, alternative)
    shift, ci = hodges_lehmann(a, b, confidence=confidence)
    return RankShift(u, max(p, P_FLOOR), shift, ci, confidence, alternative)


@dataclass(frozen=True)
class RateTest:
    """One-sided test of an event rate (e.g. loss) against ``null_rate``."""

    statistic: float  # z
    pvalue: float
    rate: float
    interval: tuple[float, float]
    null_rate: float
    dispersion: float
    events: int
    trials: int

    def to_dict(self) -> dict[str, Any]:
        return {"z": self.statistic, "pvalue": self.pvalue, "rate": self.rate,
                "interval": list(self.interval), "null_rate": self.null_rate,
                "dispersion": self.dispersion, "events": self.events, "trials": self.trials}


def wilson_interval(k: float, n: float, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``k`` and ``n`` may be effective,
    non-integer counts)."""
    if n <= 0:
        return (0.0, 1.0)
    z = norm_ppf(0.5 + confidence / 2)
    p = min(max(k / n, 0.0), 1.0)
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def dispersion(events: np.ndarray, trials: np.ndarray) -> float:
    """Pearson dispersion of per-window event counts around their pooled rate (>= 1)."""
    ok = trials > 0
    e, t = events[ok].astype(np.float64), trials[ok].astype(np.float64)
    if e.size < 3:
        return 1.0
    p = e.sum() / t.sum()
    if p <= 0 or p >= 1:
        return 1.0
    chi2 = float(np.sum((e - t * p) ** 2 / (t * p * (1 - p))))
    return max(1.0, chi2 / (e.size - 1))


def excess_rate_test(events: np.ndarray, trials: np.ndarray, null_rate: float, *,
                     confidence: float = 0.95) -> RateTest:
    """Is the pooled rate of ``events`` among ``trials`` (per window) above ``null_rate``?

    z = (p - p0) / sqrt(phi p0 (1 - p0) / N), phi the windows' Pearson dispersion (>= 1),
    so loss that comes in bursts does not pass for stronger evidence than it is. The
    interval is Wilson's, widened by sqrt(phi).
    """
    e = np.asarray(events, dtype=np.float64)
    t = np.asarray(trials, dtype=np.float64)
    k, n = round(e.sum()), round(t.sum())
    if n <= 0:
        return RateTest(float("nan"), 1.0, float("nan"), (0.0, 1.0), null_rate, 1.0, k, n)
    phi = dispersion(e, t)
    p = k / n
    p0 = min(max(null_rate, 1e-9), 1 - 1e-9)
    z = (p - p0) / math.sqrt(phi * p0 * (1 - p0) / n)
    pval = max(norm_sf(z), P_FLOOR)
    lo, hi = wilson_interval(k / phi, n / phi, confidence=confidence)
    return RateTest(z, pval, p, (lo, hi), null_rate, phi, k, n)


@dataclass(frozen=True)
class ChangePoint:
    """A single change point: ``index`` is the first element of the second segment."""

    index: int
    statistic: float
    pvalue: float
    before: float  # mean (or rate) before
    after: float

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "statistic": self.statistic, "pvalue": self.pvalue,
                "before": self.before, "after": self.after}


def pettitt(x: Any, *, min_size: int = 3, direction: str = "increase") -> ChangePoint | None:
    """Pettitt's rank change-point test on a series.

    ``U_t = 2 * sum(ranks[:t]) - t (n + 1)``; for an increase the statistic is
    ``K = max(-U_t)`` over ``t`` in ``[min_size, n - min_size]`` and the one-sided p-value
    ``exp(-6 K^2 / (n^3 + n^2))`` (Pettitt 1979; ``"both"`` doubles it). ``None`` when the
    series is too short.
    """
    a = np.asarray(x, dtype=np.float64)
    n = a.size
    if n < 2 * min_size or not np.all(np.isfinite(a)):
        return None
    r = rank_average(a)[0]
    t = np.arange(1, n)
    u = 2 * np.cumsum(r)[:-1] - t * (n + 1)
    sel = slice(min_size - 1, n - min_size)
    if direction == "increase":
        s = -u[sel]
    elif direction == "decrease":
        s = u[sel]
    else:
        s = np.abs(u[sel])
    if s.size == 0:
        return None
    j = int(np.argmax(s))
    k = float(s[j])
    tau = j + min_size  # first index of the second segment
    p = math.exp(-6.0 * k * k / (n ** 3 + n ** 2))
    if direction == "both":
        p *= 2
    return ChangePoint(tau, k, min(1.0, max(p, P_FLOOR)), float(a[:tau].mean()),
                       float(a[tau:].mean()))


def _bernoulli_ll(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.maximum(n, 1), 0.0)
        a = np.where(k > 0, k * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(n - k > 0, (n - k) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    return a + b


def _scan_llr(ind: np.ndarray, min_size: int) -> tuple[int, float]:
    n = ind.size
    c = np.concatenate(([0], np.cumsum(ind)))
    t = np.arange(min_size, n - min_size + 1)
    if t.size == 0:
        return -1, 0.0
    k1, k2 = c[t], c[n] - c[t]
    ll = _bernoulli_ll(k1, t) + _bernoulli_ll(k2, n - t) - _bernoulli_ll(
        np.array([c[n]]), np.array([n]))[0]
    inc = k2 / (n - t) > k1 / t
    ll = np.where(inc, ll, 0.0)
    j = int(np.argmax(ll))
    return int(t[j]), float(ll[j])


def gumbel_tail(observed: float, null: np.ndarray) -> float:
    """Upper tail at ``observed`` of a Gumbel fitted by moments to ``null`` maxima."""
    sd = float(np.std(null))
    if sd <= 0:
        return 1.0 if observed <= float(np.mean(null)) else 0.0
    beta = sd * math.sqrt(6) / math.pi
    mu = float(np.mean(null)) - 0.5772156649 * beta
    return -math.expm1(-math.exp(-(observed - mu) / beta))


def gumbel_pvalue(observed: float, null: np.ndarray) -> float:
    """Upper-tail p-value of ``observed`` from a Gumbel fitted (by moments) to ``null``
    maxima, never below the plain permutation p-value's resolution floor of P_FLOOR."""
    null = np.asarray(null, dtype=np.float64)
    exceed = int(np.sum(null >= observed))
    emp = (1 + exceed) / (1 + null.size)
    if exceed or float(null.std()) <= 0:
        return emp
    # beyond the permutation resolution: extrapolate with the fitted tail
    return max(P_FLOOR, min(emp, gumbel_tail(observed, null)))


def _null_llr(n: int, pos: np.ndarray, min_size: int) -> np.ndarray:
    """The scan statistics of permuted 0/1 series of length ``n``, one per row of ``pos``
    (the sorted positions of the ``k`` ones of each), in O(k) each rather than O(n).

    Between two ones the count before the split is constant and the likelihood ratio is
    convex in the split (``t H(k/t)`` is concave), and where the "increase" condition fails
    it is floored at 0 from a point where it is 0: so its maximum over the scan is at a
    one's position, just after one, or at the ends of the scanned range. Only those
    candidates are evaluated.
    """
    lo, hi = min_size, n - min_size
    draws, k = pos.shape
    # each candidate split and the ones before it: j at a one's position p_j, j + 1 just
    # after it, the count before the range's end where the candidate falls outside it
    t = np.empty((draws, 2 * k + 2), dtype=np.int64)  # sorted (repeats do not matter)
    t[:, 0], t[:, 1:-1:2], t[:, 2:-1:2], t[:, -1] = lo, pos, pos + 1, hi
    at_lo = (pos < lo).sum(axis=1)[:, None]
    at_hi = (pos < hi).sum(axis=1)[:, None]
    k1 = np.where(t <= lo, at_lo, np.where(t >= hi, at_hi, np.arange(2 * k + 2) // 2))
    np.clip(t, lo, hi, out=t)
    # the same expression as the observed scan's, so a tie with it is a tie here too
    k2 = k - k1
    ll = _bernoulli_ll(k1, t) + _bernoulli_ll(k2, n - t) - _bernoulli_ll(
        np.array([k]), np.array([n]))[0]
    return np.max(np.where(k2 / (n - t) > k1 / t, ll, 0.0), axis=1)


#: Sequential (Besag-Clifford) permutation tests stop once this many null statistics have
#: reached the observed one: the p-value is then ``h / permutations drawn`` and no longer
#: near any decision level, so further permutations would not change the conclusion.
STOP_EXCEEDANCES = 10
#: ... and at these counts of draws they stop when no null statistic has reached the
#: observed one and the Gumbel tail fitted to the draws so far is below
#: :data:`STOP_TAIL`: the p-value is then :data:`P_FLOOR`, which the full count gives too
#: unless its fitted tail is about twice as wide (either way far below every level).
STOP_CHECKPOINTS = (19, 49)
STOP_TAIL = P_FLOOR ** 2


def clearly_below(observed: float, null: np.ndarray) -> bool:
    """The early stop of a permutation test at a checkpoint of :data:`STOP_CHECKPOINTS`:
    no draw reached ``observed`` and the fitted tail is below :data:`STOP_TAIL`."""
    return bool(null.size >= 2 and not np.any(null >= observed)
                and gumbel_tail(observed, null) < STOP_TAIL)


#: Null draws evaluated together at most (the stop rule counts them one by one).
NULL_BLOCK = 8


def bernoulli_scan(ind: Any, *, min_size: int = 50, n_perm: int = 99,
                   rng: np.random.Generator | None = None,
                   stop_exceedances: int = STOP_EXCEEDANCES) -> ChangePoint | None:
    """Single change point (an increase) in a 0/1 series by the Bernoulli likelihood
    ratio, with a permutation p-value (Gumbel tail beyond the permutation resolution).

    At most ``n_perm`` permutations (``rng.permutation``, seeded, so reproducible), each
    scanned at the few splits that can hold the maximum; the count adapts: it stops after
    ``stop_exceedances`` null statistics reach the observed one (Besag & Clifford 1991;
    p = h / permutations drawn, then at least h / n_perm: never near a decision level, so
    every p-value below it is the one the full count gives), or at a checkpoint of
    :data:`STOP_CHECKPOINTS` when the observed one is far beyond every draw so far
    (:func:`clearly_below`; p = :data:`P_FLOOR`). The stops are decided on counts of
    draws, never on time, so the result is reproducible.
    """
    a = np.asarray(ind, dtype=np.int8)
    n = a.size
    k = int(a.sum())
    if n < 2 * min_size or k == 0:
        return None
    tau, llr = _scan_llr(a, min_size)
    if tau < 0:
        return None
    rng = rng or np.random.default_rng(0)
    null = np.empty(n_perm)
    exceed, drawn, p = 0, 0, float("nan")
    while drawn < n_perm and np.isnan(p):  # in blocks; the stop is decided draw by draw
        # a block never runs past a checkpoint nor past the draw that may stop the test
        draws = min(NULL_BLOCK, n_perm - drawn, max(1, stop_exceedances - exceed),
                    *(c - drawn for c in STOP_CHECKPOINTS if c > drawn))
        pos = np.empty((draws, k), dtype=np.int64)
        for i in range(draws):
            pos[i] = np.flatnonzero(rng.permutation(a))
        block = _null_llr(n, pos, min_size)
        for v in block:
            null[drawn] = v
            drawn += 1
            exceed += bool(v >= llr)
            if exceed >= stop_exceedances and drawn < n_perm:
                p = exceed / drawn
                break
            if drawn in STOP_CHECKPOINTS and drawn < n_perm and clearly_below(
                    llr, null[:drawn]):
                p = P_FLOOR
                break
    if np.isnan(p):
        p = gumbel_pvalue(llr, null)
    return ChangePoint(tau, llr, p, float(a[:tau].mean()), float(a[tau:].mean()))


@dataclass(frozen=True)
class MarkovTest:
    """Gilbert (two-state Markov) against Bernoulli loss: likelihood ratio ``G``."""

    statistic: float
    pvalue: float
    p_loss: float  # pooled loss rate
    p_loss_after_received: float  # P(lost | previous received)
    p_loss_after_lost: float  # P(lost | previous lost)
    mean_run: float  # observed mean run length of losses
    bernoulli_mean_run: float  # 1 / (1 - p_loss)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def markov_vs_bernoulli(ind: Any) -> MarkovTest | None:
    """Likelihood ratio of a first-order Markov chain against independent losses.

    ``G = 2 (l_markov - l_bernoulli)`` is asymptotically chi-square with one degree of
    freedom; the p-value is one-sided (losses cluster: ``P(lost|lost) > P(lost|received)``).
    ``None`` without at least one loss and one received packet.
    """
    a = np.asarray(ind, dtype=np.int8)
    if a.size < 3 or a.sum() == 0 or a.sum() == a.size:
        return None
    prev, cur = a[:-1], a[1:]
    n00 = int(np.sum((prev == 0) & (cur == 0)))
    n01 = int(np.sum((prev == 0) & (cur == 1)))
    n10 = int(np.sum((prev == 1) & (cur == 0)))
    n11 = int(np.sum((prev == 1) & (cur == 1)))
    k = n01 + n11
    n = n00 + n01 + n10 + n11
    ll_b = float(_bernoulli_ll(np.array([k]), np.array([n]))[0])
    ll_m = float(_bernoulli_ll(np.array([n01]), np.array([n00 + n01]))[0]
                 + _bernoulli_ll(np.array([n11]), np.array([n10 + n11]))[0])
    g = max(0.0, 2 * (ll_m - ll_b))
    p01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    p11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    p = chi2_sf(g, 1)
    p = p / 2 if p11 > p01 else 1 - p / 2  # one-sided
    lost = int(a.sum())
    edges = np.diff(np.concatenate(([0], a, [0])))
    runs = int(np.sum(edges == 1))
    pl = lost / a.size
    return MarkovTest(g, max(p, P_FLOOR), pl, p01, p11, lost / runs if runs else 0.0,
                      1.0 / (1.0 - pl) if pl < 1 else float("inf"))


#: Statistics :func:`block_bootstrap_ci` evaluates on every resample at once (``axis=1``).
AXIS_REDUCTIONS: tuple[Callable[..., Any], ...] = (np.median, np.mean, np.std, np.var,
                                                   np.min, np.max)


def block_bootstrap_ci(values: Any, statistic: Callable[[np.ndarray], float], *,
                       n_boot: int = 400, block: int | None = None, confidence: float = 0.95,
                       rng: np.random.Generator | None = None) -> tuple[float, float]:
    """Moving-block bootstrap percentile interval of ``statistic`` over a series (a numpy
    reduction of :data:`AXIS_REDUCTIONS` runs once over all resamples, row by row; any
    other statistic once per resample: the same values)."""
    a = _clean(values)
    n = a.size
    if n < 3:
        v = statistic(a) if n else float("nan")
        return (v, v)
    rng = rng or np.random.default_rng(0)
    b = block or max(1, round(n ** (1 / 3)))
    nblocks = math.ceil(n / b)
    starts = rng.integers(0, n - b + 1, size=(n_boot, nblocks))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(n_boot, -1)[:, :n]
    if statistic in AXIS_REDUCTIONS:
        reduce: Callable[..., Any] = statistic
        stats = np.asarray(reduce(a[idx], axis=1), dtype=np.float64)
    else:
        stats = np.array([statistic(a[row]) for row in idx])
    lo, hi = np.quantile(stats, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)
