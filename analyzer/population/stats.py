"""Proportions and their comparison: Wilson intervals, Fisher's exact test with the risk
difference (Newcombe interval) and Cohen's h as effect sizes, Holm's step-down correction.

Every result is a frozen dataclass whose first fields are the statistic and the p-value
(where there is one), with ``to_dict()`` for the JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n`` (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in [0, n], got k={k}, n={n}")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Share:
    """``k`` of ``n`` calls, the share and its 95 % Wilson interval."""

    share: float | None
    k: int
    n: int
    interval: tuple[float, float]

    @classmethod
    def of(cls, k: int, n: int) -> Share:
        return cls(k / n if n else None, k, n, wilson_interval(k, n))

    def to_dict(self) -> dict[str, Any]:
        return {"share": self.share, "k": self.k, "n": self.n,
                "interval": list(self.interval)}


@dataclass(frozen=True)
class Difference:
    """One group against its control: Fisher's exact test (two-sided) on the 2 x 2 table,
    the risk difference ``group - control`` with Newcombe's hybrid-score interval, and
    Cohen's h (0.2 small, 0.5 medium, 0.8 large). ``adjusted_pvalue`` is set by
    :func:`holm` across the family of groups."""

    statistic: float  # the odds ratio (inf when the control has no case)
    pvalue: float
    difference: float
    interval: tuple[float, float]
    cohens_h: float
    adjusted_pvalue: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"odds_ratio": None if math.isinf(self.statistic) or math.isnan(self.statistic)
                else self.statistic, "pvalue": self.pvalue,
                "adjusted_pvalue": self.adjusted_pvalue, "difference": self.difference,
                "interval": list(self.interval), "cohens_h": self.cohens_h,
                "test": "Fisher exact, two-sided"}


def compare(group: Share, control: Share) -> Difference:
    """Compare two shares (each needs ``n`` > 0)."""
    if group.n <= 0 or control.n <= 0:
        raise ValueError("both shares need at least one call")
    table = [[group.k, group.n - group.k], [control.k, control.n - control.k]]
    res = stats.fisher_exact(table, alternative="two-sided")
    p1, p2 = group.k / group.n, control.k / control.n
    (l1, u1), (l2, u2) = group.interval, control.interval
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))
    return Difference(float(res.statistic), float(res.pvalue), d, (max(-1.0, lo), min(1.0, hi)),
                      h)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given; monotone, at most 1)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out
