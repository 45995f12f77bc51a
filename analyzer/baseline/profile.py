"""A saved baseline: distributions of clean calls, as a JSON profile.

:func:`build_profile` reads many clean captures and keeps, for every speech-like media
stream of at least ``min_stream_s`` seconds (windows of ``window_s``, confounders left
out as in the analysis):

* per metric (per-window loss fraction, jitter = mean ``|D|``, median inter-arrival,
  delivered IP-layer bit rate, median relative delay), the pooled window distribution as
  ``QUANTILE_POINTS`` quantiles;
* per metric, the spread *between streams* of each stream's median window value
  (a log-normal fit, :class:`~analyzer.detectors.reference.CallLevel`): one call's windows
  are not a sample of all calls' windows, so a stream is judged against other streams;
* pooled loss counts, the packet times seen (expected cadence) and the bit-rate and
  duration ranges, so that :meth:`Profile.reference` can warn when a stream does not fit
  (another packet time, a bit rate outside the profile's range, a short stream).

``Profile.save(path)`` / ``Profile.load(path)`` write and read the JSON
(schema ``analyzer.profile/1``).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.atomic import atomic_write
from analyzer.detectors.reference import METRICS, CallLevel, Reference
from analyzer.detectors.result import jsonable

if TYPE_CHECKING:
    from analyzer.detectors.features import StreamFeatures
    from analyzer.streams.capture import Capture

PROFILE_SCHEMA = "analyzer.profile/1"
QUANTILE_POINTS = 201
#: Floors of the call-level log-normal fits (metric units).
CALL_LEVEL_FLOORS = {"loss": 1e-4, "jitter": 1e-4, "interarrival": 1e-3, "bitrate": 100.0,
                     "delay": 1e-4}
MIN_STREAM_S = 10.0
#: Metrics that depend on the codec's rate and cadence.
RATE_METRICS = ("bitrate", "interarrival")
#: What a cadence-only capture (no real network path) contributes (see build_profile).
CADENCE_METRICS = ("loss", "interarrival", "bitrate")


@dataclass(frozen=True, eq=False)
class Profile:
    """Distributions of clean calls (see the module docstring)."""

    description: str
    window_s: float
    calls: int
    streams: int
    quantiles: Mapping[str, np.ndarray]  # metric -> QUANTILE_POINTS values
    windows: Mapping[str, int]  # metric -> pooled window count
    call_level: Mapping[str, CallLevel]
    lost: int
    expected: int
    frame_intervals_ms: Mapping[str, int]  # "20" -> streams
    bitrate_range_bps: tuple[float, float]
    duration_range_s: tuple[float, float]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def reference(self, *, kind: str = "profile", frame_interval_s: float | None = None,
                  bitrate_bps: float | None = None, duration_s: float | None = None
                  ) -> Reference:
        """This profile as a detector reference, with warnings where a stream does not fit.

        A stream of another codec family - a packet time the profile does not hold, or a
        bit rate outside its band (half its lowest to twice its highest stream rate) - is
        not judged on rates and loss it happens not to share with the profile's calls: the
        reference then carries no bit-rate or inter-arrival windows and no loss counts (the
        loss test falls back to its loss-free null plus the reportable excess), and the
        warning says so. Its jitter, measured on the stream's own cadence, still counts.
        """
        warn: list[str] = []
        comparable = True
        if frame_interval_s is not None and math.isfinite(frame_interval_s):
            ms = f"{frame_interval_s * 1000:.0f}"
            if ms not in self.frame_intervals_ms:
                seen = ", ".join(sorted(self.frame_intervals_ms, key=float)) or "none"
                warn.append(f"the profile holds no {ms} ms packet time (it has {seen} ms): "
                            "inter-arrival, bit-rate and loss comparisons against it left out")
                comparable = False
        lo, hi = self.bitrate_range_bps
        if bitrate_bps is not None and hi > 0 and not self.rate_fits(bitrate_bps):
            warn.append(f"bit rate {bitrate_bps / 1000:.1f} kbit/s lies outside the profile's "
                        f"{lo / 1000:.1f}-{hi / 1000:.1f} kbit/s: other codec? Bit-rate, "
                        "inter-arrival and loss comparisons against it left out")
            comparable = False
        if duration_s is not None and duration_s < MIN_STREAM_S:
            warn.append(f"stream of {duration_s:.1f} s is shorter than the {MIN_STREAM_S:.0f} s "
                        "the profile was built from")
        desc = (f"{'default' if kind == 'default_profile' else 'saved'} profile: "
                f"{self.description} ({self.streams} streams of {self.calls} clean calls)")
        windows = {k: np.asarray(v) for k, v in self.quantiles.items()
                   if comparable or k not in RATE_METRICS}
        call_level = {k: v for k, v in self.call_level.items()
                      if comparable or k not in (*RATE_METRICS, "loss")}
        return Reference(kind=kind, description=desc, windows=windows,
                         lost=self.lost if comparable else 0,
                         expected=self.expected if comparable else 0,
                         frame_interval_s=frame_interval_s,
                         bitrate_bps=float(np.median(self.quantiles["bitrate"]))
                         if comparable and "bitrate" in self.quantiles else None,
                         call_level=call_level, warnings=tuple(warn))

    def rate_fits(self, bitrate_bps: float) -> bool:
        """Whether a stream's bit rate lies in this profile's band (half its lowest to
        twice its highest stream rate)."""
        lo, hi = self.bitrate_range_bps
        return hi <= 0 or 0.5 * lo <= bitrate_bps <= 2 * hi

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "schema": PROFILE_SCHEMA, "description": self.description,
            "window_s": self.window_s, "calls": self.calls, "streams": self.streams,
            "quantile_points": QUANTILE_POINTS,
            "metrics": {k: {"quantiles": np.round(np.asarray(v), 9).tolist(),
                            "windows": self.windows.get(k, 0)}
                        for k, v in self.quantiles.items()},
            "call_level": {k: v.to_dict() for k, v in self.call_level.items()},
            "loss": {"lost": self.lost, "expected": self.expected},
            "frame_intervals_ms": dict(self.frame_intervals_ms),
            "bitrate_range_bps": list(self.bitrate_range_bps),
            "duration_range_s": list(self.duration_range_s),
            "provenance": dict(self.provenance)})

    def save(self, path: str | os.PathLike[str]) -> None:
        d = self.to_dict()
        metrics = d.pop("metrics")
        text = json.dumps(d, indent=1)[:-2]  # one key per line, quantile lists compact
        text += ',\n "metrics": {\n' + ",\n".join(
            f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}"
            for k, v in metrics.items()) + "\n }\n}\n"
        with atomic_write(path) as fh:
            fh.write(text)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Profile:
        from analyzer.errors import UsageError
        if d.get("schema") != PROFILE_SCHEMA:
            raise UsageError(f"not a baseline profile (schema {d.get('schema')!r}, expected "
                             f"{PROFILE_SCHEMA!r})")
        metrics = d["metrics"]
        return Profile(
            description=d.get("description", ""), window_s=float(d["window_s"]),
            calls=int(d["calls"]), streams=int(d["streams"]),
            quantiles={k: np.asarray(v["quantiles"], dtype=np.float64)
                       for k, v in metrics.items()},
            windows={k: int(v.get("windows", 0)) for k, v in metrics.items()},
            call_level={k: CallLevel(float(v["mu"]), float(v["sigma"]), int(v["n"]),
                                     float(v["floor"]))
                        for k, v in d.get("call_level", {}).items()},
            lost=int(d["loss"]["lost"]), expected=int(d["loss"]["expected"]),
            frame_intervals_ms={str(k): int(v) for k, v in d["frame_intervals_ms"].items()},
            bitrate_range_bps=tuple(d["bitrate_range_bps"]),  # type: ignore[arg-type]
            duration_range_s=tuple(d["duration_range_s"]),  # type: ignore[arg-type]
            provenance=d.get("provenance", {}))

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Profile:
        from analyzer.errors import UsageError
        try:
            with open(path, encoding="utf-8") as fh:
                d = json.load(fh)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: cannot read the profile: {exc}") from exc
        try:
            return Profile.from_dict(d)
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{path}: malformed profile ({exc})") from exc


def clean_stream_features(capture: Capture, *, window_s: float = 1.0,
                          min_stream_s: float = MIN_STREAM_S) -> list[list[StreamFeatures]]:
    """Per call, the features of a capture's speech-like media streams long enough for a
    profile, confounders (handover, outage) left out."""
    from analyzer.detectors.callfeatures import call_features
    out = []
    for call in capture.calls:
        feats, _ = call_features(capture, call, window_s=window_s)
        keep = [f for f in feats if f.speech_like and f.duration_s >= min_stream_s]
        if keep:
            out.append(keep)
    return out


def build_profile(captures: Iterable[Capture | str | os.PathLike[str]], *,
                  description: str = "", window_s: float = 1.0,
                  min_stream_s: float = MIN_STREAM_S,
                  provenance: Mapping[str, Any] | None = None,
                  cadence_only: Iterable[Capture | str | os.PathLike[str]] = ()) -> Profile:
    """A profile from clean captures (``Capture`` objects or paths).

    ``cadence_only``: further clean captures whose path says nothing about real networks
    (a lab bridge without jitter): their streams count for the codec side - bit rate,
    inter-arrival, loss, packet times, durations - but not for jitter and delay.
    """
    from analyzer.errors import UsageError
    from analyzer.streams.capture import read_capture
    samples: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    medians: dict[str, list[float]] = {m: [] for m in METRICS}
    lost = expected = calls = streams = 0
    frames: dict[str, int] = {}
    rates: list[float] = []
    durations: list[float] = []
    sources = itertools.chain(((c, CADENCE_METRICS) for c in cadence_only),
                              ((c, METRICS) for c in captures))
    for cap, metrics in sources:
        capture = read_capture(cap) if isinstance(cap, str | os.PathLike) else cap
        per_call = clean_stream_features(capture, window_s=window_s, min_stream_s=min_stream_s)
        calls += len(per_call)
        for f in (f for feats in per_call for f in feats):
            streams += 1
            w = f.windows
            for m in metrics:
                v = w.metric(m)
                if v.size:
                    samples[m].append(v)
                    medians[m].append(float(np.median(v)))
            lost += int(np.count_nonzero(f.slot_lost & f.slot_usable))
            expected += int(np.count_nonzero(f.slot_usable))
            key = f"{f.frame_interval_s * 1000:.0f}"
            frames[key] = frames.get(key, 0) + 1
            br = w.metric("bitrate")
            if br.size:
                rates.append(float(np.median(br)))
            durations.append(f.duration_s)
    if streams == 0:
        raise UsageError(f"no media stream of at least {min_stream_s:.0f} s to build a "
                         "profile from")
    q = np.linspace(0.0, 1.0, QUANTILE_POINTS)
    quantiles, counts = {}, {}
    for m in METRICS:
        if samples[m]:
            allv = np.concatenate(samples[m])
            quantiles[m] = np.quantile(allv, q)
            counts[m] = int(allv.size)
    return Profile(
        description=description or f"{streams} streams", window_s=window_s, calls=calls,
        streams=streams, quantiles=quantiles, windows=counts,
        call_level={m: CallLevel.fit(medians[m], CALL_LEVEL_FLOORS[m])
                    for m in METRICS if medians[m]},
        lost=lost, expected=expected, frame_intervals_ms=frames,
        bitrate_range_bps=(min(rates), max(rates)) if rates else (0.0, 0.0),
        duration_range_s=(min(durations), max(durations)),
        provenance=dict(provenance or {}))


_DEFAULT: Profile | None = None
DEFAULT_PROFILE_FILE = "default_profile.json"


def default_profile() -> Profile:
    """The profile shipped with the package (see :mod:`analyzer.baseline.defaultgen`)."""
    global _DEFAULT
    if _DEFAULT is None:
        path = os.path.join(os.path.dirname(__file__), DEFAULT_PROFILE_FILE)
        _DEFAULT = Profile.load(path)
    return _DEFAULT
