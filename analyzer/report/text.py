"""Words and numbers of the report: plain-language verdicts and patterns, and the formatting
of values with their units (one place, so every page says things the same way)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from analyzer.detectors.result import Estimate
from analyzer.verdict import words

#: Headline and one-paragraph explanation per verdict.
VERDICT_HEADLINES = {
    "clean": "No sign of deliberate degradation",
    "degraded": "The call was degraded",
    "blocked": "The call was blocked",
    "inconclusive": "Inconclusive",
}
VERDICT_EXPLANATIONS = {
    "clean": "Sound packets arrived regularly in both directions, with no loss, delay or "
             "cut-off pattern beyond what an ordinary network shows.",
    "degraded": "The call connected and sound flowed, but the network damaged it in a way "
                "listed below. Such damage is heard as choppy, robotic or 'metallic' sound.",
    "blocked": "The call never carried sound: the phone kept asking to connect and got no "
               "answer. Users see such a call stuck on 'connecting'.",
    "inconclusive": "The capture does not allow a firm conclusion either way; below, "
                    "each inconclusive call says why.",
}

#: Plain names of the detectors' patterns.
PATTERN_NAMES = {
    "loss": "Packet loss",
    "burst_loss": "Loss in bursts",
    "periodic_drop": "Periodic drops",
    "rate_cap": "Bit-rate cap",
    "jitter": "Delay variation (jitter)",
    "cutoff": "One direction cut off",
    "blocked_setup": "Call setup blocked",
    "metallic_risk": "Risk of 'metallic' sound",
}
#: What each pattern means, for the "how to read" notes and the findings table.
PATTERN_MEANINGS = {
    "loss": "sound packets that never arrived",
    "burst_loss": "many packets lost in a row: the app must invent the missing sound",
    "periodic_drop": "everything dropped for a moment at a regular interval",
    "rate_cap": "delivered bit rate held flat at a ceiling (policer or shaper)",
    "jitter": "packets delayed unevenly: the app buffers longer or skips sound",
    "cutoff": "one direction stopped while the other went on",
    "blocked_setup": "connection requests repeated and never answered",
    "metallic_risk": "concealment runs long enough to be heard as metallic buzzing",
}


def pattern_name(pattern: str) -> str:
    return PATTERN_NAMES.get(pattern, pattern.replace("_", " ").capitalize())


#: The headline when the interference answer is known: (verdict, interference) -> words.
HEADLINES = {
    ("degraded", "likely"): "Damaged, and it looks deliberate",
    ("degraded", "possible"): "Damaged; interference possible",
    ("degraded", "none_seen"): "Damaged by an ordinary cause",
    ("degraded", "unknown"): "Damaged; the cause is unknown",
    ("clean", "none_seen"): "No damage found",
}
INTERFERENCE_WORDS = {
    "likely": "LIKELY", "possible": "POSSIBLE", "none_seen": "NONE SEEN",
    "unknown": "UNKNOWN",
}


def verdict_headline(verdict: str, interference: str | None = None) -> str:
    if interference is not None and (verdict, interference) in HEADLINES:
        return HEADLINES[(verdict, interference)]
    return VERDICT_HEADLINES.get(verdict, verdict.capitalize())


def verdict_explanation(verdict: str) -> str:
    return VERDICT_EXPLANATIONS.get(verdict, "")


def finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def fmt_num(x: Any, digits: int = 1, missing: str = "–") -> str:
    """A number with ``digits`` decimals, ``missing`` for None/NaN."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}".replace(",", "\u2009")
    if not finite(x):
        return missing
    return f"{x:.{digits}f}"


def fmt_s(x: Any, digits: int = 1) -> str:
    return "–" if not finite(x) else f"{x:.{digits}f} s"


def fmt_ms(x_s: Any, digits: int = 1) -> str:
    """A duration given in seconds, shown in ms."""
    return "–" if not finite(x_s) else f"{x_s * 1000.0:.{digits}f} ms"


def fmt_rate(bps: Any) -> str:
    if not finite(bps):
        return "–"
    if bps >= 1e6:
        return f"{bps / 1e6:.2f} Mbit/s"
    return f"{bps / 1e3:.1f} kbit/s"


def fmt_pct(fraction: Any, digits: int = 1) -> str:
    return "–" if not finite(fraction) else f"{fraction * 100.0:.{digits}f} %"


def fmt_duration(s: Any) -> str:
    """``75.2`` -> ``"1 min 15 s"``; short ones in seconds."""
    if not finite(s):
        return "–"
    if s < 120:
        return f"{s:.1f} s"
    m, sec = divmod(round(s), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def fmt_p(p: Any) -> str:
    """The analysis's one p-value format (:func:`analyzer.verdict.words.fmt_p`)."""
    return words.fmt_p(p) if finite(p) else ""


def confidence_words(confidence: str | None, pvalue: Any = None, score: Any = None) -> str:
    """The analysis's one confidence wording (:func:`analyzer.verdict.words.
    confidence_text`)."""
    return words.confidence_text(confidence, pvalue if finite(pvalue) else None,
                                 score if finite(score) else None)


def _kb(v: float) -> str:
    return f"{v / 1000:.1f} kB"


#: Estimate keys and how to show them (label, formatter).
_ESTIMATE_FORMATS: dict[str, tuple[str, Any]] = {
    "rate_bps": ("cap", fmt_rate),
    "mode": ("", str),
    "period_s": ("every", lambda v: fmt_s(v, 2)),
    "drop_s": ("drops of", lambda v: fmt_s(v, 2)),
    "loss_fraction": ("loss", fmt_pct),
    "tail_loss_fraction": ("loss after onset", fmt_pct),
    "from_s": ("from", fmt_s),
    "since_s": ("from", fmt_s),
    "onset_s": ("from", fmt_s),
    "at_s": ("at", fmt_s),
    "after_s": ("after", fmt_s),
    "after_packets": ("after", lambda v: f"{int(v)} packets"),
    "after_bytes": ("after", _kb),
    "missing_packets": ("missing", lambda v: f"{int(v)} packets"),
    "cap_fraction_of_offered": ("", lambda v: f"{100 * v:.0f} % of the offered rate"),
    "jitter_s": ("jitter", fmt_ms),
    "reference_jitter_s": ("baseline", fmt_ms),
    "queue_delay_s": ("queue delay", fmt_ms),
    "max_run": ("longest run", lambda v: f"{int(v)} packets"),
    "ratio_to_bernoulli": ("", lambda v: f"{v:.1f}× longer runs than random loss"),
    "concealed_fraction": ("concealed", fmt_pct),
    "audible_events_per_min": ("", lambda v: f"{v:.1f} audible gaps/min"),
    "max_concealment_s": ("longest gap", fmt_ms),
    "requests": ("", lambda v: f"{int(v)} requests"),
    "unanswered": ("", lambda v: f"{int(v)} unanswered"),
    "interval_s": ("every", lambda v: fmt_s(v, 2)),
    "duration_s": ("for", fmt_s),
}
#: The estimates worth a table cell, per pattern, most telling first.
PATTERN_ESTIMATES: dict[str, tuple[str, ...]] = {
    "rate_cap": ("rate_bps", "mode", "since_s", "cap_fraction_of_offered"),
    "periodic_drop": ("period_s", "drop_s", "onset_s"),
    "loss": ("loss_fraction", "tail_loss_fraction", "from_s", "onset_s"),
    "burst_loss": ("max_run", "ratio_to_bernoulli", "onset_s"),
    "jitter": ("jitter_s", "reference_jitter_s", "queue_delay_s", "onset_s"),
    "cutoff": ("at_s", "after_bytes", "after_packets", "missing_packets"),
    "blocked_setup": ("requests", "unanswered", "interval_s"),
    "metallic_risk": ("concealed_fraction", "audible_events_per_min", "max_concealment_s"),
}
#: Estimate keys that are bookkeeping, never shown.
_SKIP = {"effect_unit", "confidence_level", "windows", "reference_windows", "harmonics",
         "rayleigh_z", "pvalue_basis", "mann_whitney_pvalue", "confirm_pvalue", "signals",
         "candidates", "dispersion", "null_rate", "basis", "mode_note"}


def _fmt_value(key: str, value: Any) -> str | None:
    if key in _ESTIMATE_FORMATS:
        label, f = _ESTIMATE_FORMATS[key]
        if isinstance(value, str) and f is str:
            return value
        if not finite(value):
            return None
        return f"{label} {f(value)}".strip()
    if isinstance(value, bool) or value is None:
        return None
    if key.endswith("_s") and finite(value):
        return f"{key[:-2].replace('_', ' ')} {fmt_s(value, 2)}"
    if key.endswith("_bps") and finite(value):
        return f"{key[:-4].replace('_', ' ')} {fmt_rate(value)}"
    if finite(value):
        return f"{key.replace('_', ' ')} {value:.3g}"
    return None


def fmt_interval(unit: str | None, interval: Any) -> str:
    """``"95 % CI 31.2–33.0 kbit/s"`` from an effect's unit text and interval."""
    if interval is None or len(interval) != 2 or not all(finite(v) for v in interval):
        return ""
    a, b = interval
    u = (unit or "").lower()
    if "bit/s" in u:
        return f"95 % CI {a / 1e3:.1f}–{b / 1e3:.1f} kbit/s"
    if "fraction" in u:
        return f"95 % CI {100 * a:.1f}–{100 * b:.1f} %"
    if "period" in u or u.startswith("s ") or u.endswith("(s)"):
        return f"95 % CI {a:.2f}–{b:.2f} s"
    return ""


def fmt_estimate(estimate: Estimate | Mapping[str, Any] | None, pattern: str | None = None,
                 *, interval: Any = None, limit: int = 3) -> str:
    """The most telling estimates, ``"cap 32.0 kbit/s, policing, from 20.0 s"``, then the
    effect's confidence interval when there is one. ``estimate`` is a finding's typed
    estimate (its fields as its JSON has them, :meth:`Estimate.items`) or that JSON."""
    if isinstance(estimate, Estimate):
        estimate = dict(estimate.items())
    if not estimate:
        return ""
    keys = [k for k in PATTERN_ESTIMATES.get(pattern or "", ()) if k in estimate]
    keys += [k for k in estimate if k not in keys and k not in _SKIP
             and not k.endswith("_pvalue")] if not keys else []
    parts: list[str] = []
    seen_labels: set[str] = set()
    for key in keys:
        if len(parts) >= limit:
            break
        value = estimate[key]
        if isinstance(value, Mapping | list | tuple):
            continue
        shown = _fmt_value(key, value)
        if not shown:
            continue
        label = shown.split(" ", 1)[0]
        if label in ("from", "at", "after") and label in seen_labels:
            continue
        seen_labels.add(label)
        parts.append(shown)
    ci = fmt_interval(estimate.get("effect_unit"), interval)
    if ci:
        parts.append(f"({ci})")
    return ", ".join(parts)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters (paragraphs kept)."""
    out: list[str] = []
    for para in text.split("\n"):
        out.extend(textwrap.wrap(para, width=width, break_long_words=True,
                                 break_on_hyphens=False) or [""])
    return out


def join_nonempty(parts: Iterable[str], sep: str = "; ") -> str:
    return sep.join(p for p in parts if p)


HOW_TO_READ = (
    "Verdict - degraded: sound flowed but was damaged in a way an ordinary network does not "
    "produce; blocked: the call never got sound through; inconclusive: the data cannot "
    "settle it.",
    "Confidence - each finding is tested against the baseline. p is the chance of such a "
    "difference arising by accident, corrected for the number of tests in the capture; "
    "confidence " + words.CONFIDENCE_RULE + ".",
    "Timelines - both directions on one time axis (seconds from the start of the "
    "capture). Yellow: the windows a finding rests on (pale: the whole stretch it covers); "
    "red dashed line: onset; black line: cut-off; purple dashed line: estimated rate cap.",
    "Baseline pages - cumulative distributions: a call curve to the right of its dotted "
    "baseline curve means more loss, jitter or longer gaps. MOS (1 bad to 4.5 excellent, "
    "ITU-T E-model after a simulated jitter buffer) is a relative index for Opus and "
    "messenger codecs: compare it between windows and calls.",
    "Stream table - the calls' media streams, as in Wireshark's RTP Streams window (other "
    "flows summed up in one line); 'lost' and jitter "
    "follow TShark 4.0.",
)
