"""The analysis as a table: one row per analysed or reported stream (pandas).

Columns keep their types: integers stay integers, with pandas' nullable ``Int64`` where a
value may be missing (SSRC, ports of opaque flows, loss counts of media without RTP);
the stream statistics (as ``flows --json``), the quality figures (nested JSON keys
joined with ``_``: ``loss_lost``, ``mos_adaptive_500ms``), the call's number, app and
verdict, the stream's onset and the patterns found on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analyzer.streams.frame import flatten, frame

if TYPE_CHECKING:
    import pandas as pd

    from analyzer.verdict.model import Analysis

def rows(analysis: Analysis) -> list[dict[str, Any]]:
    """One plain dict per stream the analysis reported on (call media)."""
    cap = analysis.capture
    out = []
    for c in analysis.calls:
        for st in c.streams:
            row: dict[str, Any] = {"call_number": c.number, "call_app": c.app,
                                   "call_verdict": c.verdict}
            if cap is not None:
                row.update(cap.streams[st.stream].to_dict())
            row.update({"direction": st.direction, "analysed": st.analysed,
                        "skipped_reason": st.skipped_reason,
                        "reference": None if st.reference is None else st.reference.kind,
                        "onset_s": None if st.stream_onset is None
                        else st.stream_onset.at_s,
                        "patterns": ",".join(f.pattern for f in c.findings
                                             if f.stream == st.stream)})
            if st.quality is not None:
                row.update(flatten(st.quality.to_dict()))
            out.append(row)
    return out


def to_pandas(analysis: Analysis) -> pd.DataFrame:
    """:func:`rows` as a DataFrame with integer columns kept integer (needs pandas)."""
    return frame(rows(analysis))
