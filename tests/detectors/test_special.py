"""The plain-Python special functions against scipy.special (which the tests may import;
the analysis path does not)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sc

from analyzer.detectors import special
from tests.support.imports import modules_after

REL = 1e-12


def close(ours: float, theirs: float, rel: float = REL) -> bool:
    return ours == pytest.approx(float(theirs), rel=rel, abs=1e-300)


@pytest.mark.parametrize("x", [-40.0, -9.5, -5.0, -1.96, -0.3, 0.0, 0.3, 1.0, 1.96, 5.0, 8.0])
def test_ndtr(x: float) -> None:
    assert close(special.ndtr(x), sc.ndtr(x))


@pytest.mark.parametrize("q", [1e-300, 1e-20, 1e-6, 0.001, 0.02, 0.025, 0.3, 0.5, 0.7,
                               0.975, 0.99, 0.999999])
def test_ndtri(q: float) -> None:
    assert close(special.ndtri(q), sc.ndtri(q), rel=1e-13) or abs(special.ndtri(q)) < 1e-15


@pytest.mark.parametrize("df", [1, 2, 3, 4, 8, 16, 32, 99, 1000])
def test_chi_square_tails(df: int) -> None:
    for x in (0.0, 0.01, 0.5 * df, df - 1.0, float(df), df + 3 * np.sqrt(2 * df), 4.0 * df,
              df + 60.0, 300.0):
        if x < 0:
            continue
        assert close(special.chdtrc(df, x), sc.chdtrc(df, x), rel=1e-11), (df, x)
        assert close(special.chdtr(df, x), sc.chdtr(df, x), rel=1e-11), (df, x)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 30, 200])
def test_student_t(df: int) -> None:
    for t in (-8.0, -2.0, -0.5, 0.0, 0.5, 1.0, 2.5, 12.0):
        assert close(special.stdtr(df, t), sc.stdtr(df, t), rel=1e-11), (df, t)
    for q in (0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.995):
        assert close(special.stdtrit(df, q), sc.stdtrit(df, q), rel=1e-10) or q == 0.5


def test_seeded_random_arguments() -> None:
    r = np.random.default_rng(7)
    for a, x in zip(r.uniform(0.1, 60, 300), r.uniform(0, 120, 300), strict=True):
        assert close(special.gammaincc(a, x), sc.gammaincc(a, x), rel=1e-10), (a, x)
        assert close(special.gammainc(a, x), sc.gammainc(a, x), rel=1e-10), (a, x)
    for a, b, x in zip(r.uniform(0.2, 40, 300), r.uniform(0.2, 40, 300),
                       r.uniform(0, 1, 300), strict=True):
        assert close(special.betainc(a, b, x), sc.betainc(a, b, x), rel=1e-10), (a, b, x)


def test_no_scipy_on_import() -> None:
    loaded = modules_after("import analyzer.detectors.stats as s; s.chi2_sf(3.0, 2);"
                           "s.student_t_ppf(0.975, 4); s.norm_ppf(0.975)")
    assert not any(m == "scipy" or m.startswith("scipy.") for m in loaded)
