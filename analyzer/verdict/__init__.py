"""Verdicts on captures: ``analyze(capture) -> Analysis`` and the plain-words report.

The CLI needs only these::

    analysis = analyze_path(path, baseline_path=..., profile_path=...)
    print(render_text(analysis))            # or json.dumps(analysis.to_dict())
    status = 3 if fail_on_detect and analysis.flagged else 0
    build_profile_file(paths, "profile.json")
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from analyzer.baseline.profile import Profile, build_profile
from analyzer.verdict.engine import Analyzer, analyze
from analyzer.verdict.model import (
    ANALYSIS_SCHEMA,
    PATTERNS,
    VERDICTS,
    Analysis,
    CallReport,
    Finding,
    StreamReport,
)
from analyzer.verdict.render import render_text
from analyzer.verdict.settings import Settings

__all__ = ["ANALYSIS_SCHEMA", "PATTERNS", "VERDICTS", "Analysis", "Analyzer", "CallReport",
           "Finding", "Settings", "StreamReport", "analyze", "analyze_path",
           "build_profile_file", "render_text"]


def analyze_path(path: str | os.PathLike[str], *,
                 baseline_path: str | os.PathLike[str] | None = None,
                 profile_path: str | os.PathLike[str] | None = None,
                 settings: Settings | None = None) -> Analysis:
    """Read ``path`` (and the baseline capture or profile) and analyse it."""
    from analyzer.errors import UsageError
    from analyzer.streams.capture import read_capture
    if baseline_path is not None and profile_path is not None:
        raise UsageError("give either a baseline capture or a profile, not both")
    limits = (settings or Settings()).limits
    baseline: object = None
    if baseline_path is not None:
        baseline = read_capture(baseline_path, limits=limits)
    elif profile_path is not None:
        baseline = Profile.load(profile_path)
    return analyze(read_capture(path, limits=limits),
                   baseline=baseline,  # type: ignore[arg-type]
                   settings=settings)


def build_profile_file(paths: Sequence[str | os.PathLike[str]],
                       output: str | os.PathLike[str], *, description: str = "",
                       window_s: float = 1.0) -> Profile:
    """Build a profile from clean captures and save it to ``output``."""
    prof = build_profile(paths, description=description or f"{len(paths)} captures",
                         window_s=window_s,
                         provenance={"captures": [os.fspath(p) for p in paths]})
    prof.save(output)
    return prof
