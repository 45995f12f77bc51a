"""Cap rates pooled across calls: density peaks present in the affected group only.

As Li et al. (SIGCOMM 2019) do for Wehe replays, the delivered rates of capped calls are
pooled, their Gaussian kernel density is estimated, and each peak is a candidate throttling
rate; a peak counts only when the control calls (other app, VPN) put little density there.
The interval of a peak's rate is a percentile bootstrap of the highest peak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal, stats

#: Fewest rates to estimate a density from.
MIN_RATES = 3
#: A peak is the group's own when the control's call-count density there is below this
#: fraction of the group's.
CONTROL_FRACTION = 0.2
GRID_POINTS = 512


@dataclass(frozen=True)
class RatePeak:
    """One density peak: the rate at its top, a 95 % bootstrap interval, the calls whose
    rate lies in its basin, and whether the control lacks it."""

    rate_bps: float
    interval: tuple[float, float]
    calls: int
    density: float
    control_density: float
    affected_only: bool

    def to_dict(self) -> dict[str, Any]:
        return {"rate_bps": self.rate_bps, "interval": list(self.interval),
                "calls": self.calls, "density": self.density,
                "control_density": self.control_density, "affected_only": self.affected_only}


def _kde(rates: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Call-count density (integrates to the number of rates) on ``grid``."""
    if rates.size == 0:
        return np.zeros_like(grid)
    if rates.size == 1 or np.ptp(rates) == 0:
        # one value: a narrow bump of 2 % of it
        sd = max(abs(float(rates[0])) * 0.02, 1.0)
        return rates.size * stats.norm.pdf(grid, float(rates.mean()), sd)
    return rates.size * stats.gaussian_kde(rates)(grid)


def density_curve(rates: Iterable[float], control: Iterable[float] = (), *,
                  grid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grid, group density, control density)`` as call counts per bit/s."""
    r = np.asarray(list(rates), dtype=float)
    c = np.asarray(list(control), dtype=float)
    if grid is None:
        both = np.concatenate([r, c]) if c.size else r
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        pad = max((hi - lo) * 0.25, hi * 0.1, 1000.0)
        grid = np.linspace(max(0.0, lo - pad), hi + pad, GRID_POINTS)
    return grid, _kde(r, grid), _kde(c, grid)


def rate_peaks(rates: Iterable[float | None], control: Iterable[float | None] = (), *,
               seed: int = 0, n_resamples: int = 200) -> tuple[RatePeak, ...]:
    """Density peaks of ``rates`` (bit/s), tallest first; empty below :data:`MIN_RATES`."""
    r = np.asarray([x for x in rates if x is not None and np.isfinite(x)], dtype=float)
    c = np.asarray([x for x in control if x is not None and np.isfinite(x)], dtype=float)
    if r.size < MIN_RATES:
        return ()
    grid, dens, cdens = density_curve(r, c)
    idx, _ = signal.find_peaks(np.concatenate([[0.0], dens, [0.0]]),
                               height=dens.max() * 0.1)
    idx = idx - 1
    if idx.size == 0:
        idx = np.array([int(np.argmax(dens))])
    idx = idx[np.argsort(-dens[idx])]
    # basins: each rate belongs to the peak nearest it
    owner = np.argmin(np.abs(r[:, None] - grid[idx][None, :]), axis=1)
    rng = np.random.default_rng(seed)
    tops = []
    for _ in range(n_resamples):
        s = rng.choice(r, r.size, replace=True)
        _, d, _ = density_curve(s, grid=grid)
        tops.append(grid[int(np.argmax(d))])
    boot = np.asarray(tops)
    peaks = []
    for j, i in enumerate(idx):
        if j == 0:
            interval = (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5)))
        else:  # secondary peaks: the spread of their own rates
            mine = r[owner == j]
            interval = (float(mine.min()), float(mine.max())) if mine.size else \
                (float(grid[i]), float(grid[i]))
        peaks.append(RatePeak(float(grid[i]), interval, int((owner == j).sum()),
                              float(dens[i]), float(cdens[i]),
                              bool(cdens[i] < CONTROL_FRACTION * dens[i])))
    return tuple(peaks)
