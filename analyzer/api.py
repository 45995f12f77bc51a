"""The public entry point for lab scripts: ``read_capture(path)`` -> :class:`Capture`, and
``quality_of(capture)`` for every media stream's quality figures.

Re-exports only; nothing inside the package imports this module.
"""

from analyzer.metrics.quality import quality_of
from analyzer.streams.capture import Capture, read_capture

__all__ = ["Capture", "quality_of", "read_capture"]
