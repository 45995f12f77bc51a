"""Plain words for findings: one sentence a journalist or an engineer can read, with the
figures (rates in kbit/s, times in s from the capture's start, p-values after correction).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


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


def runs_text(e: Mapping[str, Any]) -> str:
    lo, hi = e.get("run_length_min"), e.get("run_length_p90")
    if not lo:
        return ""
    return f"runs of {lo}" if lo == hi else f"runs of {lo}–{hi}"


def loss_tail(loss: Mapping[str, Any] | None) -> str:
    if not loss:
        return ""
    text = f"{pct(loss.get('tail_loss_fraction'))} of packets lost"
    r = runs_text(loss)
    return f"{text}, {r}" if r else text


def summary(pattern: str, direction: str, e: Mapping[str, Any], p: float | None, *,
            effect: float | None = None, interval: tuple[float, float] | None = None,
            context: Mapping[str, Mapping[str, Any]] | None = None,
            onset_s: float | None = None) -> str:
    """The sentence of one finding (``context``: other detections of the stream, by name,
    whose figures complete it - the loss beside a rate cap, the metallic-sound risk;
    ``onset_s``: the stream's one onset, the "from" of every finding on it)."""
    ctx = context or {}
    frm = "" if onset_s is None else f" from {onset_s:.1f} s"
    ps = fmt_p(p)
    tail = ""
    metallic = ctx.get("metallic_risk", {}).get("level")
    if pattern == "loss":
        ref = e.get("reference_loss_fraction")
        base = f", baseline {pct(ref)}" if ref is not None else ""
        r = runs_text(e)
        frm = frm or f" from {e.get('from_s', 0):.1f} s"
        text = (f"{direction}: {pct(e.get('tail_loss_fraction'))} of packets lost{frm} "
                f"({ps}{base})" + (f"; {r}" if r else ""))
    elif pattern == "burst_loss":
        text = (f"{direction}: losses come in bursts - mean run "
                f"{e.get('mean_run', 0):.1f} packets where independent loss gives "
                f"{e.get('bernoulli_mean_run', 1):.2f}, longest {e.get('max_run')}{frm} "
                f"({ps})")
    elif pattern == "periodic_drop":
        text = (f"{direction}: drops recur every {e.get('period_s', 0):.2f} s - "
                f"{e.get('drop_s', 0):.2f} s ({pct(e.get('share_of_period'))} of each "
                f"period) losing {pct(e.get('loss_in_window'))} of packets, "
                f"{e.get('cycles')} cycles"
                f"{frm or ' from ' + format(e.get('first_drop_s', 0), '.1f') + ' s'} ({ps})")
    elif pattern == "rate_cap":
        ci = ""
        if interval is not None:
            ci = f" [{kbps(interval[0])}–{kbps(interval[1])}]"
        mode = e.get("mode")
        how = ""
        if mode == "shaping":
            how = (f", shaping: delay rose {1000 * (e.get('queue_delay_s') or 0):.0f} ms "
                   "before the drops")
        elif mode == "policing":
            how = ", policing: drops without a delay rise"
        frm = frm or f" from {e.get('since_s', 0):.1f} s"
        text = (f"{direction}: rate capped at ≈{kbps(e.get('rate_bps'))} kbit/s (IP layer)"
                f"{ci}{frm} (offered ≈{kbps(e.get('offered_bps'))} kbit/s"
                f"{how}; {ps})")
        tail = loss_tail(ctx.get("loss"))
    elif pattern == "jitter":
        q = ""
        if e.get("queueing"):
            q = f"; queueing: delay rose {1000 * (e.get('delay_rise_s') or 0):.0f} ms"
        ci = ""
        if interval is not None:
            ci = f" [{1000 * interval[0]:.1f}–{1000 * interval[1]:.1f}]"
        text = (f"{direction}: jitter {1000 * e.get('jitter_s', 0):.1f} ms per packet against "
                f"{1000 * e.get('reference_jitter_s', 0):.1f} ms in the baseline "
                f"(+{1000 * (effect or 0):.1f} ms{ci}){frm} ({ps}){q}")
    elif pattern == "cutoff":
        text = (f"{direction}: stream stopped at {e.get('at_s', 0):.1f} s, after "
                f"{e.get('after_s', 0):.1f} s / {e.get('after_packets')} packets / "
                f"{(e.get('after_bytes') or 0) / 1000:.1f} kB, while the call went on "
                f"{(e.get('continued_until_s') or 0) - (e.get('at_s') or 0):.1f} s more "
                f"({str(e.get('basis', '')).replace('_', ' ')})")
    elif pattern == "metallic_risk":
        since = e.get("since_s")
        frm = frm or (f" from {since:.1f} s" if since is not None else "")
        text = (f"{direction}: metallic-sound risk high - {pct(e.get('concealed_fraction'))} "
                f"of the audio concealed{frm}, {e.get('audible_events_per_min', 0):.1f} "
                f"audible gaps a minute (longest {e.get('max_concealment_s', 0):.2f} s)")
        metallic = None
    elif pattern == "blocked_setup":
        t = max(e.get("targets", []), key=lambda x: x["requests"] * (x["answers"] == 0),
                default={})
        iv = t.get("interval_s")
        icmp = t.get("icmp_unreachable", 0)
        text = (f"call setup blocked: {t.get('requests')} {t.get('kind')} requests to "
                f"{t.get('dst')}:{t.get('dport')}"
                + (f" every {iv:.2f} s" if iv else "")
                + f" for {t.get('span_s', 0):.1f} s, none answered, no media"
                + (f"; {icmp} ICMP port unreachable" if icmp else "") + f" ({ps})")
    else:
        text = f"{direction}: {pattern}"
    if tail:
        text += f"; {tail}"
    if metallic in ("high", "medium") and pattern != "metallic_risk":
        text += f"; metallic-sound risk {metallic}"
    return text
