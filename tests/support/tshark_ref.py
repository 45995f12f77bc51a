"""Re-export of the TShark text parser (it lives in the package, for the cross-check)."""

from analyzer.crosscheck.tshark_text import RefStream, load_reference, parse_rtp_streams

__all__ = ["RefStream", "load_reference", "parse_rtp_streams"]
