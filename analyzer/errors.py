"""The exception family and warnings of :mod:`analyzer`.

Every error a user can cause (a bad path, a damaged capture, a wrong option) is an
:class:`AnalyzerError`; the CLI turns it into one line on stderr and an exit code (the one
map from class to code is in :mod:`analyzer.cli`, the codes in ``analyzer.cli.status``).
Anything else escaping is a bug in this package.

``AnalyzerError``
 ├── ``CaptureError``            the file cannot be read as a capture
 │    ├── ``NotACapture``        no pcap/pcapng magic at offset 0
 │    ├── ``UnsupportedLinkType`` a link type we cannot decode
 │    ├── ``CorruptCapture``     a header or block with impossible fields
 │    └── ``TruncatedCapture``   the file ends inside a record (packets before it are salvaged)
 └── ``UsageError``              a bad option or argument value
"""

from __future__ import annotations


class AnalyzerError(Exception):
    """Base class of every error a user can cause."""


class CaptureError(AnalyzerError):
    """A capture file cannot be read.

    ``path`` names the file, ``offset`` the byte offset and ``packet`` the 1-based record
    number where the problem was found (each ``None`` when not applicable).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        offset: int | None = None,
        packet: int | None = None,
    ) -> None:
        self.reason = message
        self.path = path
        self.offset = offset
        self.packet = packet
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.packet is not None:
            where.append(f"packet {self.packet}")
        if self.offset is not None:
            where.append(f"byte offset {self.offset}")
        loc = f" (at {', '.join(where)})" if where else ""
        name = f"{self.path}: " if self.path else ""
        return f"{name}{self.reason}{loc}"


class NotACapture(CaptureError):
    """The file does not start with a pcap or pcapng magic number."""


class UnsupportedLinkType(CaptureError):
    """The capture (or one interface of it) uses a link type we cannot decode."""


class CorruptCapture(CaptureError):
    """A header or block carries impossible fields (bad length, bad magic inside the file)."""


class TruncatedCapture(CaptureError):
    """The file ends in the middle of a record.

    Raised only when nothing could be salvaged; otherwise a :class:`TruncatedCaptureWarning`
    is issued and the packets before the damage are returned.
    """


class UsageError(AnalyzerError):
    """A bad command-line option or API argument."""


class CaptureWarning(UserWarning):
    """Something in the capture was skipped or looked odd, but reading went on."""


class TruncatedCaptureWarning(CaptureWarning):
    """The capture ends in the middle of a record; packets before it were kept."""


class DegenerateDataWarning(UserWarning):
    """A statistic could be computed but is unreliable (too few packets, constant series)."""
