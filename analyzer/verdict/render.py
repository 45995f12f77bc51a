"""The terminal text: both answers in plain words, then each call and its findings.

A renderer of :class:`~analyzer.verdict.model.Analysis` only: it reads no capture and
computes no metric. Calls are numbered from 1 as in the JSON (``number``) and the report.
"""

from __future__ import annotations

from analyzer.detectors.estimates import MetallicEstimate
from analyzer.verdict.model import Analysis, CallReport, StreamReport

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
    lines = [f"call {c.number} ({app}{c.start_s:.1f}-{c.end_s:.1f} s): {c.verdict}"]
    for f in c.findings:
        lines.append(f"  * {f.summary} [{f.confidence} confidence]")
    for cf in c.confounders:
        lines.append(f"  - not throttling: {cf.kind}: {cf.description}")
    for st in c.streams:
        if not st.analysed:
            lines.append(f"  - {st.direction} ({st.label}): not analysed, {st.skipped_reason}")
        elif st.reference is not None:
            lines.append(f"  - {st.direction}: {_reference(st)}")
    if c.verdict == "inconclusive":
        lines.append(f"  ? inconclusive because {inconclusive_reason(c)}")
    for w in c.warnings:
        lines.append(f"  ! {w}")
    return lines


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


def render_text(analysis: Analysis) -> str:
    """Verdict line, findings with their figures, confounders, baselines and warnings."""
    a = analysis
    n = len(a.findings)
    head = VERDICT_WORDS.get(a.verdict, a.verdict.upper())
    if a.verdict == "degraded":
        head += f" - {n} finding{'s' if n != 1 else ''}: {', '.join(a.patterns)}"
    lines = [f"verdict: {head} ({a.file}, {a.duration_s:.1f} s)"]
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
