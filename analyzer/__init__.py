"""analyzer: evidence of deliberate call degradation from packet captures.

Lab-script entry points::

    import analyzer
    cap = analyzer.read_capture("call.pcapng")
    for s in cap.media_streams:
        print(s.label, s.stats.lost, s.stats.max_jitter_ms)
    quality = analyzer.quality_of(cap)  # {stream index: StreamQuality}
"""

from analyzer.api import Capture, quality_of, read_capture
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
    "quality_of",
    "read_capture",
]
