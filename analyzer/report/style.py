"""One look for every report figure: palette, fonts, page sizes, and the matplotlib settings
that make output byte-identical from run to run.

matplotlib is imported here only inside functions (:func:`mpl`), so importing
:mod:`analyzer.report` costs nothing until a figure is drawn. Figures are built on
:class:`matplotlib.figure.Figure` directly (never ``pyplot``): no global figure list, no
``show()``, and the Agg canvas whatever the user's default backend is.

Colours are the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), safe for
the common forms of colour blindness; directions and baseline are also told apart by line
style, so a grey-scale print still reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Okabe–Ito colours.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#7F7F7F"
LIGHT_GREY = "#D9D9D9"

#: Colours of the streams of a call, in order (first = first direction).
STREAM_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY_BLUE, VERMILLION, BLACK)
#: Line styles that go with them (a second cue besides colour).
STREAM_STYLES = ("-", "--", "-.", ":", "-", "--", "-.")
#: Baseline curves: the same colour as the call direction they match, dotted, thinner.
BASELINE_STYLE = ":"

#: Marks on timelines.
EVIDENCE_COLOUR = YELLOW  # shaded evidence windows
EVIDENCE_ALPHA = 0.55
SPAN_ALPHA = 0.18  # long stretches a finding covers: paler
ONSET_COLOUR = VERMILLION
CUTOFF_COLOUR = BLACK
CAP_COLOUR = PURPLE
LOSS_COLOUR = VERMILLION

#: Verdict colours (background of the verdict banner).
VERDICT_COLOURS = {"clean": GREEN, "degraded": ORANGE, "blocked": VERMILLION,
                   "inconclusive": GREY}

#: Page sizes in inches (A4).
A4_PORTRAIT = (8.27, 11.69)
A4_LANDSCAPE = (11.69, 8.27)
#: Standalone PNG figures.
PNG_DPI = 150
FIGURE_WIDE = (10.0, 4.0)

FONT_FAMILY = "DejaVu Sans"  # shipped with matplotlib: same glyphs on every machine
BASE_FONT_PT = 9.0

#: rcParams every report figure is drawn and saved with.
RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": BASE_FONT_PT,
    "axes.titlesize": BASE_FONT_PT + 1,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": BASE_FONT_PT,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": None,  # set in rc() (needs cycler)
    "grid.color": LIGHT_GREY,
    "grid.linewidth": 0.6,
    "legend.fontsize": BASE_FONT_PT - 1,
    "legend.frameon": False,
    "xtick.labelsize": BASE_FONT_PT - 1,
    "ytick.labelsize": BASE_FONT_PT - 1,
    "lines.linewidth": 1.3,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    # deterministic output
    "pdf.compression": 6,
    # Type 3 fonts (matplotlib's default) with a ToUnicode map: text stays searchable and
    # extractable (pdftotext), and embedding takes ~0.1 s where TrueType subsetting takes
    # ~1 s per PDF. ps.fonttype must match: matplotlib sizes its glyph subsets by it.
    "pdf.fonttype": 3,
    "ps.fonttype": 3,
    "svg.hashsalt": "analyzer-report",
    "svg.fonttype": "none",
    "path.simplify": True,
    "agg.path.chunksize": 10000,
}


def mpl() -> ModuleType:
    """Import matplotlib with the Agg backend (only when a figure is asked for)."""
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        with contextlib.suppress(Exception):  # pyplot already chose another: fine, we
            matplotlib.use("Agg", force=False)  # never use pyplot's canvas
    return matplotlib


def rc() -> dict[str, Any]:
    """The report rcParams (with the colour cycle)."""
    from cycler import cycler

    params = dict(RC)
    params["axes.prop_cycle"] = cycler(color=list(STREAM_COLOURS))
    return params


@contextlib.contextmanager
def report_style() -> Iterator[None]:
    """Draw (and save) inside this context to get the report look: matplotlib's defaults
    (a user's matplotlibrc or style must not change the report) plus :data:`RC`."""
    mpl()
    import matplotlib.style

    with matplotlib.style.context("default"), matplotlib.rc_context(rc()):  # type: ignore[arg-type]
        yield


def new_figure(size: tuple[float, float], *, constrained: bool = False) -> Figure:
    """A figure not tracked by pyplot (so never shown and never leaked). Pages place
    their axes by hand; standalone figures use the constrained layout."""
    mpl()
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=100, layout="constrained" if constrained else None)


def stream_colour(k: int) -> str:
    return STREAM_COLOURS[k % len(STREAM_COLOURS)]


def stream_style(k: int) -> str:
    return STREAM_STYLES[k % len(STREAM_STYLES)]


def no_data(ax: Any, message: str) -> None:
    """Mark an empty panel with a short explanation instead of blank axes."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            color=GREY, fontsize=BASE_FONT_PT - 0.5, wrap=True)
    ax.set_yticks([])  # x ticks stay: the axis may be shared with other panels
    ax.grid(False)
