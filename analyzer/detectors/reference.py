"""What a stream is compared with: :class:`Reference`, built from a baseline.

A reference holds per-window samples of the metrics the detectors compare (``loss``,
``jitter`` = mean ``|D|``, ``interarrival``, ``bitrate``, ``delay``; see
:class:`analyzer.detectors.features.WindowTable`), pooled loss counts, and - for a saved
profile of many clean calls - the between-call spread of each stream's median
(:class:`CallLevel`), since one call's windows are not a sample of the pooled windows of
other calls. Where the reference comes from (another capture, the other direction, the
part before an onset, a profile) is :mod:`analyzer.baseline`'s business.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.detectors.result import jsonable
from analyzer.detectors.stats import norm_ppf, norm_sf, wilson_interval

if TYPE_CHECKING:
    from analyzer.detectors.features import StreamFeatures

METRICS = ("loss", "jitter", "interarrival", "bitrate", "delay")
#: Kinds of reference, strongest first.
KINDS = ("capture", "reverse", "pre_onset", "profile", "default_profile")


@dataclass(frozen=True)
class CallLevel:
    """Log-normal fit of a per-stream summary (e.g. median window jitter) across calls."""

    mu: float  # mean of log values
    sigma: float  # standard deviation of log values
    n: int
    floor: float  # values below are clipped before the log (avoids log 0)

    def pvalue_above(self, value: float) -> float:
        """One-sided p-value of a stream whose summary is ``value`` (upper tail)."""
        if not math.isfinite(value) or self.n < 3 or self.sigma <= 0:
            return 1.0
        z = (math.log(max(value, self.floor)) - self.mu) / self.sigma
        return max(norm_sf(z), 1e-16)

    def quantile(self, q: float) -> float:
        return math.exp(self.mu + self.sigma * norm_ppf(q))

    def to_dict(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma, "n": self.n, "floor": self.floor}

    @staticmethod
    def fit(values: Any, floor: float) -> CallLevel:
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return CallLevel(math.log(floor), 0.0, 0, floor)
        lv = np.log(np.maximum(v, floor))
        return CallLevel(float(lv.mean()), float(lv.std(ddof=1)) if v.size > 1 else 0.0,
                         int(v.size), floor)


@dataclass(frozen=True, eq=False)
class Reference:
    """A baseline, reduced to what the detectors compare against."""

    kind: str
    description: str
    windows: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    lost: int = 0
    expected: int = 0
    frame_interval_s: float | None = None
    bitrate_bps: float | None = None
    call_level: Mapping[str, CallLevel] = field(default_factory=dict, repr=False)
    warnings: tuple[str, ...] = ()
    #: The stream it was built from (index in the baseline capture for ``capture``, in
    #: the analysed capture for ``reverse`` / ``pre_onset``; ``None`` for a profile):
    #: what the report draws as the baseline curve.
    source_stream: int | None = None

    @property
    def loss_rate(self) -> float:
        return self.lost / self.expected if self.expected else 0.0

    def loss_upper(self, confidence: float = 0.95) -> float:
        """Upper confidence bound of the reference's loss rate (0 without data)."""
        if self.expected <= 0:
            return 0.0
        return wilson_interval(self.lost, self.expected, confidence=confidence)[1]

    def sample(self, metric: str) -> np.ndarray:
        return np.asarray(self.windows.get(metric, np.zeros(0)), dtype=np.float64)

    @property
    def is_profile(self) -> bool:
        return self.kind in ("profile", "default_profile")

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "kind": self.kind, "description": self.description,
            "windows": {k: int(np.asarray(v).size) for k, v in self.windows.items()},
            "loss_rate": self.loss_rate, "lost": self.lost, "expected": self.expected,
            "frame_interval_ms": None if self.frame_interval_s is None
            else self.frame_interval_s * 1000,
            "bitrate_bps": self.bitrate_bps, "warnings": list(self.warnings),
            "source_stream": self.source_stream})


def reference_from_features(f: StreamFeatures, kind: str, description: str, *,
                            since_s: float | None = None, until_s: float | None = None,
                            warnings: tuple[str, ...] = ()) -> Reference:
    """A reference from (a time span of) a stream: its usable windows and loss counts."""
    w = f.windows
    sel = np.ones(len(w), dtype=bool)
    if since_s is not None:
        sel &= w.start_s >= since_s - 1e-9
    if until_s is not None:
        sel &= w.start_s + w.window_s <= until_s + 1e-9
    usable, rate_ok = w.usable & sel, w.usable_for_rate & sel
    samples = {
        "loss": w.loss_fraction[usable],
        "jitter": w.ipdv_s[usable],
        "interarrival": w.iat_p50_s[rate_ok],
        "bitrate": w.bitrate_bps[rate_ok],
        "delay": w.delay_s[usable],
    }
    samples = {k: v[np.isfinite(v)] for k, v in samples.items()}
    slots = f.slot_usable.copy()
    if since_s is not None:
        slots &= f.slot_time_s >= since_s
    if until_s is not None:
        slots &= f.slot_time_s < until_s
    br = samples["bitrate"]
    return Reference(kind=kind, description=description, windows=samples,
                     lost=int(np.count_nonzero(f.slot_lost & slots)),
                     expected=int(np.count_nonzero(slots)),
                     frame_interval_s=f.frame_interval_s if math.isfinite(
                         f.frame_interval_s) else None,
                     bitrate_bps=float(np.median(br)) if br.size else None,
                     warnings=warnings, source_stream=f.stream)
