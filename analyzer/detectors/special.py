"""The few special functions the detectors need, in plain Python (``math``).

``scipy.special`` costs about 0.17 s of a run's start-up to import (its array-API layer
pulls in much of numpy), more than most analyses spend computing; these are the scalar
functions the tests of :mod:`analyzer.detectors.stats` evaluate, each to about 1e-13
relative of scipy's (``tests/detectors/test_special.py`` compares them):

* the standard normal tail and quantile (:func:`ndtr`, :func:`ndtri`);
* the regularized incomplete gamma functions, hence the chi-square tails
  (:func:`gammainc`, :func:`gammaincc`);
* the regularized incomplete beta function, hence Student's t distribution and its
  quantile (:func:`betainc`, :func:`stdtr`, :func:`stdtrit`).

The incomplete gamma and beta functions are the textbook series and continued fractions
(modified Lentz), as in Numerical Recipes §6.2 and §6.4.
"""

from __future__ import annotations

import math

_EPS = 1e-16
_TINY = 1e-300
_MAX_ITER = 10_000


def ndtr(x: float) -> float:
    """Standard normal CDF ``P(Z <= x)``."""
    if x < 0:
        return 0.5 * math.erfc(-x / math.sqrt(2.0))
    return 1.0 - 0.5 * math.erfc(x / math.sqrt(2.0))


def _norm_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


# Acklam's rational approximation of the normal quantile (relative error 1.15e-9),
# refined below by Halley steps on the exact CDF.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)


def ndtri(q: float) -> float:
    """Standard normal quantile: ``x`` with ``ndtr(x) = q``."""
    if not 0.0 < q < 1.0:
        if q == 0.0:
            return -math.inf
        if q == 1.0:
            return math.inf
        return math.nan
    if q > 0.5:
        return -ndtri(1.0 - q) if 1.0 - q > 0 else math.inf
    if q < 0.02425:
        r = math.sqrt(-2.0 * math.log(q))
        x = (((((_C[0] * r + _C[1]) * r + _C[2]) * r + _C[3]) * r + _C[4]) * r + _C[5]) / \
            ((((_D[0] * r + _D[1]) * r + _D[2]) * r + _D[3]) * r + 1.0)
    else:
        r0 = q - 0.5
        r = r0 * r0
        x = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * r0 / \
            (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
    for _ in range(3):  # Halley on the lower tail (x <= 0 here: no cancellation)
        e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - q
        u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
        x -= u / (1.0 + 0.5 * x * u)
    return x


def _gamma_series(a: float, x: float) -> float:
    """``P(a, x)`` by its series (for ``x < a + 1``)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _lentz_step(an: float, bn: float, c: float, d: float) -> tuple[float, float, float]:
    """One term ``an / (bn + ...)`` of a continued fraction by the modified Lentz method:
    the new ``c`` and ``d`` and the factor the fraction's value is multiplied by."""
    d = an * d + bn
    d = _TINY if abs(d) < _TINY else d
    c = bn + an / c
    c = _TINY if abs(c) < _TINY else c
    d = 1.0 / d
    return c, d, d * c


def _gamma_cf(a: float, x: float) -> float:
    """``Q(a, x)`` by its continued fraction (for ``x >= a + 1``)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        b += 2.0
        c, d, delta = _lentz_step(-i * (i - a), b, c, d)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def gammainc(a: float, x: float) -> float:
    """Regularized lower incomplete gamma ``P(a, x)`` (``a > 0``)."""
    if x <= 0:
        return 0.0
    if math.isinf(x):
        return 1.0
    return _gamma_series(a, x) if x < a + 1.0 else 1.0 - _gamma_cf(a, x)


def gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma ``Q(a, x) = 1 - P(a, x)`` (``a > 0``)."""
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    return 1.0 - _gamma_series(a, x) if x < a + 1.0 else _gamma_cf(a, x)


def chdtrc(df: float, x: float) -> float:
    """Chi-square upper tail with ``df`` degrees of freedom (as ``scipy.special.chdtrc``)."""
    return gammaincc(df / 2.0, x / 2.0)


def chdtr(df: float, x: float) -> float:
    """Chi-square lower tail with ``df`` degrees of freedom (as ``scipy.special.chdtr``)."""
    return gammainc(df / 2.0, x / 2.0)


def _beta_cf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        c, d, even = _lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), 1.0, c, d)
        h *= even
        c, d, delta = _lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), 1.0,
                                  c, d)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta ``I_x(a, b)`` (``a, b > 0``, ``0 <= x <= 1``)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1.0 - x) / b


def stdtr(df: float, t: float) -> float:
    """Student's t CDF with ``df`` degrees of freedom (as ``scipy.special.stdtr``)."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t < 0 else 1.0 - tail


def stdtrit(df: float, q: float) -> float:
    """Student's t quantile: ``t`` with ``stdtr(df, t) = q`` (as ``scipy.special.stdtrit``),
    by Newton steps on the exact CDF from the normal quantile, bracketed by bisection."""
    if not 0.0 < q < 1.0:
        return -math.inf if q == 0.0 else (math.inf if q == 1.0 else math.nan)
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -stdtrit(df, 1.0 - q)
    if df == 1.0:
        return math.tan(math.pi * (q - 0.5))
    if df == 2.0:
        return (2.0 * q - 1.0) / math.sqrt(2.0 * q * (1.0 - q))
    lo, hi = 0.0, 1.0
    while stdtr(df, hi) < q:  # bracket
        lo, hi = hi, hi * 2.0
    t = min(max(ndtri(q), lo), hi)
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    for _ in range(100):
        e = stdtr(df, t) - q
        if e > 0:
            hi = t
        else:
            lo = t
        dens = math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))
        step = e / dens
        nt = t - step
        if not lo < nt < hi:
            nt = 0.5 * (lo + hi)
        if abs(nt - t) <= 1e-15 * max(1.0, abs(t)):
            return nt
        t = nt
    return t
