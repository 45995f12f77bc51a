"""Periodic drops: loss concentrated in windows that recur with a period.

Each run of consecutive losses is an *event* at its midpoint, weighted by its length, so
one long drop window counts as one strong event and scattered single losses as weak ones.
For a trial frequency ``f`` the weighted Rayleigh statistic is
``Z(f) = |sum w_k exp(2 pi i f t_k)|^2 / sum w_k^2``: about exponential with mean 1 when
the events fall at random times, about the number of events when they are phase-locked.
``Z`` is computed for every frequency at once by an FFT of the events binned at 10 ms
(zero-padded ``oversample`` times, so the grid is finer than the ``1/T`` resolution).

* The period is the lowest frequency whose ``Z`` reaches 60 % of the band's maximum (a
  drop train also peaks at its harmonics, never at half its frequency), in ``[1 /
  max_period_s, 1 / min_period_s]`` with at least ``min_cycles`` cycles in the stream.
* Significance: the harmonic sum ``Z_m(f) = sum_{k<=m} Z(k f)`` (2 Z_m ~ chi-square with
  2m degrees of freedom; sharp drop windows put power into many harmonics), for m in 1, 2,
  4, 8, 16, times the number of independent frequencies ``m T (f_max - f_min)`` searched,
  times the number of m tried (Bonferroni). With few events that approximation is
  optimistic (``Z`` cannot exceed the number of events), so whenever it and the shape
  criteria below would pass, the p-value is recomputed against ``n_perm`` random
  placements of the same runs over the lossy span (maximum of ``Z_m`` over the band,
  Gumbel tail beyond the permutation resolution), and the larger of the two is kept.
  With at most 12 runs, how exactly the runs keep time is scored too (the smallest spread
  of their phases over trial periods, p-value by :func:`spacing_pvalue`) and the better
  of the two p-values, doubled, is used. Three equally spaced drops are weak evidence
  (about 1 in 300 by chance); four or more are needed for a finding in practice.
* Shape: the loss indicator of every expected slot is folded at the period; the drop
  window is the arc of phase bins losing at least half as much as the worst bin. Found
  only when that arc holds at least ``min_concentration`` of all losses, spans at most
  ``max_share`` of the period and recurs in ``min_cycles`` periods - a policer's evenly
  spread drops, or random loss, are not concentrated in phase.

The period reported is the least-squares slope of the drop windows' midpoints against
their cycle numbers, with its 95 % Student interval (residual spread floored at the frame
quantisation); with fewer than three windows, the spectral peak and the frequencies where
``Z_m`` stays within 1.92 of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from analyzer.detectors.base import NOT_A_THRESHOLD, RESAMPLES, DetectorSettings
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.estimates import PeriodicEstimate
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.result import Detection, Estimate, merge_windows, not_applicable
from analyzer.detectors.stats import (
    P_FLOOR,
    STOP_EXCEEDANCES,
    chi2_sf,
    clearly_below,
    gumbel_pvalue,
    student_t_ppf,
)
from analyzer.metrics.seqmath import true_runs

BIN_S = 0.01
NULL_BIN_S = 0.02
NULL_BATCH = 50
#: The permutation calibration runs when the analytic p-value is below this.
PERMUTATION_GATE = 0.05
#: With at most this many loss runs the spacing regularity is tested too.
SPACING_MAX_EVENTS = 12
SPACING_STEP = 0.02  # trial-frequency step, in cycles over the lossy span
HARMONICS = (1, 2, 4, 8, 16)
FUNDAMENTAL_FRACTION = 0.6


@dataclass(frozen=True, kw_only=True)
class PeriodicDropDetector(DetectorSettings):
    """Loss windows recurring with a period (``pattern`` ``periodic_drop``).

    Reads ``context.rng()`` (the ``n_perm`` random placements of the permutation test);
    ``oversample``: zero-padding of the spectrum."""

    name: ClassVar[str] = "periodic_drop"
    estimate_type: ClassVar[type[Estimate]] = PeriodicEstimate
    kind: ClassVar[str] = "stream"

    alpha: float = 0.01
    min_period_s: float = 0.5
    max_period_s: float = 20.0
    min_cycles: int = 3
    min_runs: int = 3
    min_concentration: float = 0.6
    max_share: float = 0.6
    oversample: int = field(default=8, metadata=NOT_A_THRESHOLD)
    n_perm: int = field(default=199, metadata=RESAMPLES)

    def detect(self, f: StreamFeatures, context: DetectionContext) -> Detection:
        if f.loss_note is not None:
            return not_applicable(self.name, f.loss_note, **self.thresholds())
        use = f.slot_usable
        ind, times = f.slot_lost[use], f.slot_time_s[use]
        starts, lengths = true_runs(ind)
        if starts.size < self.min_runs:
            return not_applicable(self.name, f"{starts.size} loss runs (< {self.min_runs})",
                                  **self.thresholds())
        mid = (times[starts] + times[starts + lengths - 1]) / 2
        # slot times follow the sequence numbers: reordered or damaged timestamps can
        # leave them out of order, so the grid spans their range, not first to last
        t0, span = float(np.min(times)), float(np.max(times) - np.min(times))
        max_p = min(self.max_period_s, span / self.min_cycles)
        if max_p <= self.min_period_s:
            return not_applicable(self.name, f"stream too short ({span:.1f} s) for "
                                  f"{self.min_cycles} cycles", **self.thresholds())
        f_lo, f_hi = 1.0 / max_p, 1.0 / self.min_period_s
        w = lengths.astype(np.float64)
        nb = math.ceil(span / BIN_S) + 1
        series = np.bincount(np.clip(((mid - t0) / BIN_S).astype(np.int64), 0, nb - 1),
                             weights=w, minlength=nb)
        n_fft = 1 << math.ceil(math.log2(nb * self.oversample))
        f_max_h = 1.0 / (5 * f.frame_interval_s) if np.isfinite(f.frame_interval_s) else 10.0
        # Only frequencies up to twice the highest one any test reads (the band and the
        # harmonics up to f_max_h, near the peak) are kept: the full spectrum of a 30-minute
        # stream is 2^20 bins. The values kept are exactly those of the full spectrum.
        keep = min(n_fft // 2 + 1, math.ceil(2 * max(f_hi, f_max_h) * n_fft * BIN_S) + 2)
        z = padded_power(series, n_fft, keep) / float(np.sum(w * w))
        freqs = np.arange(keep) * (1.0 / (n_fft * BIN_S))  # np.fft.rfftfreq's values
        band = np.flatnonzero((freqs >= f_lo) & (freqs <= f_hi))
        if band.size == 0:
            return not_applicable(self.name, "no frequency to test", **self.thresholds())
        zb = z[band]
        strong = band[zb >= FUNDAMENTAL_FRACTION * zb.max()]
        j0 = int(strong[0])
        # climb to the local maximum of the strong region
        while j0 + 1 < z.size and z[j0 + 1] > z[j0]:
            j0 += 1
        pval, best_m, zm0 = self._pvalue(z, freqs, j0, f_lo, f_hi, span, f_max_h)
        freq = _refine(freqs, z, j0)
        if not freq > 0:
            return not_applicable(self.name, "no period found", **self.thresholds())
        period = 1.0 / freq
        ci = self._interval(z, freqs, j0, best_m, zm0)
        fold = self._fold(f, period, ind, times, starts, lengths, mid)
        fit = fold.pop("fit")
        if fit is not None:  # the drop windows' own timing: period and its interval
            period, ci = fit
        shaped = (fold["concentration"] >= self.min_concentration
                  and fold["share_of_period"] <= self.max_share
                  and fold["cycles"] >= self.min_cycles)
        p_perm = None
        if shaped and pval < PERMUTATION_GATE:
            p_perm = self._permutation_pvalue(mid, w, best_m, f_lo, f_hi, f_max_h,
                                              context.rng())
            pval = max(pval, p_perm)
        detected = bool(pval < self.alpha and shaped)
        return Detection(
            self.name, detected, statistic=zm0, pvalue=pval, effect=period, interval=ci,
            evidence=fold.pop("evidence"), thresholds=self.thresholds(),
            estimate=PeriodicEstimate(
                effect_unit="period (s)", confidence_level=0.95, period_s=period,
                harmonics=best_m, permutation_pvalue=p_perm, rayleigh_z=float(z[j0]),
                runs=int(starts.size), **fold))

    def _permutation_pvalue(self, mid: np.ndarray, w: np.ndarray, m: int, f_lo: float,
                            f_hi: float, f_max_h: float, rng: np.random.Generator) -> float:
        """P-value of the best harmonic sum against loss runs placed at random (uniformly
        over the span from the first to the last run, lengths kept): the maximum over the
        band of ``Z_m`` for at most ``n_perm`` placements, Gumbel tail beyond their
        resolution. The count adapts after each batch of ``NULL_BATCH`` placements (the
        same seeded draws, so reproducible): it stops once ``STOP_EXCEEDANCES`` of them
        reach the observed maximum (p = share reaching it, at least 0.2 at the first
        stop, far above ``alpha``) or when none does and the fitted tail is below
        ``STOP_TAIL`` (p = ``P_FLOOR``), as :func:`~analyzer.detectors.stats.bernoulli_scan`
        does."""
        lo, hi = float(mid.min()), float(mid.max())
        span = max(hi - lo, NULL_BIN_S)
        nb = math.ceil(span / NULL_BIN_S) + 1
        n_fft = 1 << math.ceil(math.log2(nb * 2))
        freqs = np.fft.rfftfreq(n_fft, NULL_BIN_S)
        band = np.flatnonzero((freqs >= f_lo) & (freqs <= f_hi))
        norm = float(np.sum(w * w))

        def max_zm(pos: np.ndarray) -> np.ndarray:  # pos: (B, n_events) seconds from lo
            b = pos.shape[0]
            series = np.zeros((b, nb))
            idx = np.clip((pos / NULL_BIN_S).astype(np.int64), 0, nb - 1)
            np.add.at(series, (np.repeat(np.arange(b), pos.shape[1]), idx.ravel()),
                      np.tile(w, b))
            z = np.abs(np.fft.rfft(series, n_fft, axis=1)) ** 2 / norm
            zm = np.zeros((b, band.size))
            for k in range(1, m + 1):
                jk = k * band
                ok = (jk < z.shape[1]) & (freqs[np.minimum(jk, z.shape[1] - 1)] <= f_max_h)
                zm[:, ok] += z[:, jk[ok]]
            return zm.max(axis=1)

        observed = float(max_zm((mid - lo)[None, :])[0])
        null = np.empty(0)
        p = float("nan")
        for start in range(0, self.n_perm, NULL_BATCH):
            b = min(NULL_BATCH, self.n_perm - start)
            null = np.concatenate([null, max_zm(rng.uniform(0, span, size=(b, mid.size)))])
            if null.size >= self.n_perm:
                break
            # sequential stops after each batch (counts of draws, never time): clearly
            # above the levels (Besag-Clifford) or far beyond every draw so far
            exceed = int(np.sum(null >= observed))
            if exceed >= STOP_EXCEEDANCES:
                p = exceed / null.size
                break
            if clearly_below(observed, null):
                p = P_FLOOR
                break
        if np.isnan(p):
            p = gumbel_pvalue(observed, null)
        if mid.size <= SPACING_MAX_EVENTS:
            # few events: how exactly they keep time says more than their spectrum
            freqs_s = np.arange(f_lo, f_hi, SPACING_STEP / span)
            obs_s = float(_spacing(np.sort(mid - lo)[None, :], freqs_s)[0])
            p = min(1.0, 2 * min(p, spacing_pvalue(obs_s, mid.size, span, f_lo, f_hi)))
        return p

    def _pvalue(self, z: np.ndarray, freqs: np.ndarray, j0: int, f_lo: float, f_hi: float,
                span: float, f_max_h: float) -> tuple[float, int, float]:
        tried: list[tuple[float, int, float]] = []
        for m in HARMONICS:
            ks = [k for k in range(1, m + 1) if k * j0 < z.size and freqs[k * j0] <= f_max_h]
            if len(ks) < m:
                break
            zm = float(sum(z[k * j0] for k in ks))
            trials = max(1.0, m * span * (f_hi - f_lo))
            p1 = chi2_sf(2 * zm, 2 * m)
            # P(max over `trials` independent frequencies >= zm)
            p = -math.expm1(trials * math.log1p(-p1)) if p1 < 1 else 1.0
            tried.append((p, m, zm))
        if not tried:
            return 1.0, 1, float(z[j0])
        p, m, zm = min(tried)
        return max(min(1.0, p * len(tried)), 1e-16), m, zm

    def _interval(self, z: np.ndarray, freqs: np.ndarray, j0: int, m: int, zm0: float
                  ) -> tuple[float, float]:
        def zm(j: int) -> float:
            return float(sum(z[k * j] for k in range(1, m + 1) if k * j < z.size))
        lo = j0
        while lo > 1 and zm(lo - 1) >= zm0 - 1.92:
            lo -= 1
        hi = j0
        while hi + 1 < z.size and zm(hi + 1) >= zm0 - 1.92:
            hi += 1
        return (1.0 / freqs[hi], 1.0 / freqs[max(lo, 1)])

    def _fold(self, f: StreamFeatures, period: float, ind: np.ndarray, times: np.ndarray,
              starts: np.ndarray, lengths: np.ndarray, mid: np.ndarray) -> dict:
        frame = f.frame_interval_s if np.isfinite(f.frame_interval_s) else 0.02
        nbins = int(min(100, max(10, round(period / frame))))
        # fold from the period holding the first heavy run on (drops that start mid-call
        # must not be diluted by the clean part before)
        heavy = lengths >= max(2, int(np.quantile(lengths, 0.9)))
        t_first = float(times[starts[heavy][0]]) if heavy.any() else float(times[0])
        span = times >= t_first - period
        ind, times = ind[span], times[span]
        keep_runs = mid >= t_first - period
        starts, lengths, mid = (np.maximum(starts[keep_runs] - int(np.argmax(span)), 0),
                                lengths[keep_runs], mid[keep_runs])
        ph = np.mod(times - times[0], period) / period
        b = np.minimum((ph * nbins).astype(np.int64), nbins - 1)
        exp = np.bincount(b, minlength=nbins).astype(np.float64)
        lost = np.bincount(b, weights=ind, minlength=nbins)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(exp > 0, lost / exp, 0.0)
        top = int(np.argmax(frac))
        hot = frac >= 0.5 * frac[top]
        arc = [top]
        for step in (1, -1):  # grow the arc around the worst bin (circular)
            k = top
            while len(arc) < nbins:
                k = (k + step) % nbins
                if not hot[k] or k in arc:
                    break
                arc.append(k)
        in_arc = np.zeros(nbins, dtype=bool)
        in_arc[arc] = True
        total = float(ind.sum())
        lost_in = float(lost[in_arc].sum())
        mph = np.minimum((np.mod(mid - times[0], period) / period * nbins).astype(np.int64),
                         nbins - 1)
        hit = in_arc[mph]
        cyc = np.unique(np.floor((mid[hit] - times[0]) / period)).size
        last = times.size - 1
        ev = [(float(times[min(s, last)]), float(times[min(s + ln, last)]))
              for s, ln, h in zip(starts, lengths, hit, strict=True) if h]
        # the first visible effect: where the earliest recurring drop run begins
        first = min((a for a, _ in ev), default=float("nan"))
        fit = _period_fit(mid[hit], period, frame)
        return {"drop_s": in_arc.sum() * period / nbins,
                "share_of_period": float(in_arc.sum()) / nbins,
                "loss_in_window": lost_in / float(exp[in_arc].sum()) if exp[in_arc].sum()
                else 0.0,
                "concentration": lost_in / total if total else 0.0, "cycles": int(cyc),
                "phase_s": float(np.mod(first - times[0], period)) if hit.any() else None,
                "first_drop_s": first, "evidence": merge_windows(ev, slack_s=0.1),
                "fit": fit}


def _spacing(points: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Regularity of sorted event times (B, n): the smallest, over trial frequencies, spread
    of the events' phases in cycles (standard deviation of ``t f - round(t f)`` around its
    mean); two events in one cycle disqualify a frequency."""
    rel = points - points[:, :1]
    out = np.full(points.shape[0], 0.5)
    for a in range(0, freqs.size, 512):
        ph = rel[:, None, :] * freqs[None, a:a + 512, None]
        k = np.rint(ph)
        e = ph - k
        sd = e.std(axis=2)
        dup = (np.diff(k, axis=2) == 0).any(axis=2)
        sd[dup] = 0.5
        out = np.minimum(out, sd.min(axis=1))
    return out


def _period_fit(mid: np.ndarray, period: float, frame: float
                ) -> tuple[float, tuple[float, float]] | None:
    """Least-squares period of drop-window midpoints against their cycle numbers, with a
    95 % interval (Student t; the residual spread is floored at the frame quantisation)."""
    if mid.size < 3:
        return None
    m = np.sort(mid)
    k = np.rint((m - m[0]) / period)
    if np.unique(k).size < 3:
        return None
    kc = k - k.mean()
    sxx = float(np.sum(kc * kc))
    p_hat = float(np.sum(kc * (m - m.mean())) / sxx)
    resid = m - m.mean() - p_hat * kc
    dof = m.size - 2
    s2 = max(float(np.sum(resid * resid)) / dof, frame * frame / 12.0)
    half = student_t_ppf(0.975, dof) * math.sqrt(s2 / sxx)
    return p_hat, (p_hat - half, p_hat + half)


def spacing_pvalue(spread: float, n: int, span_s: float, f_lo: float, f_hi: float
                   ) -> float:
    """Chance that ``n`` events placed at random over ``span_s`` keep time as well as
    observed: the phases of ``n - 1`` events relative to the first are uniform at a given
    frequency, so a phase spread (standard deviation, cycles) of at most ``s`` has
    probability about the volume of an ``(n - 1)``-ball of radius ``s sqrt(n)`` (times
    ``sqrt(n)``, the centring), and about ``(f_hi - f_lo) span / (s sqrt(12))`` trial
    frequencies give independent chances (union bound). Checked against simulation:
    conservative by a factor 1-4 for 4-8 events at the 1 % level."""
    if not spread > 0 or n < 3:
        return 1.0
    r = spread * math.sqrt(n)
    vol = math.sqrt(n) * math.pi ** ((n - 1) / 2) * r ** (n - 1) / math.gamma((n + 1) / 2)
    trials = max(1.0, (f_hi - f_lo) * span_s / (spread * math.sqrt(12)))
    return float(min(1.0, max(vol * trials, 1e-16)))


#: Padded grids from this size up are evaluated in interleaved sets (:func:`padded_power`).
POLYPHASE_MIN_POINTS = 1 << 20


def padded_power(series: np.ndarray, n_fft: int, keep: int) -> np.ndarray:
    """``|rfft(series, n_fft)|**2`` for the first ``keep`` bins, without the padded grid.

    Zero-padding ``series`` to ``n_fft`` points (``n_fft = P * M``, ``M`` the power of two
    that holds the series) splits the spectrum into ``P`` interleaved sets: bins
    ``k * P + r`` are the ``M``-point FFT of ``series * exp(-2 pi i r t / n_fft)``. So ``P``
    FFTs of ``M`` points give the same values (to rounding, ~1e-16 of the peak) with memory
    for ``M`` points, not ``n_fft``: a 30-minute stream's 2^21-point grid allocated 48 MiB
    at once; this takes about 10 MiB for 30 % more FFT time."""
    m = 1 << max(0, math.ceil(math.log2(max(series.size, 1))))
    if n_fft <= m or n_fft % m or n_fft < POLYPHASE_MIN_POINTS:
        return (np.abs(np.fft.rfft(series, n_fft)[:keep]) ** 2).astype(np.float64)
    p = n_fft // m
    out = np.empty(keep)
    step = np.exp(np.arange(series.size) * (-2j * np.pi / n_fft))  # the twiddle of r = 1
    twiddle = np.ones(series.size, dtype=np.complex128)
    x = np.empty(series.size, dtype=np.complex128)
    spec = np.empty(m, dtype=np.complex128)
    for r in range(min(p, keep)):  # the buffers are reused: no fresh pages per set
        if r:
            twiddle *= step
        np.multiply(series, twiddle, out=x)
        np.fft.fft(x, m, out=spec)
        count = len(range(r, keep, p))
        head = spec[:count]
        out[r::p] = head.real ** 2 + head.imag ** 2
    return out


def _refine(freqs: np.ndarray, z: np.ndarray, j: int) -> float:
    """Parabolic interpolation of the peak frequency around grid index ``j``."""
    if 0 < j < z.size - 1:
        a, b, c = z[j - 1], z[j], z[j + 1]
        den = a - 2 * b + c
        if den < 0:
            shift = 0.5 * (a - c) / den
            return float(freqs[j] + shift * (freqs[1] - freqs[0]))
    return float(freqs[j])
