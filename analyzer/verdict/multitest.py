"""Multiple-testing control over the family of a capture's p-values.

Every p-value-based detector on every analysed stream of the capture (loss, burst loss,
periodic drops, rate cap, jitter; blocked setup once per capture) is one hypothesis of
the family. ``holm`` (the default) controls the family-wise error rate: with valid
p-values the chance that a capture in which nothing happened gets *any* finding is at
most ``alpha`` (1 % by default) - hence at most 1 % of clean calls flagged, whatever the
number of streams and detectors. ``bh`` (Benjamini-Hochberg) controls the false discovery
rate instead: more findings on a degraded capture, no longer the 1 % guarantee per clean
capture. Windows and candidate onsets are handled inside each detector (scan statistics
and Bonferroni over the candidates), so each detector contributes one p-value per stream.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METHODS = ("holm", "bh")


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values (same order as given)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def benjamini_hochberg(pvalues: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (same order as given)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / (np.arange(m) + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def adjust(pvalues: Sequence[float], method: str = "holm") -> np.ndarray:
    if method == "holm":
        return holm(pvalues)
    if method == "bh":
        return benjamini_hochberg(pvalues)
    raise ValueError(f"correction must be one of {', '.join(METHODS)}, not {method!r}")
