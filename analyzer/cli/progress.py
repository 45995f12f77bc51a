"""A progress bar on stderr, shown only when stderr is a terminal and the file is big."""

from __future__ import annotations

import sys
import time
from typing import TextIO

MIN_BYTES_FOR_PROGRESS = 32 << 20


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.t0 = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int | None) -> None:
        if total is None or total < MIN_BYTES_FOR_PROGRESS:
            return
        frac = min(done / total, 1.0) if total else 1.0
        fill = int(frac * self.width)
        rate = done / max(time.monotonic() - self.t0, 1e-6) / 1e6
        self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (self.width - fill)}] "
                          f"{frac:5.1%} {rate:6.1f} MB/s")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def progress_for(label: str, stream: TextIO | None = None) -> ProgressBar | None:
    s = stream or sys.stderr
    return ProgressBar(label, s) if s.isatty() else None
