"""analyzer: evidence of deliberate call degradation from packet captures.

Lab-script entry points::

    import analyzer
    cap = analyzer.read_capture("call.pcapng")
    for s in cap.media_streams:
        print(s.label, s.stats.lost, s.stats.max_jitter_ms)

    analysis = analyzer.analyze(cap, baseline="over-vpn.pcapng")
    print(analysis.verdict, [f.summary for f in analysis.findings])
    analyzer.write_report(analysis, "report.pdf", png_dir="figures")
    quality = analyzer.quality_of(cap)  # {stream index: StreamQuality}

    from analyzer.verdict import Settings  # resource bounds (--limit NAME=VALUE)
    bounded = analyzer.analyze(cap, settings=Settings(limits=analyzer.Limits(max_resamples=200)))
"""

from typing import TYPE_CHECKING, Any

from analyzer.errors import (
    AnalyzerError,
    CaptureError,
    CaptureWarning,
    CorruptCapture,
    NotACapture,
    TruncatedCapture,
    TruncatedCaptureWarning,
    UnsupportedLinkType,
    UsageError,
)
from analyzer.limits import Limits
from analyzer.streams.model import Call, Series, Stream
from analyzer.version import __version__

if TYPE_CHECKING:
    from analyzer.api import Capture, analyze, quality_of, read_capture, write_report

#: Loaded on first use (PEP 562): a command that only lists flows should not pay for
#: importing the verdict engine and the report layer.
_API = frozenset({"Capture", "analyze", "quality_of", "read_capture", "write_report"})


def __getattr__(name: str) -> Any:
    if name in _API:
        from analyzer import api
        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)

__all__ = [
    "AnalyzerError",
    "Call",
    "Capture",
    "CaptureError",
    "CaptureWarning",
    "CorruptCapture",
    "Limits",
    "NotACapture",
    "Series",
    "Stream",
    "TruncatedCapture",
    "TruncatedCaptureWarning",
    "UnsupportedLinkType",
    "UsageError",
    "__version__",
    "analyze",
    "quality_of",
    "read_capture",
    "write_report",
]
