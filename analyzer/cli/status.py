"""Exit statuses of the ``analyzer`` command."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1  # an unexpected internal error (a bug: please report it)
    USAGE = 2  # bad command-line usage
    DETECTED = 3  # degradation found, only with --fail-on-detect
    NOT_A_CAPTURE = 4
    UNSUPPORTED_LINK_TYPE = 5
    CORRUPT_CAPTURE = 6
    TRUNCATED_CAPTURE = 7
    CAPTURE_UNREADABLE = 8  # missing file, permission, read error
    ENGINES_DISAGREE = 9  # 'analyzer verify': the native and tshark engines differ
    INTERRUPTED = 130
