"""Distribution shift of a windowed metric against the baseline, Wehe-style.

For each metric (per-window loss fraction, jitter = mean ``|D|``, median inter-arrival
time, delivered bit rate): Wehe's KS two-sample test and area statistic with its
three-way band - area > 0.1 and p < 0.05 "different", area < 0.1 and p > 0.05 "same",
otherwise "inconclusive" (Kakhki et al., IMC 2015) - and the Mann-Whitney rank test
with the Hodges-Lehmann shift and its interval. The area is normalised by
``min(max x, max y)`` as in Wehe, kept above a per-metric floor (e.g. 1 % loss) so that a
sample of all-zero windows does not make any difference look infinite.

These comparisons describe *how* a stream differs from its baseline; they are reported
for every metric, and are not themselves findings (the pattern detectors decide those,
with tests built for each pattern). Windows of one stream are not independent (network
conditions drift), so their p-values are indicative.

A function, not a registered detector: its input is two samples of one metric (any
metric, chosen by the caller), not a stream's features, and its result never enters the
multiple-testing family or becomes a finding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analyzer.detectors.estimates import ShiftEstimate
from analyzer.detectors.result import Detection, not_applicable
from analyzer.detectors.stats import WEHE_ALPHA, WEHE_AREA_THRESHOLD, rank_shift, wehe_compare

#: Normaliser floors of the area statistic, per metric (unit of the metric).
SCALE_FLOORS = {"loss": 0.01, "jitter": 0.005, "interarrival": 0.005, "bitrate": 1000.0,
                "delay": 0.005}
UNITS = {"loss": "loss fraction", "jitter": "s", "interarrival": "s", "bitrate": "bit/s",
         "delay": "s"}


def distribution_shift(x: Any, y: Any, *, metric: str,
                       area_threshold: float = WEHE_AREA_THRESHOLD, alpha: float = WEHE_ALPHA,
                       min_windows: int = 5) -> Detection:
    """Wehe KS + area band and the rank test of ``metric`` (a key of
    :data:`SCALE_FLOORS`): ``x`` the stream's windows, ``y`` the baseline's. The result's
    ``detector`` is ``shift_<metric>``; ``detected`` means Wehe's band says "different"."""
    if metric not in SCALE_FLOORS:
        raise ValueError(f"metric must be one of {', '.join(SCALE_FLOORS)}, not {metric!r}")
    name = f"shift_{metric}"
    thresholds = {"area_threshold": area_threshold, "alpha": alpha,
                  "min_windows": min_windows, "scale_floor": SCALE_FLOORS[metric]}
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < min_windows or b.size < min_windows:
        return not_applicable(name, f"{a.size} / {b.size} windows (< {min_windows})",
                              **thresholds)
    wc = wehe_compare(a, b, scale_floor=SCALE_FLOORS[metric], area_threshold=area_threshold,
                      alpha=alpha)
    rs = rank_shift(a, b, alternative="two-sided")
    return Detection(
        name, wc.decision == "different", statistic=wc.statistic, pvalue=wc.pvalue,
        effect=rs.shift, interval=rs.interval, thresholds=thresholds,
        estimate=ShiftEstimate(
            effect_unit=UNITS[metric], confidence_level=rs.confidence,
            decision=wc.decision, area=wc.area, mann_whitney_pvalue=rs.pvalue,
            median=float(np.median(a)), reference_median=float(np.median(b)),
            windows=int(a.size), reference_windows=int(b.size)))
