"""Reading the verdict layer's results for the report.

The report takes :class:`analyzer.verdict.Analysis` as it is (``verdict``, ``findings``
of :class:`~analyzer.verdict.Finding`, ``calls`` of ``CallReport`` > ``StreamReport``
with each detector's :class:`~analyzer.detectors.result.Detection`, ``baseline``) and reads
it through these few accessors, so that a change there is absorbed in one place.
``analysis`` may be ``None`` (a report of measurements only, no verdict).

A ``Finding`` carries no evidence windows of its own: they are the ``evidence`` of the
detection it came from (the stream's ``detections[pattern]``, or ``Analysis.blocked``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzer.streams.model import Call, Stream


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if obj is None:
            return default
        if isinstance(obj, Mapping):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


def _str(value: Any) -> str | None:
    if value is None:
        return None
    v = getattr(value, "value", value)  # an Enum
    return str(v)


def call_reports(analysis: Any) -> tuple[Any, ...]:
    return tuple(_get(analysis, "calls", default=()) or ())


def stream_report(analysis: Any, stream_index: int | None) -> Any | None:
    if stream_index is None:
        return None
    for c in call_reports(analysis):
        for s in _get(c, "streams", default=()) or ():
            if _get(s, "stream") == stream_index:
                return s
    return None


def pattern(f: Any) -> str:
    return _str(_get(f, "pattern", "detector")) or "?"


def summary(f: Any) -> str:
    s = _get(f, "summary")
    return s if isinstance(s, str) else ""


def pvalue(f: Any) -> float | None:
    return _num(_get(f, "pvalue"))


def score(f: Any) -> float | None:
    return _num(_get(f, "score"))


def effect(f: Any) -> float | None:
    return _num(_get(f, "effect"))


def interval(f: Any) -> tuple[float, float] | None:
    iv = _get(f, "interval")
    if iv is None or len(iv) != 2:
        return None
    a, b = _num(iv[0]), _num(iv[1])
    return None if a is None or b is None else (a, b)


def estimate(f: Any) -> Any:
    """A finding's estimate: its typed :class:`~analyzer.detectors.result.Estimate`
    (read it with :func:`_get`, like the rest of a finding), ``None`` when it has none."""
    return _get(f, "estimate")


def span(f: Any) -> tuple[float | None, float | None]:
    return _num(_get(f, "start_s")), _num(_get(f, "end_s"))


def confidence(f: Any) -> str | None:
    c = _get(f, "confidence")
    return c if isinstance(c, str) else None


def detection_of(f: Any, analysis: Any) -> Any | None:
    """The detection a finding came from (its evidence windows live there)."""
    if pattern(f) == "blocked_setup":
        return _get(analysis, "blocked")
    rep = stream_report(analysis, _get(f, "stream"))
    dets = _get(rep, "detections")
    if isinstance(dets, Mapping):
        return dets.get(pattern(f))
    return None


def evidence_windows(f: Any, analysis: Any = None) -> tuple[tuple[float, float], ...]:
    """The stretches (start_s, end_s) a finding rests on; its span when none is known."""
    ev = _get(f, "evidence", "windows", default=()) or ()
    if not ev and analysis is not None:
        ev = _get(detection_of(f, analysis), "evidence", default=()) or ()
    out: list[tuple[float, float]] = []
    for w in ev:
        a = _num(_get(w, "start_s")) if not isinstance(w, Sequence) else _num(w[0])
        b = _num(_get(w, "end_s")) if not isinstance(w, Sequence) else _num(w[1])
        if a is not None and b is not None:
            out.append((a, b))
    if not out:
        a, b = span(f)
        if a is not None and b is not None and b > a:
            out.append((a, b))
    return tuple(out)


def onset_s(f: Any) -> float | None:
    """When the degradation began: the change point the analysis found (``onset_s``), or
    where the detector started looking (``since_s``/``from_s``), or a cut-off's ``at_s``."""
    e = estimate(f)
    for k in ("onset_s", "since_s", "from_s", "at_s"):
        v = _num(_get(e, k))
        if v is not None:
            return v
    return None


def rate_bps(f: Any) -> float | None:
    return _num(_get(estimate(f), "rate_bps"))


def endpoints(f: Any) -> tuple[str | None, int | None, str | None, int | None]:
    return (_get(f, "src"), _get(f, "sport"), _get(f, "dst"), _get(f, "dport"))


def stream_of(f: Any, streams: Sequence[Stream]) -> Stream | None:
    """The stream (among ``streams``) a finding is about: same addresses and ports, same
    direction; ``None`` when the finding names none of them."""
    idx = _get(f, "stream")
    if isinstance(idx, int):
        for s in streams:
            if s.index == idx:
                return s
    src, sport, dst, dport = endpoints(f)
    if src is None and dst is None:
        return None
    for s in streams:
        if (s.src, s.sport, s.dst, s.dport) == (src, sport, dst, dport):
            return s
    for s in streams:
        if (s.src, s.dst) == (src, dst) and (sport is None or s.sport == sport):
            return s
    return None


def concerns(f: Any, streams: Sequence[Stream], call: Call | None) -> bool:
    """Whether a finding is about this call (or capture-wide, with no endpoints)."""
    if stream_of(f, streams) is not None:
        return True
    c = _get(f, "call")
    if isinstance(c, int) and not isinstance(c, bool):
        return call is not None and call.index == c
    src, sport, dst, dport = endpoints(f)
    if src is None and dst is None:
        return True
    ends = {(s.src, s.sport) for s in streams} | {(s.dst, s.dport) for s in streams}
    return (src, sport) in ends or (dst, dport) in ends


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
