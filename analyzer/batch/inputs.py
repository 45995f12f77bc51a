"""What a batch reads: inputs expanded to capture paths, and each capture's metadata.

:func:`expand` turns files, folders (walked recursively, symlinks not resolved, hidden
entries skipped) and glob patterns into :class:`Input` items in a stable order, each path
as given or as found inside its folder. Metadata come from a CSV manifest
(:func:`read_manifest`, one row per capture: a ``capture`` column and any of ``vantage``,
``isp``, ``asn``, ``country``, ``network``, ``app``, ``date``, ``vpn``, ``baseline``) and
from the path itself (:func:`meta_from_path` with a pattern such as
``{isp}/{app}/{date}/*.pcap``); the manifest wins where both give a value.
"""

from __future__ import annotations

import csv
import glob
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.errors import UsageError

#: Columns a manifest may have beside ``capture`` (others are kept as they are).
MANIFEST_COLUMNS = ("vantage", "isp", "asn", "country", "network", "app", "date", "vpn",
                    "baseline")
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Input:
    """One capture to analyse: ``path`` as given or found, and its metadata."""

    path: str
    meta: Mapping[str, str] = field(default_factory=dict)


def _walk(folder: str, skip: Sequence[Path]) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not any(_same(here / d, s) for s in skip))
        found += [os.path.join(root, f) for f in sorted(files) if not f.startswith(".")]
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def expand(items: Iterable[str], *, skip: Sequence[str | os.PathLike[str]] = ()) -> list[str]:
    """Capture paths of ``items`` (files, folders, globs), each once, in the order given
    (folders and globs sorted). Folders in ``skip`` (the output folder) are not walked.
    A path that does not exist is kept: its analysis reports the error."""
    skip_paths = [Path(s) for s in skip]
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        if os.path.isdir(item):
            paths = _walk(item, skip_paths)
        elif not os.path.lexists(item) and GLOB_CHARS & set(item):
            paths = sorted(glob.glob(item, recursive=True))
            if not paths:
                raise UsageError(f"{item}: no file matches this pattern")
            paths = [p for q in paths for p in (_walk(q, skip_paths) if os.path.isdir(q)
                                                 else [q])]
        else:
            paths = [item]
        for p in paths:
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for token in re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\}|\*\*|\*|\?)", pattern.replace("\\", "/")):
        if token.startswith("{"):
            out.append(f"(?P<{token[1:-1]}>[^/]+)")
        elif token == "**":
            out.append(".*")
        elif token == "*":
            out.append("[^/]*")
        elif token == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(token))
    return re.compile("(?:^|/)" + "".join(out) + "$")


def meta_from_path(pattern: str, path: str) -> dict[str, str]:
    """The ``{name}`` fields of ``pattern`` matched against the end of ``path`` (empty when
    it does not match)."""
    try:
        rx = _pattern_regex(pattern)
    except re.error as exc:
        raise UsageError(f"--meta-from-path {pattern!r}: {exc}") from None
    m = rx.search(path.replace(os.sep, "/"))
    return dict(m.groupdict()) if m else {}


def read_manifest(path: str) -> dict[str, dict[str, str]]:
    """Rows of a CSV manifest keyed by their ``capture`` column. ``capture`` and
    ``baseline`` paths relative to the manifest's folder are kept as written and also
    looked up from there (see :func:`meta_for`)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "capture" not in reader.fieldnames:
                raise UsageError(f"--manifest {path}: needs a 'capture' column "
                                 f"(and any of {', '.join(MANIFEST_COLUMNS)})")
            rows = {}
            for row in reader:
                meta = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                rows[meta.pop("capture")] = {k: v for k, v in meta.items() if v != ""}
    except OSError as exc:
        raise UsageError(f"--manifest {path}: {exc.strerror or exc}") from None
    return rows


def _manifest_row(manifest: Mapping[str, Mapping[str, str]], manifest_dir: str, path: str
                  ) -> dict[str, str]:
    if path in manifest:
        return dict(manifest[path])
    target = os.path.normpath(os.path.abspath(path))
    for key, row in manifest.items():
        for candidate in (key, os.path.join(manifest_dir, key)):
            if os.path.normpath(os.path.abspath(candidate)) == target:
                return dict(row)
    return {}


def meta_for(paths: Sequence[str], *, manifest: str | None = None,
             path_pattern: str | None = None) -> list[Input]:
    """:class:`Input` items with metadata from the path pattern, then the manifest. A
    relative ``baseline`` in the manifest is read from the manifest's folder."""
    rows = read_manifest(manifest) if manifest else {}
    mdir = os.path.dirname(manifest) if manifest else ""
    out = []
    for p in paths:
        meta = meta_from_path(path_pattern, p) if path_pattern else {}
        row = _manifest_row(rows, mdir, p) if manifest else {}
        base = row.get("baseline")
        if base and not os.path.isabs(base) and not os.path.exists(base):
            row["baseline"] = os.path.join(mdir, base)
        meta.update(row)
        out.append(Input(p, meta))
    return out
