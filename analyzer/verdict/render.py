"""The human-readable report: the verdict in one line, then each finding in plain words."""

from __future__ import annotations

from analyzer.verdict.model import Analysis

VERDICT_WORDS = {
    "clean": "CLEAN - no degradation found",
    "degraded": "DEGRADED",
    "blocked": "BLOCKED - the call never got media",
    "inconclusive": "INCONCLUSIVE",
}


def render_text(analysis: Analysis) -> str:
    """Verdict line, findings with their figures, confounders, baselines and warnings."""
    a = analysis
    n = len(a.findings)
    head = VERDICT_WORDS.get(a.verdict, a.verdict.upper())
    if a.verdict == "degraded":
        head += f" - {n} finding{'s' if n != 1 else ''}: {', '.join(a.patterns)}"
    lines = [f"verdict: {head} ({a.file}, {a.duration_s:.1f} s)"]
    blocked = [f for f in a.findings if f.pattern == "blocked_setup"]
    for f in blocked:
        lines.append(f"  * {f.summary}")
    for c in a.calls:
        app = f"{c.app}, " if c.app else ""
        lines.append(f"call {c.call} ({app}{c.start_s:.1f}-{c.end_s:.1f} s): {c.verdict}")
        for f in c.findings:
            lines.append(f"  * {f.summary} [{f.confidence} confidence]")
        for cf in c.confounders:
            lines.append(f"  - not throttling: {cf.kind}: {cf.description}")
        for st in c.streams:
            if not st.analysed:
                lines.append(f"  - {st.direction} ({st.label}): not analysed, "
                             f"{st.skipped_reason}")
            elif st.reference is not None:
                lines.append(f"  - {st.direction}: compared with {st.reference.description}")
        for w in c.warnings:
            lines.append(f"  ! {w}")
    for w in a.warnings:
        lines.append(f"! {w}")
    return "\n".join(lines)
