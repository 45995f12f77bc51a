"""ITU-T G.107 E-model: transmission rating R and MOS from loss, its burstiness and delay.

    R = (Ro - Is) - Id - Ie_eff + A            with Ro - Is = 93.2 (G.107 defaults)
    Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)     Ppl in percent
    Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)             d one-way delay in ms
    MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6            1 for R <= 0, 4.5 for R >= 100
                                                      (and at least 1: the cubic dips to
                                                       0.99 for 0 < R < 6.5)

(the common simplification of Id; ../shared/DOMAIN.md §3). ``Ppl`` is the loss after the
jitter buffer (lost + late discards) and ``BurstR = 1 / (p + q)`` from the Gilbert model
of that loss (:mod:`analyzer.metrics.losspattern`). Losses spread more evenly than random
give ``BurstR < 1``; the E-model is defined for ``BurstR >= 1`` and :func:`emodel` clamps
it there.

Codec parameters (G.113 Appendix I, as cited by implementations): G.711 with packet-loss
concealment Ie 0, Bpl 25.1; G.729A Ie 11, Bpl 19. No ITU-T Ie/Bpl exist for Opus (nor
for MLow, SILK, AMR in this model's tables): such streams are rated with the G.711+PLC
values and flagged ``relative_index`` - the figure ranks streams and windows against each
other, it is not an absolute MOS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

RO_MINUS_IS = 93.2
DELAY_KNEE_MS = 177.3
MOS_MIN, MOS_MAX = 1.0, 4.5


@dataclass(frozen=True)
class CodecProfile:
    """E-model equipment impairment ``ie`` and packet-loss robustness ``bpl`` of a codec."""

    name: str
    ie: float
    bpl: float
    relative_index: bool  # True: no ITU-T values; G.711+PLC values stand in

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


G711_PLC = CodecProfile("G.711 with PLC", 0.0, 25.1, False)
G729A = CodecProfile("G.729A", 11.0, 19.0, False)
_BY_NAME = {"PCMU": G711_PLC, "PCMA": G711_PLC, "G711": G711_PLC, "G.711": G711_PLC,
            "G729": G729A, "G729A": G729A, "G.729": G729A, "G.729A": G729A}
RELATIVE_NOTE = ("no ITU-T Ie/Bpl values exist for this codec (e.g. Opus): R and MOS use the "
                 "G.711+PLC values (Ie 0, Bpl 25.1) and are a relative index, not an "
                 "absolute MOS")


def codec_profile(codec: str | None) -> CodecProfile:
    """The profile of a codec name (case-insensitive); unknown codecs get the G.711+PLC
    values with ``relative_index`` set."""
    if codec is not None:
        p = _BY_NAME.get(codec.strip().upper())
        if p is not None:
            return p
    label = f"{codec} (as G.711 with PLC)" if codec else "unknown codec (as G.711 with PLC)"
    return CodecProfile(label, G711_PLC.ie, G711_PLC.bpl, True)


def delay_impairment(delay_s: float | np.ndarray) -> Any:
    """``Id`` for a one-way delay in seconds (the formula takes milliseconds)."""
    d = np.asarray(delay_s, dtype=np.float64) * 1000.0
    out = 0.024 * d + 0.11 * (d - DELAY_KNEE_MS) * (d > DELAY_KNEE_MS)
    return float(out) if out.ndim == 0 else out


def effective_equipment_impairment(ppl_percent: float | np.ndarray,
                                   burst_ratio: float | np.ndarray,
                                   profile: CodecProfile) -> Any:
    """``Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)``."""
    ppl = np.asarray(ppl_percent, dtype=np.float64)
    br = np.asarray(burst_ratio, dtype=np.float64)
    out = profile.ie + (95.0 - profile.ie) * ppl / (ppl / br + profile.bpl)
    return float(out) if out.ndim == 0 else out


def r_factor(ppl_percent: float | np.ndarray, burst_ratio: float | np.ndarray,
             delay_s: float | np.ndarray, profile: CodecProfile, *,
             ro_minus_is: float = RO_MINUS_IS, advantage: float = 0.0) -> Any:
    """The transmission rating ``R`` (scalars or arrays)."""
    r = (ro_minus_is - np.asarray(delay_impairment(delay_s))
         - np.asarray(effective_equipment_impairment(ppl_percent, burst_ratio, profile))
         + advantage)
    return float(r) if np.ndim(r) == 0 else r


def mos_from_r(r: float | np.ndarray) -> Any:
    """G.107's mapping of ``R`` to an estimated MOS (1 at R <= 0, 4.5 at R >= 100, never
    below 1)."""
    rr = np.asarray(r, dtype=np.float64)
    mos = np.maximum(1.0 + 0.035 * rr + rr * (rr - 60.0) * (100.0 - rr) * 7e-6, MOS_MIN)
    mos = np.where(rr <= 0, MOS_MIN, np.where(rr >= 100, MOS_MAX, mos))
    mos = np.where(np.isnan(rr), np.nan, mos)
    return float(mos) if mos.ndim == 0 else mos


@dataclass(frozen=True)
class EModelResult:
    """R, MOS and their inputs for one stream (or window) after one jitter buffer."""

    r: float
    mos: float
    ppl_percent: float
    burst_ratio: float
    delay_s: float
    id: float
    ie_eff: float
    codec: CodecProfile

    @property
    def relative_index(self) -> bool:
        return self.codec.relative_index

    def to_dict(self) -> dict[str, Any]:
        return {"r": self.r, "mos": self.mos, "ppl_percent": self.ppl_percent,
                "burst_ratio": self.burst_ratio, "delay_s": self.delay_s, "id": self.id,
                "ie_eff": self.ie_eff, "codec_profile": self.codec.name,
                "relative_index": self.relative_index,
                "note": RELATIVE_NOTE if self.relative_index else None}


def emodel(loss_fraction: float, burst_ratio: float, delay_s: float,
           codec: str | CodecProfile | None, *, ro_minus_is: float = RO_MINUS_IS,
           advantage: float = 0.0) -> EModelResult:
    """Rate one stream: ``loss_fraction`` in [0, 1] (after the jitter buffer),
    ``burst_ratio`` (1 for random loss; values below 1 are taken as 1), ``delay_s`` one-way
    (buffer + network)."""
    prof = codec if isinstance(codec, CodecProfile) else codec_profile(codec)
    ppl = 100.0 * float(loss_fraction)
    br = max(float(burst_ratio), 1.0)
    d_ms = float(delay_s) * 1000.0
    i_d = 0.024 * d_ms + (0.11 * (d_ms - DELAY_KNEE_MS) if d_ms > DELAY_KNEE_MS else 0.0)
    ie = prof.ie + (95.0 - prof.ie) * ppl / (ppl / br + prof.bpl)
    r = ro_minus_is - i_d - ie + advantage
    return EModelResult(r=r, mos=_mos_scalar(r), ppl_percent=ppl, burst_ratio=br,
                        delay_s=float(delay_s), id=i_d, ie_eff=ie, codec=prof)


def _mos_scalar(r: float) -> float:
    if math.isnan(r):
        return r
    if r <= 0:
        return MOS_MIN
    if r >= 100:
        return MOS_MAX
    return max(1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6, MOS_MIN)
