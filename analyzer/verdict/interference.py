"""Does it look deliberate? The second question, answered per call beside the verdict.

``verdict`` says what happened to a call (``clean`` | ``degraded`` | ``blocked`` |
``inconclusive``). ``interference`` says whether the damage looks done on purpose, with
one sentence per reason, each carrying its figures:

* ``likely`` - an interference pattern: a flat rate plateau (a policer's drops without a
  delay rise, or a shaper's queue), drops recurring with clockwork regularity, one
  direction cut off while the other goes on, an unanswered setup; or damage that the
  baseline capture of the same call (over a VPN, another network) does not show;
* ``possible`` - damage that only a weaker test ties to interference: loss, bursts or
  jitter against the other direction of the call or against the call's own clean start;
* ``none_seen`` - a clean call, or damage an ordinary cause explains: a network handover
  or a path switch (both directions paused together), silence suppression, a hang-up;
* ``unknown`` - damage with no pattern and nothing to compare it with (only a profile of
  other calls), a total outage of every flow longer than ``MAX_ORDINARY_OUTAGE_S`` (a
  shutdown and a broken link look alike from one capture), or a call the data cannot
  settle.

The strongest level of its calls is the capture's. Pure functions of the call's findings,
confounders and the baselines its streams were compared with; no metric is computed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from analyzer.detectors.estimates import (
    CutoffEstimate,
    LossEstimate,
    MetallicEstimate,
    PeriodicEstimate,
    RateCapEstimate,
)
from analyzer.verdict.words import kbps, pct

if TYPE_CHECKING:
    from analyzer.detectors.confounders import Confounder
    from analyzer.verdict.model import CallReport, Finding, StreamReport

LEVELS = ("likely", "possible", "unknown", "none_seen")
#: Strength order for "the strongest of its calls".
_RANK = {"likely": 3, "possible": 2, "unknown": 1, "none_seen": 0}
#: Patterns that are interference signatures by themselves.
SIGNATURES = ("rate_cap", "periodic_drop", "cutoff", "blocked_setup")
#: Confounders that damage a call (audible gaps) without anyone meaning it.
ORDINARY_DAMAGE = ("handover", "path_switch")
#: Pauses of every direction (handover, path switch, outage) are damage - audible gaps -
#: when they silenced the call this long in all, or recurred: one short switch of path is
#: a hiccup, not a damaged call.
MIN_DAMAGING_PAUSE_S = 3.0
MIN_DAMAGING_PAUSES = 2
#: A pause of every flow up to this long is what a handover or a radio dropout gives; a
#: longer one may be a shutdown as well as a broken link.
MAX_ORDINARY_OUTAGE_S = 10.0


def strongest(levels: Iterable[str]) -> str:
    """The strongest of ``levels`` (``none_seen`` for none)."""
    return max(levels, key=lambda x: _RANK.get(x, 0), default="none_seen")


def pause_s(c: Confounder) -> float:
    """How long a confounder silenced the call (0 for silence suppression and the like)."""
    if c.paused_s is not None:
        return c.paused_s
    return 0.0 if c.end_s is None or c.kind not in (*ORDINARY_DAMAGE, "outage") \
        else max(0.0, c.end_s - c.start_s)


def damaging(confounders: Sequence[Confounder]) -> list[Confounder]:
    """The confounders that left audible gaps: handovers, path switches, outages."""
    hits = [c for c in confounders if c.kind in (*ORDINARY_DAMAGE, "outage")]
    if sum(pause_s(c) for c in hits) >= MIN_DAMAGING_PAUSE_S or \
            sum(c.events for c in hits) >= MIN_DAMAGING_PAUSES:
        return hits
    return []


def _signature_reason(f: Finding) -> str | None:
    e = f.estimate
    who = f.direction or "a stream"
    if isinstance(e, RateCapEstimate):
        how = {"policing": "dropped without any delay rise (a policer)",
               "shaping": "queued, delay rising before the drops (a shaper)"}.get(
                   e.mode, "held at a ceiling")
        return (f"{who}: the delivered rate stayed flat at ≈{kbps(e.rate_bps)} kbit/s at the "
                f"IP layer from {f.start_s:.1f} s while ≈{kbps(e.offered_bps)} kbit/s was "
                f"offered; the excess was {how} - a rate limiter's signature")
    if isinstance(e, PeriodicEstimate):
        return (f"{who}: {e.drop_s:.2f} s of packets dropped every {e.period_s:.2f} s, "
                f"{e.cycles} times in a row from {f.start_s:.1f} s - a clockwork regularity "
                "that radio fading and congestion do not produce")
    if isinstance(e, CutoffEstimate):
        kb = e.after_bytes / 1000
        return (f"{who}: media stopped at {e.at_s:.1f} s, after {e.after_s:.1f} s / "
                f"{e.after_packets} packets / {kb:.1f} kB, while the other direction went on "
                f"until {e.continued_until_s:.1f} s - a cut-off, not a hang-up")
    if f.pattern == "blocked_setup":
        return f"call setup blocked: {f.summary.removeprefix('call setup blocked: ')}"
    return None


def _damage_reason(f: Finding, ref: str | None) -> str:
    e = f.estimate
    who = f.direction or "a stream"
    if isinstance(e, LossEstimate):
        what = f"{pct(e.tail_loss_fraction)} of packets lost from {f.start_s:.1f} s"
        if ref == "capture" and e.reference_loss_fraction is not None:
            return (f"{who}: {what} where the baseline capture of the same call lost "
                    f"{pct(e.reference_loss_fraction)}")
    else:
        what = f"{f.pattern.replace('_', ' ')} from {f.start_s:.1f} s"
    if ref == "capture":
        return f"{who}: {what}, which the baseline capture of the same call does not show"
    if ref == "reverse":
        return (f"{who}: {what} while the other direction of the call stayed clean - "
                "consistent with interference, though one congested or radio link can do it")
    if ref == "pre_onset":
        return (f"{who}: {what} after a clean start of the same stream - consistent with "
                "interference switched on mid-call, though the network may have changed")
    return (f"{who}: {what}, with no pattern and only a profile of other calls to compare "
            "with: nothing ties it to interference or clears it")


def assess_call(verdict: str, findings: Sequence[Finding], streams: Sequence[StreamReport],
                confounders: Sequence[Confounder], *, inconclusive_why: str | None = None
                ) -> tuple[str, tuple[str, ...]]:
    """``(interference, reasons)`` of one call (see the module docstring)."""
    likely = [r for f in findings if f.pattern in SIGNATURES
              if (r := _signature_reason(f)) is not None]
    if likely:
        return "likely", tuple(dict.fromkeys(likely))
    refs = {s.stream: (s.reference.kind if s.reference is not None else None)
            for s in streams}
    levels: list[tuple[str, str]] = []
    for f in findings:
        if f.pattern == "metallic_risk":
            continue  # the audible consequence of another finding, not evidence
        ref = refs.get(f.stream) if f.stream is not None else None
        level = {"capture": "likely", "reverse": "possible", "pre_onset": "possible"}.get(
            ref or "", "unknown")
        levels.append((level, _damage_reason(f, ref)))
    if levels:
        top = strongest(lv for lv, _ in levels)
        return top, tuple(dict.fromkeys(r for lv, r in levels if lv == top))
    gaps = damaging(confounders)
    if gaps:
        outage = [c for c in gaps if c.kind == "outage" and pause_s(c) > MAX_ORDINARY_OUTAGE_S]
        if outage:
            return "unknown", tuple(
                f"every flow of the capture fell silent ({c.description}): a network outage "
                "and a deliberate shutdown look alike from one capture" for c in outage)
        return "none_seen", tuple(
            (f"the gaps match a network {c.kind.replace('_', ' ')}: {c.description}"
             if c.kind != "outage" else
             f"a brief pause of every flow, as a handover or a radio dropout gives: "
             f"{c.description}") + "; not counted as throttling" for c in gaps)
    if verdict == "inconclusive":
        return "unknown", (f"the call is inconclusive: {inconclusive_why}"
                           if inconclusive_why else "the call is inconclusive",)
    benign = [c for c in confounders if c.kind not in ("outage", *ORDINARY_DAMAGE)]
    if benign:
        return "none_seen", ("no damage measured; " + "; ".join(
            f"{c.kind.replace('_', ' ')}: {c.description}" for c in benign[:3]),)
    return "none_seen", ("no damage measured: packets arrived steadily in every direction "
                         "analysed",)


def inconclusive_reason(c: CallReport) -> str:
    """Why a call is ``inconclusive``, in words (every inconclusive call says why)."""
    skipped = [st for st in c.streams if not st.analysed]
    if not any(st.analysed for st in c.streams):
        if not skipped:
            return "the call has no media stream dense enough to analyse"
        return "no stream could be tested: " + "; ".join(
            f"{st.direction}: {st.skipped_reason}" for st in skipped)
    hints = []
    for st in c.streams:
        for name, d in st.detections.items():
            if d.detected and d.pvalue is not None and not any(
                    f.stream == st.stream and f.pattern == name for f in c.findings):
                hints.append(f"{st.direction}: {name.replace('_', ' ')} raw p = "
                             f"{d.pvalue:.2g}, not significant after correction")
        risk = st.detections.get("metallic_risk")
        level = risk.estimate.level if risk is not None and isinstance(
            risk.estimate, MetallicEstimate) else None
        if level in ("medium", "high") and not any(f.stream == st.stream for f in c.findings):
            hints.append(f"{st.direction}: metallic-sound risk {level} "
                         "with no pattern that explains it")
    if hints:
        return "a test came close but did not hold up: " + "; ".join(hints)
    return "a suspicious effect was seen that no test confirms"
