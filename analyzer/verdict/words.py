"""Plain words for findings: one sentence a journalist or an engineer can read, with the
figures (rates in kbit/s, times in s from the capture's start, p-values after correction).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from analyzer.detectors.estimates import (
    BlockedEstimate,
    BurstEstimate,
    CutoffEstimate,
    Estimate,
    JitterEstimate,
    LossEstimate,
    MetallicEstimate,
    PeriodicEstimate,
    RateCapEstimate,
)


def fmt_p(p: float | None) -> str:
    """The one p-value format of every output: ``p < 1e-6``, ``p = 3e-04``,
    ``p = 0.012``."""
    if p is None or not math.isfinite(p):
        return ""
    if p < 1e-6:
        return "p < 1e-6"
    if p < 1e-3:
        return f"p = {p:.0e}"
    return f"p = {p:.3f}".rstrip("0").rstrip(".")


#: What a finding's confidence means (one wording everywhere).
CONFIDENCE_RULE = ("high: corrected p < 1e-4 (a score of 2+ for the metallic-sound risk, "
                   "10+ with the other direction going on for a cut-off); medium: below "
                   "the analysis's alpha or the score threshold")


def confidence_text(confidence: str | None, p: float | None = None,
                    score: float | None = None) -> str:
    """``high confidence (p < 1e-6)``, ``medium confidence (score 1.4)``."""
    word = f"{confidence} confidence" if confidence else "confidence not rated"
    if p is not None and math.isfinite(p):
        return f"{word} ({fmt_p(p)})"
    if score is not None and math.isfinite(score):
        return f"{word} (score {score:.1f})"
    return word


def pct(x: float | None) -> str:
    if x is None:
        return "?"
    if x >= 0.095:
        return f"{x:.0%}"
    return f"{x:.1%}"


def kbps(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x / 1000:.0f}" if x >= 10_000 else f"{x / 1000:.1f}"


def runs_text(e: LossEstimate) -> str:
    lo, hi = e.run_length_min, e.run_length_p90
    if not lo:
        return ""
    return f"runs of {lo}" if lo == hi else f"runs of {lo}–{hi}"


def loss_tail(loss: Estimate | None) -> str:
    if not isinstance(loss, LossEstimate):
        return ""
    text = f"{pct(loss.tail_loss_fraction)} of packets lost"
    r = runs_text(loss)
    return f"{text}, {r}" if r else text


def summary(pattern: str, direction: str, e: Estimate, p: float | None, *,
            effect: float | None = None, interval: tuple[float, float] | None = None,
            context: Mapping[str, Estimate] | None = None,
            onset_s: float | None = None) -> str:
    """The sentence of one finding of ``pattern`` with estimate ``e`` (``context``: the
    estimates of the stream's other detections, by detector name, whose figures complete
    it - the loss beside a rate cap, the metallic-sound risk; ``onset_s``: the stream's
    one onset, the "from" of every finding on it)."""
    ctx = context or {}
    frm = "" if onset_s is None else f" from {onset_s:.1f} s"
    ps = fmt_p(p)
    tail = ""
    risk = ctx.get("metallic_risk")
    metallic = risk.level if isinstance(risk, MetallicEstimate) else None
    if pattern == "loss" and isinstance(e, LossEstimate):
        ref = e.reference_loss_fraction
        base = f", baseline {pct(ref)}" if ref is not None else ""
        r = runs_text(e)
        frm = frm or f" from {e.from_s:.1f} s"
        text = (f"{direction}: {pct(e.tail_loss_fraction)} of packets lost{frm} "
                f"({ps}{base})" + (f"; {r}" if r else ""))
    elif pattern == "burst_loss" and isinstance(e, BurstEstimate):
        text = (f"{direction}: losses come in bursts - mean run "
                f"{e.mean_run:.1f} packets where independent loss gives "
                f"{e.bernoulli_mean_run:.2f}, longest {e.max_run}{frm} "
                f"({ps})")
    elif pattern == "periodic_drop" and isinstance(e, PeriodicEstimate):
        text = (f"{direction}: drops recur every {e.period_s:.2f} s - "
                f"{e.drop_s:.2f} s ({pct(e.share_of_period)} of each "
                f"period) losing {pct(e.loss_in_window)} of packets, "
                f"{e.cycles} cycles"
                f"{frm or ' from ' + format(e.first_drop_s, '.1f') + ' s'} ({ps})")
    elif pattern == "rate_cap" and isinstance(e, RateCapEstimate):
        ci = ""
        if interval is not None:
            ci = f" [{kbps(interval[0])}–{kbps(interval[1])}]"
        how = ""
        if e.mode == "shaping":
            how = (f", shaping: delay rose {1000 * (e.queue_delay_s or 0):.0f} ms "
                   "before the drops")
        elif e.mode == "policing":
            how = ", policing: drops without a delay rise"
        frm = frm or f" from {e.since_s:.1f} s"
        text = (f"{direction}: rate capped at ≈{kbps(e.rate_bps)} kbit/s (IP layer)"
                f"{ci}{frm} (offered ≈{kbps(e.offered_bps)} kbit/s"
                f"{how}; {ps})")
        tail = loss_tail(ctx.get("loss"))
    elif pattern == "jitter" and isinstance(e, JitterEstimate):
        q = ""
        if e.queueing:
            q = f"; queueing: delay rose {1000 * (e.delay_rise_s or 0):.0f} ms"
        ci = ""
        if interval is not None:
            ci = f" [{1000 * interval[0]:.1f}–{1000 * interval[1]:.1f}]"
        text = (f"{direction}: jitter {1000 * e.jitter_s:.1f} ms per packet against "
                f"{1000 * e.reference_jitter_s:.1f} ms in the baseline "
                f"(+{1000 * (effect or 0):.1f} ms{ci}){frm} ({ps}){q}")
    elif pattern == "cutoff" and isinstance(e, CutoffEstimate):
        text = (f"{direction}: stream stopped at {e.at_s:.1f} s, after "
                f"{e.after_s:.1f} s / {e.after_packets} packets / "
                f"{(e.after_bytes or 0) / 1000:.1f} kB, while the call went on "
                f"{e.continued_until_s - e.at_s:.1f} s more "
                f"({e.basis.replace('_', ' ')})")
    elif pattern == "metallic_risk" and isinstance(e, MetallicEstimate):
        since = e.since_s
        frm = frm or (f" from {since:.1f} s" if since is not None else "")
        text = (f"{direction}: metallic-sound risk high - {pct(e.concealed_fraction)} "
                f"of the audio concealed{frm}, {e.audible_events_per_min:.1f} "
                f"audible gaps a minute (longest {e.max_concealment_s:.2f} s)")
        metallic = None
    elif pattern == "blocked_setup" and isinstance(e, BlockedEstimate) and e.targets:
        t = max(e.targets, key=lambda x: x.requests * (x.answers == 0))
        iv = t.interval_s
        icmp = t.icmp_unreachable
        text = (f"call setup blocked: {t.requests} {t.kind} requests to "
                f"{t.dst}:{t.dport}"
                + (f" every {iv:.2f} s" if iv else "")
                + f" for {t.span_s:.1f} s, none answered, no media"
                + (f"; {icmp} ICMP port unreachable" if icmp else "") + f" ({ps})")
    else:
        text = f"{direction}: {pattern}"
    if tail:
        text += f"; {tail}"
    if metallic in ("high", "medium") and pattern != "metallic_risk":
        text += f"; metallic-sound risk {metallic}"
    return text


#: The two answers in plain words: (verdict, interference) -> the sentence's first half.
_PLAIN = {
    ("degraded", "likely"): "The call was damaged, and it looks done on purpose",
    ("degraded", "possible"): "The call was damaged; interference is possible, not proven",
    ("degraded", "none_seen"): "The call was damaged; nothing suggests it was done on purpose",
    ("degraded", "unknown"): ("The call was damaged; the capture cannot tell whether on "
                              "purpose"),
    ("blocked", "likely"): "The call was blocked: it never got sound through",
    ("clean", "none_seen"): "The call was not damaged",
    ("inconclusive", "unknown"): "The capture cannot settle whether the call was damaged",
}


def plain_answer(verdict: str, interference: str, reasons: tuple[str, ...] | list[str],
                 *, calls: int = 1) -> str:
    """Both answers in one sentence with the first reason: "The call was damaged; nothing
    suggests it was done on purpose: the gaps match a network handover: ..."."""
    head = _PLAIN.get((verdict, interference))
    if head is None:
        head = (f"Verdict {verdict}; interference {interference.replace('_', ' ')}")
    if calls > 1 and verdict == "clean":
        head = f"None of the {calls} calls was damaged"
    elif calls > 1:
        head = head.replace("The call was", "A call was", 1).replace(
            "The call ", "A call ", 1)
    if verdict == "clean" and interference == "none_seen":
        return head + "."
    return f"{head}: {reasons[0]}." if reasons else head + "."
