"""Optional cross-check of our stream statistics against TShark (when it is installed)."""

from analyzer.crosscheck.tshark import CrossCheck, StreamComparison, cross_check, tshark_streams

__all__ = ["CrossCheck", "StreamComparison", "cross_check", "tshark_streams"]
