"""What page 1 says in words, read from the typed :class:`~analyzer.verdict.model.Analysis`:
what happened to each call (confounders as what they are, why a call is inconclusive,
its worst MOS), what each stream was compared with, and where the input came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from analyzer.report import text
from analyzer.report.data import TIMELINE_BUFFER
from analyzer.verdict.render import inconclusive_reason

if TYPE_CHECKING:
    from analyzer.detectors.confounders import Confounder
    from analyzer.metrics.quality import StreamQuality
    from analyzer.verdict.model import Analysis, CallReport, Source, StreamReport

#: Below this MOS a call sounded poor whatever the verdict, and page 1 says so.
POOR_MOS = 3.0


def confounder_words(cf: Confounder) -> str:
    """A confounder as what it is, with what was measured (never "no loss")."""
    what = cf.description
    if cf.kind == "handover" and what.startswith("media moved"):
        return f"{what}: a path switch (not counted as throttling)"
    if cf.kind == "handover":
        return (f"the call was interrupted: {what}, matching a network handover "
                "(not counted as throttling)")
    if cf.kind == "outage":
        return (f"the call was interrupted: {what}, an outage of the whole connection "
                "(not counted as throttling)")
    if cf.kind == "dtx":
        return (f"{what.replace('sender silent (DTX)', 'one sender fell silent on purpose')}"
                ": silence suppression (DTX) by the app, not lost packets")
    if cf.kind == "codec_change":
        return f"the app changed its packet timing ({what}), not counted as throttling"
    if cf.kind == "renegotiation":
        return f"a {what} (the call was renegotiated, not throttled)"
    return f"{cf.kind.replace('_', ' ')}: {what} (not counted as throttling)"


def worst_mos(call: CallReport, quality: Mapping[int, StreamQuality]
              ) -> tuple[float, StreamReport, bool] | None:
    """The lowest MOS of the call's streams (after the timelines' jitter buffer): value,
    stream and whether it is a relative index."""
    worst = None
    for st in call.streams:
        q = quality.get(st.stream)
        m = None if q is None else q.mos.get(TIMELINE_BUFFER)
        if q is not None and m is not None and text.finite(m) and (
                worst is None or m < worst[0]):
            worst = (float(m), st, bool(q.relative_index))
    return worst


def _mos_words(call: CallReport, quality: Mapping[int, StreamQuality]) -> str:
    w = worst_mos(call, quality)
    if w is None:
        return ""
    m, st, rel = w
    kind = " (a relative index for this codec)" if rel else ""
    way = st.direction or st.label
    low = ", poor" if m < POOR_MOS else ""
    return f"worst MOS {m:.2f}{kind} on #{st.stream} {way}{low}"


def call_sentences(call: CallReport, quality: Mapping[int, StreamQuality]) -> list[str]:
    """What was measured on one call, in words: its confounders, why it is inconclusive,
    its worst MOS. Empty for a degraded call without confounders (its findings say it)."""
    out = []
    if call.verdict == "inconclusive":
        out.append(f"inconclusive because {inconclusive_reason(call)}")
    out += [confounder_words(cf) for cf in _distinct(call.confounders)]
    if out or call.verdict != "degraded":
        mos = _mos_words(call, quality)
        if mos:
            out.append(mos)
    return out


def _distinct(confounders: tuple[Confounder, ...]) -> list[Confounder]:
    """One DTX line per call (the per-stream counts go to the notes)."""
    seen: set[str] = set()
    out = []
    for cf in confounders:
        if cf.kind == "dtx":
            if "dtx" in seen:
                continue
            seen.add("dtx")
        out.append(cf)
    return out


def verdict_explanation(analysis: Analysis) -> str | None:
    """The box's paragraph when the generic one would not be true, else ``None``: a
    "clean" capture whose calls were interrupted or partly untested did not have "no
    loss"."""
    if analysis.verdict != "clean":
        return None
    disturbed = any(c.confounders for c in analysis.calls)
    untested = any(not st.analysed for c in analysis.calls for st in c.streams)
    if not disturbed and not untested:
        return None
    return ("No pattern of deliberate degradation was found. The network still did "
            "things to the call that are listed below as what they are; they are not "
            "counted as throttling." if disturbed else
            "No pattern of deliberate degradation was found in the streams that could be "
            "tested; the streams that could not are listed below.")


def call_lines(analysis: Analysis, quality: Mapping[int, StreamQuality]) -> list[str]:
    """``"Call 1: the call was interrupted: ..."`` for every call that has something to
    say (one sentence a call)."""
    out = []
    for c in analysis.calls:
        said = call_sentences(c, quality)
        if said:
            s = "; ".join(said)
            out.append(f"Call {c.number}: {s[:1].upper()}{s[1:]}.")
    return out


# -- the baseline ---------------------------------------------------------------------------

def _stream_name(c: CallReport, st: StreamReport) -> str:
    return f"call {c.number} {st.direction or st.label} (#{st.stream})"


#: How page 1 names each kind of reference (analyzer.detectors.reference.KINDS); the
#: baseline capture's own stream and a profile's make-up are named from its description.
REFERENCE_WORDS = {
    "reverse": "the other direction of the call",
    "pre_onset": "the same stream before the degradation began",
    "profile": "the given profile of clean calls",
    "default_profile": "the built-in profile of clean calls",
}


def _ref(kind: str, description: str) -> str:
    if kind == "capture":
        return description
    return REFERENCE_WORDS.get(kind, description)


def reference_words(st: StreamReport) -> str:
    """What one stream was compared with (short: profiles are described once, by
    :func:`profile_lines`)."""
    if not st.analysed:
        return f"not analysed: {st.skipped_reason}"
    if st.reference is None:
        return "compared with nothing (no reference fitted)"
    out = f"compared with {_ref(st.reference.kind, st.reference.description)}"
    j = st.jitter_reference
    if j is not None:
        out += f" (jitter: with {_ref(j.kind, j.description)})"
    return out


def profile_lines(analysis: Analysis) -> list[str]:
    """The profiles streams were compared with, each described once."""
    out: dict[str, str] = {}
    for c in analysis.calls:
        for st in c.streams:
            for ref in (st.reference, st.jitter_reference):
                if ref is not None and ref.kind in ("profile", "default_profile"):
                    name = REFERENCE_WORDS[ref.kind]
                    out[name] = f"{name[:1].upper()}{name[1:]}: {ref.description}"
    return list(out.values())


def baseline_given(analysis: Analysis) -> str:
    """What the user gave as a baseline and whether it could be used (and why not)."""
    b = analysis.baseline
    cap = analysis.baseline_capture
    if b.given == "capture":
        path = b.source.path if b.source is not None else (cap.path if cap else "?")
        size = ""
        if cap is not None:
            size = (f" ({text.fmt_duration(cap.duration_s)}, {text.fmt_num(cap.packets)} "
                    f"packets, {len(cap.calls)} call(s))")
        if not b.usable:
            why = b.why_unusable or f"{path} held nothing to compare with"
            if path not in why:
                why = f"{path}: {why}"
            return (f"A baseline capture was given but NOT used - {why}. Each stream was "
                    "compared with what is listed below instead.")
        return f"Baseline capture {path}{size}."
    if b.given == "profile":
        head = "A profile of clean calls was given"
        if b.description:
            head += f" ({b.description})"
        if not b.usable:
            return f"{head} but NOT used: {b.why_unusable}."
        return head + "."
    return ("No baseline given: each stream is compared with the other direction, the "
            "stretch before the degradation began, or a profile of clean calls - weaker "
            "evidence than a baseline recorded the same way.")


def baseline_lines(analysis: Analysis, *, limit: int = 8) -> list[str]:
    """Per stream, what it was compared with; streams with the same reference share a
    line. At most ``limit`` lines (then how many more)."""
    groups: dict[str, list[str]] = {}
    for c in analysis.calls:
        for st in c.streams:
            groups.setdefault(reference_words(st), []).append(_stream_name(c, st))
    lines = [f"{', '.join(names)}: {what}" for what, names in groups.items()]
    lines += profile_lines(analysis)
    if len(lines) > limit:
        more = len(lines) - limit + 1
        lines = [*lines[:limit - 1],
                 f"... {more} more (the analysis JSON lists each stream's baseline)"]
    return lines


# -- provenance ----------------------------------------------------------------------------

def _file_words(src: Source) -> str:
    size = f", {text.fmt_num(src.size_bytes)} bytes" if src.size_bytes is not None else ""
    return f"{src.path} ({src.format}{size})"


def provenance(analysis: Analysis) -> list[tuple[str, str]]:
    """Input file, its SHA-256 and size, recording start (UTC), tool version and the
    baseline file: what a reader needs to check the evidence."""
    out: list[tuple[str, str]] = []
    src = analysis.source
    cap = analysis.capture
    if src is not None:
        out.append(("File", _file_words(src)))
        if src.sha256:
            out.append(("SHA-256", src.sha256))
        start = src.start_utc
    else:
        out.append(("File", f"{analysis.file}" + (f" ({cap.fmt})" if cap else "")))
        from analyzer.verdict.model import utc

        start = utc(cap.start_epoch_s) if cap is not None and cap.packets else None
    if start:
        out.append(("Recorded", f"from {start.replace('T', ' ').rstrip('Z')} UTC, "
                                f"{text.fmt_duration(analysis.duration_s)}"))
    out.append(("Tool", f"analyzer {analysis.tool_version or 'version unknown'}"))
    b = analysis.baseline
    if b.given == "capture":
        if b.source is not None:
            out.append(("Baseline file", _file_words(b.source)))
            if b.source.sha256:
                out.append(("Baseline SHA-256", b.source.sha256))
        elif analysis.baseline_capture is not None:
            out.append(("Baseline file", analysis.baseline_capture.path))
    return out


def notes(analysis: Analysis) -> list[str]:
    """The notes under the findings, each once: confounders the verdict box left out
    (further DTX periods), streams not analysed, warnings (the unusable baseline's reason
    is said under "Baseline used" already)."""
    out: list[str] = []
    for c in analysis.calls:
        shown = _distinct(c.confounders)
        for cf in c.confounders:
            if cf not in shown:
                out.append(f"Call {c.number}: {confounder_words(cf)}.")
        out.extend(c.warnings)  # streams not analysed: under "Baseline used"
    why = analysis.baseline.why_unusable
    out.extend(w for w in analysis.warnings if why is None or why not in w)
    return list(dict.fromkeys(out))
