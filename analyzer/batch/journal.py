"""``OUT/captures.jsonl``: one line per input, appended and synced as each capture finishes.

A killed batch leaves at most a partial last line; :meth:`Journal.open` drops it (rewriting
the file whole through :mod:`analyzer.atomic`). :meth:`Journal.compact` rewrites the file
at the end of a run with one line per input - the latest - in the order of the inputs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from analyzer.atomic import atomic_write

Line = dict[str, Any]


def _dump(line: Mapping[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class Journal:
    """The lines of ``captures.jsonl``, latest per capture, and an append handle."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.latest: dict[str, Line] = {}
        self._fh: IO[str] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        j = cls(path)
        if not j.path.exists():
            return j
        raw = j.path.read_bytes()
        good: list[Line] = []
        damaged = False
        for chunk in raw.split(b"\n"):
            if not chunk.strip():
                continue
            try:
                line = json.loads(chunk)
            except ValueError:
                damaged = True  # the partial line of a killed batch
                continue
            if isinstance(line, dict) and "capture" in line:
                good.append(line)
            else:
                damaged = True
        if damaged or (raw and not raw.endswith(b"\n")):
            with atomic_write(j.path) as fh:
                fh.writelines(_dump(x) + "\n" for x in good)
        for line in good:
            j.latest[line["capture"]] = line
        return j

    def append(self, line: Line) -> None:
        """Add one line and sync it to disk before returning."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._fh.write(_dump(line) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.latest[line["capture"]] = line

    def compact(self, order: Iterable[str]) -> None:
        """Rewrite the file: one line per capture, those of ``order`` first in that order,
        then any others from earlier runs."""
        self.close()
        order = list(order)
        keys = [c for c in order if c in self.latest]
        keys += [c for c in self.latest if c not in set(order)]
        with atomic_write(self.path) as fh:
            fh.writelines(_dump(self.latest[c]) + "\n" for c in keys)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
