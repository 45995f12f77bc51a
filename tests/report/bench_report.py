"""Time a report of a 30-minute call (not collected by pytest; run as a script).

    python -m tests.report.bench_report [DURATION_S]

Simulates a WhatsApp-like call with periodic drops (``simulate_to_file(kind="periodic",
seed=1, duration_s=1800)``) and a clean baseline of the same length, analyses it, then
times the PDF and the PNGs separately (the budget is 10 s for the report).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import analyzer
from analyzer.report import render_pdf, render_pngs, report_data
from analyzer.simulate.scenarios import simulate_to_file


def main(duration_s: float = 1800.0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        simulate_to_file(d / "call.pcap", kind="periodic", seed=1, duration_s=duration_s)
        simulate_to_file(d / "base.pcap", kind="clean", seed=2, duration_s=duration_s)
        cap = analyzer.read_capture(d / "call.pcap")
        base = analyzer.read_capture(d / "base.pcap")
        t0 = time.perf_counter()
        from analyzer.verdict import analyze
        analysis = analyze(cap, baseline=base)
        t1 = time.perf_counter()
        data = report_data(analysis)
        pdf = render_pdf(d / "report.pdf", data)
        t2 = time.perf_counter()
        pngs = render_pngs(d / "png", data)
        t3 = time.perf_counter()
        print(f"{duration_s:.0f} s call, {cap.packets} packets, {len(cap.streams)} streams")
        print(f"analyze: {t1 - t0:.2f} s")
        print(f"report (quality + PDF, {pdf.stat().st_size / 1e3:.0f} kB): {t2 - t1:.2f} s")
        print(f"PNGs ({len(pngs)} figures): {t3 - t2:.2f} s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1800.0)
