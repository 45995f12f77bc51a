"""Opening a capture: a path or a binary file object, gzip-compressed or not.

The readers pull bytes in chunks through :class:`ByteSource`, so a capture of any size is
read with bounded memory, and a gzip file is decompressed as it streams.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from typing import BinaryIO

from analyzer.errors import CaptureError, CorruptCapture, NotACapture

GZIP_MAGIC = b"\x1f\x8b"


class ByteSource:
    """A forward-only reader that knows its position and its file's name.

    ``read(n)`` returns up to ``n`` bytes (fewer only at the end of the data).
    """

    def __init__(self, source: str | os.PathLike[str] | BinaryIO, name: str | None = None):
        self._own = False
        if isinstance(source, str | os.PathLike):
            self.name = os.fspath(source)
            try:
                raw: BinaryIO = open(self.name, "rb")  # noqa: SIM115 - closed in close()
            except FileNotFoundError:
                raise CaptureError("no such file", path=self.name) from None
            except IsADirectoryError:
                raise CaptureError("is a directory, not a capture file", path=self.name) from None
            except PermissionError:
                raise CaptureError("permission denied", path=self.name) from None
            except OSError as exc:
                raise CaptureError(f"cannot open: {exc.strerror}", path=self.name) from None
            self._own = True
        else:
            raw = source
            self.name = name or getattr(source, "name", None) or "<stream>"
            if not isinstance(self.name, str):
                self.name = "<stream>"
        self._raw = raw
        head = self._peek_raw(2)
        self.compressed = head == GZIP_MAGIC
        self._stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if self.compressed else raw
        self.position = 0
        try:
            self.size: int | None = None if self.compressed else os.fstat(raw.fileno()).st_size
        except (AttributeError, OSError, io.UnsupportedOperation):
            self.size = None

    def _peek_raw(self, n: int) -> bytes:
        raw = self._raw
        if hasattr(raw, "peek"):
            try:
                return raw.peek(n)[:n]
            except (OSError, ValueError):
                pass
        try:
            pos = raw.tell()
            data = raw.read(n)
            raw.seek(pos)
            return data
        except (OSError, io.UnsupportedOperation, AttributeError):
            raise CaptureError("cannot read: the file object is not seekable", path=self.name)\
                from None

    def read(self, n: int) -> bytes:
        """Read up to ``n`` bytes; raise :class:`CorruptCapture` on a damaged gzip stream."""
        try:
            data = self._stream.read(n)
        except EOFError:
            # gzip member ends early: a truncated .gz. Whatever was decompressed is gone
            # from this call, so report the end of data; the record walker warns.
            data = b""
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise CorruptCapture(f"damaged gzip data ({exc})", path=self.name,
                                 offset=self.position) from None
        except OSError as exc:
            raise CaptureError(f"read error: {exc}", path=self.name,
                               offset=self.position) from None
        self.position += len(data)
        return data

    def close(self) -> None:
        if self.compressed:
            self._stream.close()
        if self._own:
            self._raw.close()

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe_magic(head: bytes, path: str) -> NotACapture:
    """The error for a file whose first bytes are no capture magic, with a hint of what it is."""
    if not head:
        return NotACapture("empty file, not a capture", path=path, offset=0)
    hint = ""
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        hint = " (looks like JSON)"
    elif stripped[:5].lower() in (b"<?xml", b"<html", b"<!doc"):
        hint = " (looks like XML/HTML)"
    elif head[:4] == b"PK\x03\x04":
        hint = " (looks like a ZIP archive: unpack it first)"
    elif all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        hint = " (looks like text)"
    return NotACapture(
        f"not a pcap or pcapng capture: unknown magic {head[:4].hex()}{hint}",
        path=path, offset=0,
    )
