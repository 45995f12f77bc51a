"""The stream table: Wireshark-style statistics of the calls' media streams (``tshark -z
rtp,streams`` columns, plus kind, app, codec/clock and our MOS), on landscape pages, as
many as needed; every other flow summarised in one line."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from analyzer.report import style, tables, text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analyzer.metrics.quality import StreamQuality
    from analyzer.streams.capture import Capture
    from analyzer.streams.model import Stream

FONT_PT = 7.0
MARGIN_IN = 0.5
COLUMNS = (
    tables.Column("#", 0.3, "right"),
    tables.Column("Source", 1.45),
    tables.Column("Destination", 1.45),
    tables.Column("Kind / app", 0.9),
    tables.Column("Codec / clock", 0.9),
    tables.Column("Packets", 0.6, "right"),
    tables.Column("Lost", 0.95, "right"),
    tables.Column("Max Δ (ms)", 0.62, "right"),
    tables.Column("Mean jitter (ms)", 0.6, "right"),
    tables.Column("Max jitter (ms)", 0.6, "right"),
    tables.Column("Start (s)", 0.55, "right"),
    tables.Column("End (s)", 0.55, "right"),
    tables.Column("Call", 0.35, "right"),
    tables.Column("MOS", 0.72, "right"),
)
NOTES = (
    "Packets, lost, max Δ and jitter follow TShark 4.0.17 ('lost' is the sequence span "
    "minus packets received: negative with duplicates, 0 for a stream that simply stops). "
    "Jitter needs the RTP clock: 'inferred' means it was read from timestamp steps (TShark "
    "prints 0 there). '–': not applicable (no RTP). MOS: E-model after a simulated "
    "adaptive 500 ms jitter buffer; 'rel.' marks a relative index (no ITU-T values for the "
    "codec). * marks a stream with sequence errors or backwards timestamps.")


def _codec(s: Stream) -> str:
    clock = f"{s.clock_rate_hz / 1000:g} kHz" if s.clock_rate_hz else ""
    src = f" ({s.clock_source})" if s.clock_rate_hz and s.clock_source else ""
    pt = f"PT {s.payload_types[0]}" if s.payload_types else ""
    parts = [p for p in (s.codec or pt, clock + src) if p]
    return ", ".join(parts) or "–"


def stream_row(s: Stream, q: StreamQuality | None) -> list[str]:
    st = s.stats
    lost = "–"
    if st.lost is not None:
        exp = st.expected
        pct = f" ({100.0 * st.lost / exp:.1f} %)" if exp else ""
        lost = f"{st.lost}{pct}"
    mos = "–"
    if q is not None:
        m = q.mos.get("adaptive_500ms")
        if m is not None:
            mos = f"{m:.2f}" + (" rel." if q.relative_index else "")
    kind = s.kind + (f" / {s.app}" if s.app else "")
    return [
        f"{s.index}" + ("*" if st.problems else ""),
        f"{s.src}:{s.sport}", f"{s.dst}:{s.dport}", kind, _codec(s),
        text.fmt_num(st.packets), lost, text.fmt_num(st.max_delta_ms, 1),
        text.fmt_num(st.mean_jitter_ms, 2), text.fmt_num(st.max_jitter_ms, 2),
        f"{st.start_s:.2f}", f"{st.end_s:.2f}",
        "–" if s.call is None else str(s.call + 1), mos,
    ]


def listed_streams(capture: Capture) -> list[Stream]:
    """The streams the table lists in full: the media of the capture's calls (without
    calls: its media streams; without media: every flow, the setup attempts)."""
    if capture.calls:
        return [s for s in capture.streams if s.call is not None and s.is_media]
    return list(capture.media_streams) or list(capture.streams)


#: How the one-line summary names each kind of flow.
KIND_NAMES = {"stun": "STUN", "dtls": "DTLS", "rtcp": "RTCP", "sip": "SIP",
              "rtp": "RTP outside the calls", "telegram": "Telegram outside the calls",
              "opaque": "opaque UDP", "other": "other UDP"}


def other_flows_line(capture: Capture) -> str:
    """``"+ 37 other flows: 20 STUN, 12 other UDP, ... - see `analyzer flows --all`"``, or
    ``""`` when the table lists every flow."""
    listed = {s.index for s in listed_streams(capture)}
    rest = Counter(s.kind for s in capture.streams if s.index not in listed)
    n = sum(rest.values())
    if not n:
        return ""
    kinds = ", ".join(f"{k} {KIND_NAMES.get(kind, kind)}" for kind, k in
                      sorted(rest.items(), key=lambda kv: (-kv[1], kv[0])))
    return (f"+ {n} other flow{'s' if n != 1 else ''}: {kinds} - see "
            f"`analyzer flows --all {os.path.basename(capture.path)}`")


def stream_rows(capture: Capture, quality: Mapping[int, StreamQuality]) -> list[list[str]]:
    """One row per listed stream (:func:`listed_streams`)."""
    return [stream_row(s, quality.get(s.index)) for s in listed_streams(capture)]


def _notes_height(width_in: float) -> float:
    return len(text.wrap(NOTES, tables.chars_for(width_in, 7.5, tables.PROSE_EM))) * \
        tables.line_height_in(7.5) + 0.1


def paginate(rows: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """``(first, count)`` of the rows on each page (one page at least)."""
    w, h = style.A4_LANDSCAPE
    avail = h - 2 * MARGIN_IN - 0.75 - OTHERS_IN - _notes_height(w - 2 * MARGIN_IN)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(rows) or not out:
        n = max(tables.rows_that_fit(COLUMNS, rows[i:], FONT_PT, avail), 1)
        out.append((i, min(n, max(len(rows) - i, 0))))
        i += n
    return out


#: Room for the line summarising the flows not listed.
OTHERS_IN = 0.25


def draw_stream_page(fig: Figure, title: str, rows: Sequence[Sequence[str]], first: int,
                     count: int, page_of: tuple[int, int], others: str = "") -> None:
    """One page of the table; ``others`` (the line summarising the flows not listed)
    under the last page's rows."""
    w, h = fig.get_size_inches()
    k, n = page_of
    head = title + (f" (page {k} of {n})" if n > 1 else "")
    fig.text(MARGIN_IN / w, 1 - 0.45 / h, head, fontsize=14, fontweight="bold", va="top")
    shown = (f"call media streams {first + 1}–{first + count} of {len(rows)}" if rows
             else "no media streams in a call")
    fig.text(MARGIN_IN / w, 1 - 0.78 / h, shown, fontsize=8, va="top", color=style.GREY)
    bottom = tables.draw_table(fig, MARGIN_IN, 1.05, COLUMNS, rows[first:first + count],
                               font_pt=FONT_PT)
    if others and k == n:
        fig.text(MARGIN_IN / w, 1 - (bottom + 0.1) / h, others, fontsize=8, va="top")
        bottom += OTHERS_IN
    fig.text(MARGIN_IN / w, 1 - (bottom + 0.15) / h,
             "\n".join(text.wrap(NOTES, tables.chars_for(w - 2 * MARGIN_IN, 7.5,
                                                          tables.PROSE_EM))),
             fontsize=7.5, va="top", color=style.GREY, linespacing=tables.LINE_SPACING)


def stream_table_figures(capture: Capture, quality: Mapping[int, StreamQuality], *,
                         title: str = "Streams") -> list[Figure]:
    """The stream table as landscape pages."""
    rows = stream_rows(capture, quality)
    pages = paginate(rows)
    figs = []
    with style.report_style():
        for k, (first, count) in enumerate(pages):
            fig = style.new_figure(style.A4_LANDSCAPE)
            draw_stream_page(fig, title, rows, first, count, (k + 1, len(pages)),
                             other_flows_line(capture))
            figs.append(fig)
    return figs
