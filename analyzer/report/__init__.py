"""PDF and PNG reports of a call analysis, for a journalist and an engineer alike.

::

    import analyzer

    analysis = analyzer.analyze("call.pcap", baseline="baseline.pcap")
    analyzer.write_report(analysis, "reports/call.pdf", png_dir="reports/call-figures")

    # single figures (matplotlib Figures; nothing is shown)
    from analyzer.report import report_data, timeline_figure
    fig = timeline_figure(report_data(analysis), call=0)
    fig.savefig("timeline.png", dpi=150)

This is the only part of ``analyzer`` that uses matplotlib, and it imports it only when a
figure is drawn (never at ``import analyzer`` or ``import analyzer.report``), with the Agg
backend and without pyplot.
"""

from __future__ import annotations

from analyzer.report.compare import distributions_figure, loss_runs_figure, rate_figure
from analyzer.report.data import CallData, ReportData, report_data
from analyzer.report.document import (
    figures,
    render_pdf,
    render_pngs,
    write_pdf,
    write_pngs,
    write_report,
)
from analyzer.report.streamtable import stream_table_figures
from analyzer.report.summary import summary_figure
from analyzer.report.timeline import timeline_figure

__all__ = [
    "CallData",
    "ReportData",
    "distributions_figure",
    "figures",
    "loss_runs_figure",
    "rate_figure",
    "render_pdf",
    "render_pngs",
    "report_data",
    "stream_table_figures",
    "summary_figure",
    "timeline_figure",
    "write_pdf",
    "write_pngs",
    "write_report",
]
