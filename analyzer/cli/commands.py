"""Sub-command implementations, each a few lines over the public API."""

from __future__ import annotations

import argparse
from typing import TextIO

from analyzer.cli.status import ExitStatus


def register(sub: argparse._SubParsersAction) -> None:
    """Sub-commands beyond ``flows`` register here."""


def _read(path: str, err: TextIO):
    from analyzer.api import read_capture
    from analyzer.cli.progress import progress_for
    bar = progress_for(f"reading {path}", err)
    try:
        return read_capture(path, progress=bar)
    finally:
        if bar is not None:
            bar.close()


def cmd_flows(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.flows import render_table, to_json
    cap = _read(args.capture, err)
    if args.json:
        to_json(cap.to_dict(), out)
    else:
        out.write(render_table(cap, show_all=args.all) + "\n")
    return ExitStatus.OK


COMMANDS = {"flows": cmd_flows}


def dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    return COMMANDS[args.command](args, out, err)
