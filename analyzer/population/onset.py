"""When the interference began: a change point over days, and the trigger inside a call.

:func:`day_change_point` splits a daily series of ``k`` of ``n`` calls at the day that best
separates two binomial shares (likelihood ratio), tests the split by permuting the calls
over the days, and gives the days within the 95 % profile-likelihood region (log-likelihood
within 1.92 of the best) as its interval. :func:`trigger_kind` says whether the onsets
inside calls sit at a fixed time or after a fixed number of bytes (time-based against
byte-based triggers): whichever has the clearly smaller robust spread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Half the 95 % chi-square(1) quantile: the profile-likelihood drop of the interval.
PROFILE_DROP = 1.920729410347062
#: A trigger kind is named when its relative spread is below this and below half the other.
TRIGGER_SPREAD = 0.1


@dataclass(frozen=True)
class DayChange:
    """The first day of the new share, the days it may be (interval), the p-value of the
    split (permutation), and the shares before and after."""

    statistic: float  # the likelihood-ratio statistic 2 * (log L1 - log L0)
    pvalue: float
    day: str
    interval: tuple[str, str]
    share_before: float
    share_after: float

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "pvalue": self.pvalue, "day": self.day,
                "interval": list(self.interval), "share_before": self.share_before,
                "share_after": self.share_after}


def _loglik(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood at the fitted share, elementwise (0 for empty segments)."""
    from scipy.special import xlogy
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.maximum(n, 1), 0.0)
    return xlogy(k, p) + xlogy(n - k, 1 - p)


def _profile(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Log-likelihood of a split before each day 1..D-1 (``k`` may be a matrix of rows)."""
    kl, nl = np.cumsum(k, axis=-1)[..., :-1], np.cumsum(n)[:-1]
    kt, nt = k.sum(axis=-1, keepdims=True), n.sum()
    return _loglik(kl, nl) + _loglik(kt - kl, nt - nl)


def day_change_point(days: Sequence[str], k: Sequence[int], n: Sequence[int], *,
                     seed: int = 0, n_resamples: int = 999) -> DayChange | None:
    """The change point of the daily share ``k / n`` over ``days`` (sorted ISO dates);
    ``None`` with fewer than 3 days or no case at all."""
    kk, nn = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    if kk.size < 3 or kk.sum() == 0 or kk.sum() == nn.sum():
        return None
    base = float(_loglik(kk.sum(), nn.sum()))
    prof = _profile(kk, nn)
    best = int(np.argmax(prof))
    stat = 2 * (float(prof[best]) - base)
    # permutation: the same calls, their outcomes shuffled over the days
    rng = np.random.default_rng(seed)
    outcomes = np.repeat([1.0, 0.0], [int(kk.sum()), int(nn.sum() - kk.sum())])
    perms = rng.permuted(np.tile(outcomes, (n_resamples, 1)), axis=1)
    starts = np.concatenate([[0], np.cumsum(nn)[:-1]]).astype(int)
    pk = np.add.reduceat(perms, starts, axis=1)
    null = 2 * (_profile(pk, nn).max(axis=1) - base)
    exceed = int((null >= stat - 1e-9).sum())
    inside = np.flatnonzero(prof >= prof[best] - PROFILE_DROP)
    t = best + 1
    return DayChange(stat, (exceed + 1) / (n_resamples + 1), str(days[t]),
                     (str(days[inside.min() + 1]), str(days[inside.max() + 1])),
                     float(kk[:t].sum() / max(nn[:t].sum(), 1)),
                     float(kk[t:].sum() / max(nn[t:].sum(), 1)))


@dataclass(frozen=True)
class Trigger:
    """``kind`` (``time``, ``bytes`` or ``undetermined``) from the onsets of ``calls``
    calls: the median and relative spread (MAD / median) of the onset time and bytes."""

    kind: str
    calls: int
    median_s: float | None
    spread_s: float | None
    median_bytes: float | None
    spread_bytes: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _robust(x: np.ndarray) -> tuple[float | None, float | None]:
    if x.size == 0:
        return None, None
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med))) * 1.4826
    return med, (mad / med if med > 0 else None)


def trigger_kind(after_s: Sequence[float | None], after_bytes: Sequence[float | None]
                 ) -> Trigger:
    """Time-based or byte-based trigger from the onsets (seconds, bytes into the call)."""
    pairs = [(float(s), float(b)) for s, b in zip(after_s, after_bytes, strict=True)
             if s is not None and b is not None and math.isfinite(s) and math.isfinite(b)]
    t = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    ms, ss = _robust(t)
    mb, sb = _robust(b)
    kind = "undetermined"
    if len(pairs) >= 3 and ss is not None and sb is not None:
        if ss < TRIGGER_SPREAD and ss < sb / 2:
            kind = "time"
        elif sb < TRIGGER_SPREAD and sb < ss / 2:
            kind = "bytes"
    return Trigger(kind, len(pairs), ms, ss, mb, sb)
