"""Outputs never harm inputs: every path a command will write is checked before any work.

:func:`check_outputs` is the rule, a function of the inputs and the planned outputs (it only
looks at the file system, never changes it): an output that is an input (the same path
once resolved, or the same file by device and inode, so ``./x`` and ``x``, symlinks and hard
links all count), a directory output holding an input under a name it would write, a file
output that is an existing directory, a directory output that is an existing file, or two
outputs naming one path, each raise a :class:`~analyzer.errors.UsageError` naming both
paths. :func:`check_args` plans the paths of a parsed command line and applies the rule.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import UsageError

#: Names ``analyze --png DIR`` writes into DIR (one PNG per report figure).
PNG_NAMES = "*.png"
#: Names ``flows/stats --csv DIR`` writes into DIR (one CSV per media stream).
CSV_NAMES = "stream*.csv"


@dataclass(frozen=True)
class InputFile:
    """A file a command reads: ``role`` says which ("capture", "--baseline capture")."""

    role: str
    path: str


@dataclass(frozen=True)
class OutputPath:
    """A path a command writes: a file, or a directory that receives files named
    ``pattern`` (a shell pattern)."""

    option: str
    path: str
    directory: bool = False
    pattern: str = "*"


def _show(path: str | os.PathLike[str]) -> str:
    """The path as typed, quoted only when it holds characters that would break the line."""
    s = os.fspath(path)
    return repr(s) if any(ord(c) < 32 or ord(c) == 127 for c in s) else s


def _identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    if Path(a).resolve() == Path(b).resolve():
        return True
    ia = _identity(a)
    return ia is not None and ia == _identity(b)


def _check_parent(out: OutputPath) -> None:
    """The nearest existing ancestor must be a directory, else the folders cannot be made."""
    p = Path(out.path).absolute().parent
    while not p.exists() and p != p.parent:
        p = p.parent
    if not p.is_dir():
        raise UsageError(f"{out.option} {_show(out.path)}: cannot create folders under "
                         f"{_show(p)}, which is not a directory")


def _check_file(out: OutputPath, inputs: Sequence[InputFile]) -> None:
    if os.path.isdir(out.path):
        raise UsageError(f"{out.option} {_show(out.path)} is an existing directory; a file "
                         "path is expected")
    _check_parent(out)
    for inp in inputs:
        if _same_file(out.path, inp.path):
            raise UsageError(f"{out.option} {_show(out.path)} would overwrite the {inp.role} "
                             f"{_show(inp.path)}; choose another path")


def _check_directory(out: OutputPath, inputs: Sequence[InputFile]) -> None:
    d = Path(out.path)
    if d.exists() and not d.is_dir():
        raise UsageError(f"{out.option} {_show(out.path)} is an existing file; a directory "
                         "is expected")
    _check_parent(out)
    if not d.is_dir():
        return
    for inp in inputs:
        # the input itself inside the directory under a name that would be written, or a
        # link to it there (the entries are few: only those matching the pattern are seen)
        if Path(inp.path).resolve().parent == d.resolve() and \
                fnmatch.fnmatch(Path(inp.path).name, out.pattern):
            entry = Path(inp.path).name
        else:
            entry = next((e.name for e in d.glob(out.pattern) if _same_file(e, inp.path)), "")
        if entry:
            raise UsageError(f"{out.option} {_show(out.path)} would overwrite the {inp.role} "
                             f"{_show(inp.path)} (as {_show(entry)}); choose another "
                             "directory")


def check_outputs(inputs: Sequence[InputFile], outputs: Sequence[OutputPath]) -> None:
    """Raise :class:`UsageError` when writing ``outputs`` could harm an input or fail on an
    existing path of the wrong kind (see the module's docstring); return quietly otherwise."""
    for i, out in enumerate(outputs):
        if out.directory:
            _check_directory(out, inputs)
        else:
            _check_file(out, inputs)
        for other in outputs[:i]:
            if Path(other.path).resolve() == Path(out.path).resolve():
                raise UsageError(f"{other.option} and {out.option} both name "
                                 f"{_show(out.path)}; give each its own path")


def planned(args: argparse.Namespace) -> tuple[list[InputFile], list[OutputPath]]:
    """The files a parsed command line will read, and the paths it will write."""
    inputs: list[InputFile] = []
    outputs: list[OutputPath] = []
    cmd = args.command
    if cmd in ("flows", "stats", "analyze", "verify"):
        inputs.append(InputFile("capture", args.capture))
    if cmd in ("flows", "stats") and args.csv:
        outputs.append(OutputPath("--csv", args.csv, directory=True, pattern=CSV_NAMES))
    if cmd == "analyze":
        if args.baseline:
            inputs.append(InputFile("--baseline capture", args.baseline))
        if args.profile:
            inputs.append(InputFile("--profile", args.profile))
        if args.report:
            outputs.append(OutputPath("--report", args.report))
        if args.png:
            outputs.append(OutputPath("--png", args.png, directory=True, pattern=PNG_NAMES))
        if getattr(args, "save_json", None):
            outputs.append(OutputPath("--save-json", args.save_json))
    if cmd == "baseline" and getattr(args, "baseline_command", None) == "build":
        inputs.extend(InputFile("capture", c) for c in args.captures)
        outputs.append(OutputPath("-o", args.output))
    if cmd == "batch":  # the captures are checked once found (analyzer.cli.batch)
        if args.manifest:
            inputs.append(InputFile("--manifest", args.manifest))
        outputs.append(OutputPath("-o", args.output, directory=True))
    if cmd == "watch":
        if args.source != "-" and "://" not in args.source:
            inputs.append(InputFile("SOURCE", args.source))
        if args.save:
            outputs.append(OutputPath("--save", args.save))
    if cmd == "simulate" and args.out and not args.list:
        outputs.append(OutputPath("OUT", args.out))
        outputs.append(OutputPath("OUT.truth.json", args.out + ".truth.json"))
    return inputs, outputs


def check_args(args: argparse.Namespace) -> None:
    """Check the outputs of a parsed command line before it reads or computes anything."""
    inputs, outputs = planned(args)
    check_outputs(inputs, outputs)
