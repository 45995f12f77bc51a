"""The public entry points for lab scripts, re-exported (nothing inside the package imports
this module):

* ``read_capture(path)`` -> :class:`Capture`; ``quality_of(capture)`` for every media
  stream's quality figures;
* ``analyze(capture_or_path, *, baseline=None, profile=None)`` -> :class:`Analysis`, the
  one typed result every output renders;
* ``write_report(analysis, pdf_path, png_dir=None)``.
"""

from analyzer.metrics.quality import quality_of
from analyzer.report.document import write_report
from analyzer.streams.capture import Capture, read_capture
from analyzer.verdict.engine import analyze
from analyzer.verdict.model import Analysis

__all__ = ["Analysis", "Capture", "analyze", "quality_of", "read_capture", "write_report"]
