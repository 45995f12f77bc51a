"""Opening a capture: a path or a binary file object, gzip-compressed or not.

The readers pull bytes in chunks through :class:`ByteSource`, so a capture of any size is
read with bounded memory, and a gzip file is decompressed as it streams. A damaged or cut
gzip stream still delivers every byte decompressed before the damage, so the records before
it can be kept. The bytes as stored (before gunzip) are hashed as they come in, for the
provenance of every result (:attr:`ByteSource.sha256`); the file is read once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
import zlib
from typing import BinaryIO

from analyzer.errors import CaptureError, CorruptCapture, NotACapture

GZIP_MAGIC = b"\x1f\x8b"
#: zlib window-bits value that accepts exactly one gzip member (header and trailer checked).
GZIP_WBITS = 16 + zlib.MAX_WBITS
#: Compressed bytes read from the file at a time.
RAW_READ_BYTES = 1 << 16
#: After a decompression error, input is fed again a byte at a time, so at most the
#: output of one input byte is lost before the damage.
SALVAGE_STEP_BYTES = 1
#: Decompressed bytes asked of zlib per call (larger requests are slower, not faster).
OUT_STEP_BYTES = 1 << 20
#: Appended to the file's bytes for :meth:`ByteSource.content_secret` (its first byte is not
#: 0x80, so SHA-256 length extension cannot reach it from the published digest).
CONTENT_SECRET_TAG = b"\x00analyzer content secret/1"


#: Block size of the hashing thread's own reads of a regular file.
HASH_BLOCK_BYTES = 1 << 20


class _Hashed:
    """A binary file object whose reads also feed a SHA-256 and a byte count.

    For a regular file opened by path, the SHA-256 is instead computed by a background
    thread that reads the file by itself in large blocks (hashlib releases the GIL for
    them; the second read comes from the page cache), so the digest - about a third of the
    cost of a fast read - runs on the second core beside the record walk. :attr:`sha` then
    waits for it and covers the whole file, as :meth:`ByteSource.read_to_end` makes it do
    in any case."""

    def __init__(self, raw: BinaryIO, path: str | None = None) -> None:
        self.raw = raw
        self._sha = hashlib.sha256()
        self.count = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._failed = False
        if path is not None:
            self._thread = threading.Thread(target=self._hash_file, args=(path,),
                                            name="analyzer-sha256", daemon=True)
            self._thread.start()

    def _hash_file(self, path: str) -> None:
        try:
            with open(path, "rb", buffering=0) as f:
                block = bytearray(HASH_BLOCK_BYTES)
                view = memoryview(block)
                while not self._stop.is_set() and (n := f.readinto(block)):
                    self._sha.update(view[:n])
        except OSError:
            self._failed = True

    def read(self, n: int) -> bytes:
        data = self.raw.read(n)
        if isinstance(data, bytes | bytearray | memoryview):
            if self._thread is None:
                self._sha.update(data)
            self.count += len(data)
        return data

    @property
    def sha(self) -> hashlib._Hash:
        """The SHA-256 of the bytes read so far (of a regular file: of all its bytes)."""
        if self._thread is not None:
            self._thread.join()
            if self._failed or self._stop.is_set():
                raise CaptureError("read error while hashing the file", path=self.raw.name)
        return self._sha

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._stop.set()
            self._thread.join()


class _Gunzip:
    """Stream-decompress concatenated gzip members, like :mod:`gzip`, but keep the bytes
    decompressed before damage: an error is raised only once they have all been read.
    """

    def __init__(self, raw: BinaryIO | _Hashed, prefix: bytes, name: str) -> None:
        self._raw = raw
        self._name = name
        self._in = prefix  # compressed bytes read but not yet fed
        self._raw_eof = False
        self._raw_pos = 0  # compressed bytes fed to the decompressor so far
        self._d = zlib.decompressobj(GZIP_WBITS)
        self._member_bytes = 0  # compressed bytes fed to the current member
        self._out: list[bytes] = []  # decompressed, not yet read
        self._out_len = 0
        self._produced = 0  # decompressed bytes so far
        self._done = False
        self._error: CaptureError | None = None
        #: True when the compressed data stopped inside a gzip member (a cut .gz file).
        self.ended_early = False

    def _fill_input(self) -> None:
        if not self._in and not self._raw_eof:
            self._in = _read_raw(self._raw, RAW_READ_BYTES, self._name, self._raw_pos)
            self._raw_eof = not self._in

    def _step(self, want: int) -> None:
        """Decompress until ``want`` bytes are buffered, or the end, or an error."""
        self._fill_input()
        if not self._in:  # no compressed data left: take what the decompressor still holds
            with contextlib.suppress(zlib.error):
                self._keep(self._d.flush())
            if self._member_bytes and not self._d.eof:  # the data ends inside a member
                self.ended_early = True
            self._done = True
            return
        data, self._in = self._in, b""
        if not self._member_bytes:  # between members gzip allows zero padding
            stripped = data.lstrip(b"\0")
            self._raw_pos += len(data) - len(stripped)
            data = stripped
            if not data:
                return
        saved = self._d.copy()
        try:
            out = self._d.decompress(data, min(max(want - self._out_len, 1), OUT_STEP_BYTES))
        except zlib.error:
            self._d = saved
            self._salvage(data)
            return
        self._take(out, data, self._d.unconsumed_tail)

    def _take(self, out: bytes, data: bytes, tail: bytes) -> None:
        """Keep ``out``, decompressed from ``data`` with ``tail`` left unused."""
        self._keep(out)
        if self._d.eof:  # end of a member: what follows may be another member
            self._in = self._d.unused_data
            self._raw_pos += len(data) - len(self._in)
            self._d = zlib.decompressobj(GZIP_WBITS)
            self._member_bytes = 0
        else:
            self._in = tail
            used = len(data) - len(tail)
            self._raw_pos += used
            self._member_bytes += used

    def _salvage(self, data: bytes) -> None:
        """After an error, decompress ``data`` again in small steps, keeping what comes before
        the damage (a failed call returns nothing, so one big call would lose it all)."""
        for i in range(0, len(data), SALVAGE_STEP_BYTES):
            piece = data[i: i + SALVAGE_STEP_BYTES]
            try:
                out = self._d.decompress(piece)
            except zlib.error as exc:
                self._error = CorruptCapture(
                    f"damaged gzip data ({exc}) after {self._produced} decompressed bytes",
                    path=self._name, offset=self._raw_pos + i)
                self._done = True
                return
            self._keep(out)
            if self._d.eof:
                self._take(b"", data[: i + len(piece)], b"")
                self._in += data[i + len(piece):]
                return
        self._take(b"", data, b"")  # pragma: no cover - the error did not recur

    def read(self, n: int) -> bytes:
        while self._out_len < n and not self._done:
            self._step(n)
        if not self._out_len and self._error is not None:
            raise self._error
        data = self._out[0] if len(self._out) == 1 else b"".join(self._out)
        if len(data) > n:
            data, rest = data[:n], data[n:]
            self._out, self._out_len = [rest], len(rest)
        else:
            self._out, self._out_len = [], 0
        return data

    def _keep(self, out: bytes) -> None:
        if out:
            self._out.append(out)
            self._out_len += len(out)
            self._produced += len(out)


def _regular(f: BinaryIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _read_raw(raw: BinaryIO | _Hashed, n: int, name: str, offset: int) -> bytes:
    try:
        data = raw.read(n)
    except OSError as exc:
        raise CaptureError(f"read error: {exc}", path=name, offset=offset) from None
    if data is None:  # a non-blocking stream with nothing ready
        return b""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CaptureError("the file object is not opened in binary mode ('rb')", path=name)
    return bytes(data)


class ByteSource:
    """A forward-only reader that knows its position and its file's name.

    ``read(n)`` returns up to ``n`` bytes (fewer only at the end of the data). Any readable
    binary file object works, seekable or not (a pipe, a socket file).

    :attr:`sha256` and :attr:`raw_bytes` describe the bytes as stored (compressed, for a
    gzip file) that came in so far; :meth:`read_to_end` takes in the rest of a file opened
    by path, so that they describe the whole file. For a file object they describe what
    was read from it.
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
                raise CaptureError(f"cannot open: {exc.strerror or exc}", path=self.name) \
                    from None
            self._own = True
        else:
            raw = source
            self.name = name or getattr(source, "name", None) or "<stream>"
            if not isinstance(self.name, str):
                self.name = "<stream>"
        self._raw = raw
        self._hashed = _Hashed(raw, self.name if self._own and _regular(raw) else None)
        try:
            self._open(raw)
        except BaseException:
            self.close()
            raise

    def _open(self, raw: BinaryIO) -> None:
        head = _read_raw(self._hashed, 2, self.name, 0)
        while len(head) < 2:  # short reads from a pipe
            more = _read_raw(self._hashed, 2 - len(head), self.name, len(head))
            if not more:
                break
            head += more
        self.compressed = head == GZIP_MAGIC
        self._gunzip = _Gunzip(self._hashed, head, self.name) if self.compressed else None
        self._prefix = b"" if self.compressed else head
        self.position = 0
        try:
            self.size: int | None = None if self.compressed else os.fstat(raw.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            self.size = None

    @property
    def ended_early(self) -> bool:
        """True when a gzip stream was cut inside a member (the data read is all there is)."""
        return self._gunzip is not None and self._gunzip.ended_early

    def read(self, n: int) -> bytes:
        """Read up to ``n`` bytes; raise :class:`CorruptCapture` on a damaged gzip stream
        (only after every byte before the damage has been returned)."""
        if self._gunzip is not None:
            data = self._gunzip.read(n)
        else:
            data = b""
            if self._prefix:
                data, self._prefix = self._prefix[:n], self._prefix[n:]
            while len(data) < n:
                more = _read_raw(self._hashed, n - len(data), self.name,
                                 self.position + len(data))
                if not more:
                    break
                data += more
        self.position += len(data)
        return data

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the stored bytes read so far (see :meth:`read_to_end`)."""
        return self._hashed.sha.hexdigest()

    @property
    def raw_bytes(self) -> int:
        """Stored bytes read so far (compressed bytes for a gzip file)."""
        return self._hashed.count

    def content_secret(self) -> bytes:
        """SHA-256 of the stored bytes read so far followed by :data:`CONTENT_SECRET_TAG`: a
        value only someone holding the file can compute (not from :attr:`sha256`), e.g. a
        key for pseudonyms that must not be reversible by whoever reads the digest."""
        h = self._hashed.sha.copy()
        h.update(CONTENT_SECRET_TAG)
        return h.digest()

    def read_to_end(self) -> None:
        """Hash the stored bytes the reader never asked for (after damage, or a gzip
        trailer), so that :attr:`sha256` covers the whole file; only for a file opened by
        path (a file object, say stdin, is not drained)."""
        if not self._own:
            return
        while _read_raw(self._hashed, RAW_READ_BYTES, self.name, self._hashed.count):
            pass

    def close(self) -> None:
        self._hashed.close()
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
    if len(head) < 4:
        return NotACapture(f"only {len(head)} bytes long, too short to be a capture", path=path,
                           offset=0)
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
