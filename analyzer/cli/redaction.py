"""``--redact``: the command-line side of :mod:`analyzer.redact`."""

from __future__ import annotations

import argparse

from analyzer.errors import UsageError
from analyzer.redact import Pseudonymizer, default_key
from analyzer.streams.capture import Capture


def add_redact_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redact", action="store_true",
        help="replace the IP addresses of people (private and public endpoints) by stable "
        "pseudonyms (host-…, peer-…); messenger relay networks (Telegram, Meta, Google) are "
        "kept, they are the evidence. The key comes from the capture's content unless "
        "--redact-key is given")
    parser.add_argument(
        "--redact-key", metavar="KEY",
        help="secret key for the pseudonyms (implies --redact); the same key gives the same "
        "pseudonyms across captures")


def pseudonymizer_for(args: argparse.Namespace, cap: Capture) -> Pseudonymizer | None:
    """The pseudonymizer the command line asks for, or ``None`` without redaction."""
    key = getattr(args, "redact_key", None)
    if key is not None:
        if not key:
            raise UsageError("--redact-key must not be empty")
        return Pseudonymizer(key)
    if not getattr(args, "redact", False):
        return None
    if not cap.content_secret:
        raise UsageError(f"{cap.path}: no content secret to key --redact from: give "
                         "--redact-key")
    return Pseudonymizer(default_key(cap.content_secret))


def wants_redaction(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "redact", False) or getattr(args, "redact_key", None) is not None)
