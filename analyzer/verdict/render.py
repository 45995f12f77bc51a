"""The terminal text: both answers in plain words, then each call and its findings.

A renderer of :class:`~analyzer.verdict.model.Analysis` only: it reads no capture and
computes no metric. Calls are numbered from 1 as in the JSON (``number``) and the report.
"""

from __future__ import annotations

from analyzer.verdict.interference import inconclusive_reason
from analyzer.verdict.model import Analysis, CallReport, StreamReport
from analyzer.verdict.words import plain_answer

__all__ = ["inconclusive_reason", "render_text"]

VERDICT_WORDS = {
    "clean": "CLEAN - no degradation found",
    "degraded": "DEGRADED",
    "blocked": "BLOCKED - the call never got media",
    "inconclusive": "INCONCLUSIVE",
}


def _reference(st: StreamReport) -> str:
    ref = st.reference
    if ref is None:
        return ""
    out = f"compared with {ref.description}"
    if st.jitter_reference is not None:
        out += f" (jitter: with {st.jitter_reference.description})"
    return out


def _call_lines(c: CallReport) -> list[str]:
    app = f"{c.app}, " if c.app else ""
    lines = [f"call {c.number} ({app}{c.start_s:.1f}-{c.end_s:.1f} s): {c.verdict}, "
             f"interference {c.interference.replace('_', ' ')}"]
    for r in c.interference_reasons:
        lines.append(f"  > {r}")
    for f in c.findings:
        lines.append(f"  * {f.summary} [{f.confidence} confidence]")
    for cf in c.confounders:
        lines.append(f"  - not throttling: {cf.kind}: {cf.description}")
    for st in c.streams:
        if not st.analysed:
            lines.append(f"  - {st.direction} ({st.label}): not analysed, {st.skipped_reason}")
        elif st.reference is not None:
            lines.append(f"  - {st.direction}: {_reference(st)}")
        lines.extend(f"    note: {n}" for n in st.notes)
    if c.verdict == "inconclusive":
        lines.append(f"  ? inconclusive because {inconclusive_reason(c)}")
    for w in c.warnings:
        lines.append(f"  ! {w}")
    return lines


def render_text(analysis: Analysis) -> str:
    """Verdict line, findings with their figures, confounders, baselines and warnings."""
    a = analysis
    n = len(a.findings)
    head = VERDICT_WORDS.get(a.verdict, a.verdict.upper())
    if a.verdict == "degraded" and n:
        head += f" - {n} finding{'s' if n != 1 else ''}: {', '.join(a.patterns)}"
    elif a.verdict == "degraded":
        head += " - damage with an ordinary cause (see below), no interference pattern"
    lines = [f"verdict: {head} ({a.file}, {a.duration_s:.1f} s)",
             f"interference: {a.interference.upper().replace('_', ' ')}",
             plain_answer(a.verdict, a.interference, a.interference_reasons,
                          calls=len(a.calls))]
    if a.baseline.given is not None and not a.baseline.usable:
        lines.append(f"! baseline not used: {a.baseline.why_unusable}")
    for f in a.findings:
        if f.pattern == "blocked_setup":
            lines.append(f"  * {f.summary}")
    for c in a.calls:
        lines.extend(_call_lines(c))
    for w in a.warnings:
        if a.baseline.why_unusable is None or a.baseline.why_unusable not in w:
            lines.append(f"! {w}")
    return "\n".join(lines)
