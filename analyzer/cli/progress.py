"""A progress bar on stderr, shown only when stderr is a terminal and the file is big."""

from __future__ import annotations

import sys
import time
from typing import TextIO

MIN_BYTES_FOR_PROGRESS = 32 << 20


class _Line:
    """One redrawn line on ``stream``: ``label [####....] tail``, ended by :meth:`close`."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.t0 = time.monotonic()
        self.shown = False

    def draw(self, frac: float, tail: str) -> None:
        """Redraw the bar on its line: ``label [####....] tail``."""
        fill = int(frac * self.width)
        head = f"{self.label} " if self.label else ""
        self.stream.write(f"\r{head}[{'#' * fill}{'.' * (self.width - fill)}] {tail}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


class ProgressBar(_Line):
    """Progress through a file being read (bytes)."""

    def __call__(self, done: int, total: int | None) -> None:
        if total is None or total < MIN_BYTES_FOR_PROGRESS:
            return
        frac = min(done / total, 1.0) if total else 1.0
        rate = done / max(time.monotonic() - self.t0, 1e-6) / 1e6
        self.draw(frac, f"{frac:5.1%} {rate:6.1f} MB/s")


class CountBar(ProgressBar):
    """Progress through counted work (calls analysed): ``analysing [###...] 3/10 calls``,
    shown when the work is long enough to wait for (``min_total`` items or more, or
    ``force`` - after a reading bar was shown)."""

    def __init__(self, label: str, unit: str, stream: TextIO, *, min_total: int = 5,
                 force: bool = False, width: int = 30) -> None:
        super().__init__(label, stream, width)
        self.unit, self.min_total, self.force = unit, min_total, force

    def __call__(self, done: int, total: int | None) -> None:
        if not total or (total < self.min_total and not self.force):
            return
        per_s = done / max(time.monotonic() - self.t0, 1e-6)
        self.draw(min(done / total, 1.0), f"{done}/{total} {self.unit} {per_s:5.1f}/s")


def count_bar_for(label: str, unit: str, stream: TextIO | None = None, *,
                  force: bool = False) -> CountBar | None:
    s = stream or sys.stderr
    return CountBar(label, unit, s, force=force) if s.isatty() else None


def progress_for(label: str, stream: TextIO | None = None) -> ProgressBar | None:
    s = stream or sys.stderr
    return ProgressBar(label, s) if s.isatty() else None


class BatchBar(_Line):
    """Progress through a batch: ``[###...] 120/500 captures  14.2 calls/s  ETA 0:00:27``
    (the rate and the ETA count what this run analysed, not what an earlier run did)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        super().__init__("", stream, width)
        self.start: int | None = None

    def __call__(self, done: int, total: int, calls: int) -> None:
        if self.start is None:
            self.start = done
        frac = done / total if total else 1.0
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        now = done - self.start
        eta = "--:--:--"
        if now:
            left = (total - done) * elapsed / now
            eta = f"{int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}"
        self.draw(frac, f"{done}/{total} captures {calls / elapsed:6.1f} calls/s ETA {eta}")


def batch_bar_for(stream: TextIO | None = None) -> BatchBar | None:
    s = stream or sys.stderr
    return BatchBar(s) if s.isatty() else None
