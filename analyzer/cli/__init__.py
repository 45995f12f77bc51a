"""The ``analyzer`` command: a thin layer over the public API.

``main(argv) -> ExitStatus`` never calls ``sys.exit``; ``run()`` does. Known errors become
one line on stderr and a distinct exit status; data goes to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import BinaryIO, TextIO

from analyzer.cli.status import ExitStatus
from analyzer.errors import (
    AnalyzerError,
    CaptureError,
    CorruptCapture,
    NotACapture,
    TruncatedCapture,
    UnsupportedLinkType,
    UsageError,
)
from analyzer.memory import limit_heap_retention

PROG = "analyzer"

_STATUS = (
    (NotACapture, ExitStatus.NOT_A_CAPTURE),
    (UnsupportedLinkType, ExitStatus.UNSUPPORTED_LINK_TYPE),
    (CorruptCapture, ExitStatus.CORRUPT_CAPTURE),
    (TruncatedCapture, ExitStatus.TRUNCATED_CAPTURE),
    (CaptureError, ExitStatus.CAPTURE_UNREADABLE),
    (UsageError, ExitStatus.USAGE),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Evidence of deliberate call degradation from "
                "packet captures (pcap/pcapng, gzip allowed).")
    from analyzer.version import __version__
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    f = sub.add_parser("flows", help="list the call streams of a capture with TShark-exact "
                       "statistics")
    f.add_argument("capture", help="pcap or pcapng file (may be gzip-compressed)")
    f.add_argument("--json", action="store_true", help="write a JSON document to stdout")
    f.add_argument("--all", action="store_true",
                   help="also list non-media flows (STUN, DTLS, RTCP, SIP, other)")
    f.add_argument("--csv", metavar="DIR", help="write each media stream's windowed series "
                   "(packets/s, bit rate, loss, jitter, gaps, MOS per window) as CSV to DIR "
                   "(created with its missing parents; never over an input)")
    f.add_argument("--window", type=float, default=1.0, metavar="S",
                   help="window length for --csv and the quality figures, seconds")
    f.add_argument("--cross-check", action="store_true",
                   help="also run tshark -z rtp,streams on the capture and compare every "
                   "stream it lists (needs tshark; 'analyzer verify' compares the two reading "
                   "engines)")
    f.add_argument("--no-quality", action="store_true",
                   help="--json without the quality figures (TShark-style statistics only; "
                   "faster on huge captures)")
    from analyzer.cli.redaction import add_redact_options
    add_redact_options(f)
    from analyzer.cli import commands
    commands.add_profile_option(f)
    commands.register(sub)
    return p


def _status_for(exc: AnalyzerError) -> ExitStatus:
    for cls, st in _STATUS:
        if isinstance(exc, cls):
            return st
    return ExitStatus.ERROR


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None, stdin: BinaryIO | None = None) -> ExitStatus:
    """Run the command line ``argv``; ``stdin`` is where ``-`` reads a capture from
    (default: the process's binary stdin)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    limit_heap_retention()

    def show_warning(message, category, filename, lineno, file=None, line=None):
        err.write(f"{PROG}: warning: {message}\n")

    # catch_warnings restores the caller's filters and showwarning afterwards, and resets
    # the "shown once" registry, so every run in a process reports its capture's warnings.
    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        return _main(argv, out, err, stdin)


def _main(argv: Sequence[str] | None, out: TextIO, err: TextIO,
          stdin: BinaryIO | None = None) -> ExitStatus:
    from analyzer.phases import failed_stage
    failed_stage()  # forget what an earlier run in this process left
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.stdin_binary = stdin
        if not args.command:
            parser.print_help(out)
            return ExitStatus.USAGE
        from analyzer.cli import commands
        return commands.dispatch(args, out, err)
    except AnalyzerError as exc:
        err.write(f"{PROG}: error: {exc}\n")
        return _status_for(exc)
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        return ExitStatus.OK
    except Exception as exc:  # a bug: one line, the traceback only when asked for
        if os.environ.get("ANALYZER_DEBUG"):
            raise
        stage = failed_stage()
        where = " ".join(x for x in (
            f"in {stage}" if stage else "",
            f"of {_input_of(argv)}" if _input_of(argv) else "") if x)
        msg = " ".join(str(exc).split())[:300]
        err.write(f"{PROG}: internal error{' ' + where if where else ''}: "
                  f"{type(exc).__name__}: {msg} (a bug, not a problem with the file; please "
                  "report it, with ANALYZER_DEBUG=1 set for the traceback)\n")
        return ExitStatus.ERROR


def _input_of(argv: Sequence[str] | None) -> str | None:
    """The capture a command line names (its first argument that is not an option)."""
    args = list(sys.argv[1:] if argv is None else argv)
    rest = [a for a in args[1:] if a == "-" or not a.startswith("-")]
    return rest[0] if rest else None


def run() -> None:
    status = main()
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    sys.exit(int(status))
