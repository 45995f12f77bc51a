"""Text tables drawn on report pages: wrapped cells, measured before drawing so that long
tables split across pages at row boundaries.

Sizes are in inches from the top of the page; characters per line are estimated from the
font size (DejaVu Sans averages about 0.55 em per character; 0.6 is used to stay safe).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analyzer.report import style, text

CHAR_EM = 0.6  # table cells: digits and capitals are wide
PROSE_EM = 0.53  # running text
LINE_SPACING = 1.35


@dataclass(frozen=True)
class Column:
    title: str
    width_in: float
    align: str = "left"  # "left" or "right"
    em: float = CHAR_EM  # average character width (prose columns are narrower)


def chars_for(width_in: float, font_pt: float, em: float = CHAR_EM) -> int:
    return max(int(width_in * 72.0 / (em * font_pt)), 4)


def line_height_in(font_pt: float) -> float:
    return font_pt * LINE_SPACING / 72.0


def wrap_cells(columns: Sequence[Column], row: Sequence[str], font_pt: float
               ) -> list[list[str]]:
    return [text.wrap(cell, chars_for(c.width_in - 0.08, font_pt, c.em))
            for c, cell in zip(columns, row, strict=True)]


def row_height_in(columns: Sequence[Column], row: Sequence[str], font_pt: float) -> float:
    lines = max(len(c) for c in wrap_cells(columns, row, font_pt))
    return lines * line_height_in(font_pt) + 0.06


def rows_that_fit(columns: Sequence[Column], rows: Sequence[Sequence[str]], font_pt: float,
                  height_in: float) -> int:
    """How many rows (from the first) fit in ``height_in`` below the header row."""
    used = row_height_in(columns, [c.title for c in columns], font_pt) + 0.05
    n = 0
    for row in rows:
        h = row_height_in(columns, row, font_pt)
        if used + h > height_in:
            break
        used += h
        n += 1
    return n


def draw_table(fig: Any, left_in: float, top_in: float, columns: Sequence[Column],
               rows: Sequence[Sequence[str]], *, font_pt: float = 8.0,
               shade_every: int = 2, row_colours: Sequence[str | None] | None = None
               ) -> float:
    """Draw a header row and ``rows`` from ``top_in`` down; returns the bottom (inches).

    ``row_colours`` gives a small colour swatch at the start of a row (or None)."""
    from matplotlib.patches import Rectangle

    w_in, h_in = fig.get_size_inches()
    total_w = sum(c.width_in for c in columns)

    def fx(x: float) -> float:
        return x / w_in

    def fy(y: float) -> float:
        return 1.0 - y / h_in

    y = top_in
    header_h = row_height_in(columns, [c.title for c in columns], font_pt)
    _draw_row(fig, left_in, y, columns, [c.title for c in columns], font_pt, bold=True,
              fx=fx, fy=fy)
    y += header_h
    fig.add_artist(_hline(fx(left_in), fx(left_in + total_w), fy(y), 0.8))
    y += 0.05
    for i, row in enumerate(rows):
        h = row_height_in(columns, row, font_pt)
        if shade_every and i % shade_every == 1:
            fig.add_artist(Rectangle((fx(left_in), fy(y + h)), fx(total_w) - fx(0),
                                     fy(y) - fy(y + h), transform=fig.transFigure,
                                     facecolor="#F2F2F2", edgecolor="none", zorder=0))
        if row_colours is not None and row_colours[i] is not None:
            fig.add_artist(Rectangle((fx(left_in - 0.12), fy(y + 0.03 + 0.1)), fx(0.08),
                                     fy(0) - fy(0.1), transform=fig.transFigure,
                                     facecolor=row_colours[i], edgecolor="none"))
        _draw_row(fig, left_in, y, columns, row, font_pt, bold=False, fx=fx, fy=fy)
        y += h
    fig.add_artist(_hline(fx(left_in), fx(left_in + total_w), fy(y), 0.5))
    return y


def _hline(x0: float, x1: float, y: float, lw: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], color=style.BLACK, lw=lw)


def _draw_row(fig: Any, left_in: float, top_in: float, columns: Sequence[Column],
              row: Sequence[str], font_pt: float, *, bold: bool, fx: Any, fy: Any) -> None:
    x = left_in
    for col, lines in zip(columns, wrap_cells(columns, row, font_pt), strict=True):
        tx = x + col.width_in - 0.06 if col.align == "right" else x + 0.03
        fig.text(fx(tx), fy(top_in + 0.03), "\n".join(lines), ha=col.align, va="top",
                 fontsize=font_pt, fontweight="bold" if bold else "normal",
                 linespacing=LINE_SPACING)
        x += col.width_in
