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
"""

from analyzer.api import Capture, analyze, quality_of, read_capture, write_report
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
from analyzer.streams.model import Call, Series, Stream
from analyzer.version import __version__

__all__ = [
    "AnalyzerError",
    "Call",
    "Capture",
    "CaptureError",
    "CaptureWarning",
    "CorruptCapture",
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
