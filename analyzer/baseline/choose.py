"""Which baseline a stream is judged against, chosen automatically, strongest first.

1. ``capture`` - another capture of the same call (over a VPN, another network, another
   app): the stream of that capture that matches this one best (same address pair, else
   same role - sent by the private, capturing host or received by it - then the nearest
   packet time and bit rate);
2. ``reverse`` - the other direction of the same call, when it *fits*: speech-like, at
   least ``min_reference_s`` long, the same packet time, and not itself degraded (loss
   below the reportable excess, no change point in loss, jitter or delay, and - given a
   profile - median jitter inside the profile's 99th percentile). A throttler that hits
   both directions makes the other direction useless as a yardstick; it then drops out.
   Never for jitter: uplink and downlink jitter differ on ordinary paths;
3. ``pre_onset`` - the part of the same stream before a change point in loss, jitter or
   delay, when at least ``min_reference_windows`` windows precede it;
4. ``profile`` - a saved profile of clean calls (:mod:`analyzer.baseline.profile`);
5. ``default_profile`` - the profile shipped with the package.

The reference carries warnings when it does not fit: another packet time (codec), a bit
rate far from the stream's (then bit-rate and inter-arrival comparisons are left out),
too short a baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from analyzer.baseline.profile import Profile, default_profile
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.onset import onset_of
from analyzer.detectors.reference import Reference, reference_from_features
from analyzer.detectors.result import Detection
from analyzer.streams.addresses import orientation

MIN_REFERENCE_S = 10.0
MIN_REFERENCE_WINDOWS = 5
#: Onset signals that make the part before them a baseline (a bit-rate change alone may be
#: a codec change).
DEGRADATION_SIGNALS = ("loss", "jitter", "delay")
RATE_MISMATCH = 1.5


def _role(f: StreamFeatures) -> str | None:
    way = orientation(f.src, f.dst)
    return {"up": "sent", "down": "received"}.get(way)


def _median_rate(f: StreamFeatures) -> float | None:
    br = f.windows.metric("bitrate")
    return float(np.median(br)) if br.size else None


def _sending_rate(f: StreamFeatures) -> float | None:
    """The rate the stream runs at when nothing holds it back (90th percentile of its
    windows): a cap later in the call must not read as "another codec"."""
    br = f.windows.metric("bitrate")
    return float(np.quantile(br, 0.9)) if br.size else None


def match_stream(f: StreamFeatures, candidates: Sequence[StreamFeatures]
                 ) -> StreamFeatures | None:
    """The baseline stream that best matches ``f`` (see the module docstring)."""
    best, best_score = None, -math.inf
    rate = _median_rate(f)
    for c in candidates:
        score = 0.0
        if (c.src, c.dst) == (f.src, f.dst):
            score += 4
        if _role(c) is not None and _role(c) == _role(f):
            score += 2
        if math.isfinite(c.frame_interval_s) and math.isfinite(f.frame_interval_s) and \
                abs(c.frame_interval_s - f.frame_interval_s) <= 0.1 * f.frame_interval_s:
            score += 1
        cr = _median_rate(c)
        if rate and cr:
            score -= abs(math.log(cr / rate))
        score += min(c.duration_s, 60.0) / 600.0  # prefer longer on ties
        if score > best_score:
            best, best_score = c, score
    return best


def _fit_warnings(f: StreamFeatures, g: StreamFeatures, what: str) -> tuple[list[str], bool]:
    """Warnings for reference stream ``g``, and whether its rates are comparable."""
    warn = []
    comparable = True
    fi, gi = f.frame_interval_s, g.frame_interval_s
    if math.isfinite(fi) and math.isfinite(gi) and abs(fi - gi) > 0.1 * fi:
        warn.append(f"{what} uses {gi * 1000:.0f} ms packets, this stream {fi * 1000:.0f} ms "
                    "(another codec setting): rate comparisons left out")
        comparable = False
    r1, r2 = _sending_rate(f), _sending_rate(g)
    if r1 and r2 and max(r1, r2) / min(r1, r2) > RATE_MISMATCH:
        warn.append(f"{what} runs at {r2 / 1000:.1f} kbit/s, this stream at "
                    f"{r1 / 1000:.1f} kbit/s: rate comparisons left out")
        comparable = False
    if g.duration_s < MIN_REFERENCE_S:
        warn.append(f"{what} lasts only {g.duration_s:.1f} s")
    return warn, comparable


def _without_rates(ref: Reference) -> Reference:
    w = {k: v for k, v in ref.windows.items() if k not in ("bitrate", "interarrival")}
    return replace(ref, windows=w)


def reverse_fits(g: StreamFeatures, g_onset: Detection | None, *, min_excess_loss: float,
                 profile: Profile | None) -> str | None:
    """Why the other direction cannot serve as baseline (``None``: it can)."""
    if not g.speech_like:
        return "the other direction is not speech-like media"
    if g.duration_s < MIN_REFERENCE_S:
        return f"the other direction lasts only {g.duration_s:.1f} s"
    use = g.slot_usable
    lost = float(np.count_nonzero(g.slot_lost & use)) / max(1, int(np.count_nonzero(use)))
    if lost >= min_excess_loss:
        return f"the other direction itself lost {lost:.1%}"
    changed = onset_of(g_onset, DEGRADATION_SIGNALS)
    if changed is not None:
        return f"the other direction itself changed at {changed[0]:.1f} s ({changed[1]})"
    if profile is not None and "jitter" in profile.call_level:
        j = g.windows.metric("jitter")
        lim = profile.call_level["jitter"].quantile(0.99)
        if j.size and float(np.median(j)) > lim:
            return (f"the other direction's jitter ({np.median(j) * 1000:.1f} ms) is above "
                    f"the profile's 99th percentile ({lim * 1000:.1f} ms)")
    return None


def choose_reference(f: StreamFeatures, *, baseline: Sequence[StreamFeatures] | None = None,
                     reverse: StreamFeatures | None = None,
                     reverse_onset: Detection | None = None, onset: Detection | None = None,
                     profile: Profile | None = None, min_excess_loss: float = 0.01,
                     allow_reverse: bool = True) -> tuple[Reference, list[str]]:
    """The reference for ``f`` and, in order, why stronger baselines were passed over.

    ``allow_reverse=False`` skips the other direction: for jitter and delay, whose uplink
    and downlink differ on ordinary networks (a TURN relay, a mobile uplink), the other
    direction is no yardstick.
    """
    passed: list[str] = []
    if baseline:
        g = match_stream(f, baseline)
        if g is not None:
            warn, comparable = _fit_warnings(f, g, "the baseline stream")
            ref = reference_from_features(
                g, "capture", f"baseline capture, stream {g.label}", warnings=tuple(warn))
            return (ref if comparable else _without_rates(ref)), passed
        passed.append("the baseline capture has no media stream to match")
    if reverse is not None and not allow_reverse:
        passed.append("the other direction is no yardstick for jitter (paths differ)")
    elif reverse is not None:
        why = reverse_fits(reverse, reverse_onset, min_excess_loss=min_excess_loss,
                           profile=profile or default_profile())
        if why is None:
            warn, comparable = _fit_warnings(f, reverse, "the other direction")
            ref = reference_from_features(reverse, "reverse",
                                          f"the other direction of the call ({reverse.label})",
                                          warnings=tuple(warn))
            return (ref if comparable else _without_rates(ref)), passed
        passed.append(why)
    else:
        passed.append("no other direction in the call")
    changed = onset_of(onset, DEGRADATION_SIGNALS)
    if changed is not None:
        t = float(changed[0])
        w = f.windows
        before = w.usable & (w.start_s + w.window_s <= t + 1e-9)
        if int(before.sum()) >= MIN_REFERENCE_WINDOWS:
            ref = reference_from_features(
                f, "pre_onset", f"this stream before its onset at {t:.1f} s", until_s=t)
            return ref, passed
        passed.append(f"only {int(before.sum())} windows before the onset at {t:.1f} s")
    rate = _median_rate(f)
    if profile is not None:
        return profile.reference(kind="profile", frame_interval_s=f.frame_interval_s,
                                 bitrate_bps=rate, duration_s=f.duration_s), passed
    return default_profile().reference(kind="default_profile",
                                       frame_interval_s=f.frame_interval_s, bitrate_bps=rate,
                                       duration_s=f.duration_s), passed
