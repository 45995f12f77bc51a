"""Walking the records of pcap and pcapng files in chunks.

The only per-record loop is the sequential walk over record lengths (each record's offset
depends on the previous one): compiled (``_walk.c``, built at install) or, when that was
not built, in Python with the same results; every field is then gathered with numpy from
the whole chunk at once. A walker yields :class:`RecordBatch` objects and, when the file is damaged,
stops at the damage and leaves the error in :attr:`RecordWalker.damage`, so the caller can
keep the packets before it.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from analyzer.capture.source import ByteSource, describe_magic
from analyzer.errors import CaptureError, CorruptCapture, TruncatedCapture
from analyzer.memory import MMAP_THRESHOLD_BYTES
from analyzer.protocol import (
    NS_PER_S,
    PCAP_GLOBAL_HEADER_LEN,
    PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
    PCAP_RECORD_HEADER_LEN,
    PCAPNG_BYTE_ORDER_MAGIC,
    PCAPNG_EPB,
    PCAPNG_IDB,
    PCAPNG_OPB,
    PCAPNG_SHB,
    PCAPNG_SPB,
)

_compiled: ModuleType | None
try:  # the compiled walk; the Python loops below are the fallback
    import analyzer.capture._walk as _compiled
except ImportError:  # pragma: no cover - depends on the build
    _compiled = None

#: Shortest valid length of each block type we read (header, fixed fields, trailer).
PCAPNG_MIN_BLOCK_LEN = {PCAPNG_IDB: 20, PCAPNG_OPB: 32, PCAPNG_SPB: 16, PCAPNG_EPB: 32}
PCAP_LINKTYPE_MASK = 0xFFFF
#: A record longer than this is treated as corrupt rather than allocated (Wireshark's own
#: limit is 256 KiB for most link types; we allow jumbo/TSO frames with a wide margin).
MAX_RECORD_BYTES = 1 << 20
#: pcapng Custom Block types (copyable, not copyable), kept for who can read them.
PCAPNG_CUSTOM_BLOCKS = (0x00000BAD, 0x40000BAD)
MAX_BLOCK_BYTES = MAX_RECORD_BYTES + 4096
#: Zero bytes appended to every chunk, so a fixed-width header window can be sliced at any
#: packet offset without running off the end.
PAD_BYTES = 256
#: Bytes read at a time: well below glibc's mmap threshold (fixed by the command line,
#: :mod:`analyzer.memory`) with room for a left-over record and the padding, so what is
#: allocated per chunk is reused heap memory (the padded buffers come from a pool, see
#: :class:`_BufferPool`). 2 MiB chunks mapped afresh paid a page fault every 4 KiB, three
#: times each: read 0.69 -> 0.48 s CPU on the 1M-packet benchmark capture.
DEFAULT_CHUNK_BYTES = (1 << 20) - (64 << 10)
assert DEFAULT_CHUNK_BYTES < MMAP_THRESHOLD_BYTES


@dataclass(frozen=True)
class RecordBatch:
    """The records of one chunk, as columns.

    ``buf`` holds the chunk's bytes followed by :data:`PAD_BYTES` zeros; ``data_off`` is the
    offset in ``buf`` of each record's packet data.
    """

    buf: np.ndarray  # uint8
    data_off: np.ndarray  # int64
    caplen: np.ndarray  # int64
    origlen: np.ndarray  # int64
    ts_ns: np.ndarray  # int64, nanoseconds since the Unix epoch
    linktype: np.ndarray  # int32 per record
    first_frame: int  # 1-based number of the first record

    def __len__(self) -> int:
        return int(self.data_off.size)


def _gather_u32(buf: np.ndarray, idx: np.ndarray, big: bool) -> np.ndarray:
    b = [buf[idx + k].astype(np.uint64) for k in range(4)]
    if big:
        b.reverse()
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)).astype(np.int64)


def _gather_u16(buf: np.ndarray, idx: np.ndarray, big: bool) -> np.ndarray:
    lo, hi = buf[idx].astype(np.int64), buf[idx + 1].astype(np.int64)
    return (lo << 8) | hi if big else lo | (hi << 8)


def _wrap_i64(x: int) -> int:
    """``x`` wrapped into the int64 range (a nonsense time stays nonsense, but no error)."""
    return (x + (1 << 63)) % (1 << 64) - (1 << 63)


def _ticks_to_ns(ticks: np.ndarray, units: int) -> np.ndarray:
    """pcapng timestamps of ``units`` ticks a second as int64 ns, exact (rounded down).

    Decimal resolutions are a multiplication or a division; binary ones (``if_tsresol``
    with the top bit set) split whole seconds from the fraction so nothing goes through a
    float. Times beyond the int64 range wrap rather than raise.
    """
    raw = ticks.astype(np.uint64)
    if NS_PER_S % units == 0:
        return (raw * np.uint64(NS_PER_S // units)).astype(np.int64)
    if units % NS_PER_S == 0 and units // NS_PER_S < (1 << 64):
        return (raw // np.uint64(units // NS_PER_S)).astype(np.int64)
    if units < (1 << 34):  # the fraction times 10^9 fits in 64 bits
        u = np.uint64(units)
        sec, frac = raw // u, raw % u
        frac_ns = (frac * np.uint64(NS_PER_S)) // u
        return sec.astype(np.int64) * np.int64(NS_PER_S) + frac_ns.astype(np.int64)
    # resolutions finer than 2^-34 s: rare enough for exact Python integers
    return np.array([t * NS_PER_S // units for t in raw.tolist()], dtype=np.int64)


#: A chunk's bytes: a view of its padded buffer (``bytes`` where built by hand, in tests).
Bytes = bytes | memoryview
Unpack = Callable[[Bytes, int], tuple[int, ...]]


#: Bytes asked of an uncompressed source at a time, copied into the chunk's buffer: below
#: glibc's trim threshold (128 KiB), so the ``bytes`` each read makes reuse heap memory.
READ_PIECE_BYTES = 64 << 10
#: Chunk buffers kept for reuse, and the room they keep for a record left over.
POOL_BUFFERS = 4
POOL_SLACK_BYTES = 64 << 10


class _BufferPool:
    """Chunk buffers, reused once nothing refers to them any more.

    A fresh buffer is paid a page fault every 4 KiB (0.1 s of system time on 160 MB);
    these are kept mapped. A buffer is reused only when the pool holds the sole reference
    to it: every batch, view or column made from a chunk refers to its buffer (numpy views
    keep their base), so a buffer in use is never written again.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._bufs: list[np.ndarray] = []

    def get(self, size: int) -> np.ndarray:
        """A buffer of ``size`` bytes (uninitialised)."""
        if size <= self.size and hasattr(sys, "getrefcount"):
            for b in self._bufs:
                if sys.getrefcount(b) <= 3:  # the list, the loop variable, the argument
                    return b[:size]
            if len(self._bufs) < POOL_BUFFERS:
                self._bufs.append(np.empty(self.size, dtype=np.uint8))
                return self._bufs[-1][:size]
        return np.empty(size, dtype=np.uint8)


def _padded(pending: bytes, chunk: bytes = b"", buf: np.ndarray | None = None
            ) -> tuple[np.ndarray, memoryview]:
    """``pending + chunk`` followed by :data:`PAD_BYTES` zeros, in one copy (into ``buf``
    when given, which is large enough); and a byte view of the data without the padding
    (what the walk reads)."""
    p, n = len(pending), len(pending) + len(chunk)
    arr = np.empty(n + PAD_BYTES, dtype=np.uint8) if buf is None else buf[: n + PAD_BYTES]
    if p:
        arr[:p] = np.frombuffer(pending, dtype=np.uint8)
    arr[p:n] = np.frombuffer(chunk, dtype=np.uint8)
    arr[n:] = 0
    return arr, arr.data[:n]


def _walk_pcap_python(data: Bytes, u32: Unpack) -> tuple[np.ndarray, int]:
    """The Python walk: the loop body is kept to the minimum."""
    offs = array("q")
    append = offs.append
    pos, end = 0, len(data) - PCAP_RECORD_HEADER_LEN
    try:
        while pos <= end:
            append(pos)
            pos += PCAP_RECORD_HEADER_LEN + u32(data, pos + 8)[0]
    except struct.error:  # pragma: no cover - guarded by ``end``
        pass
    return np.frombuffer(offs, dtype=np.int64), pos


def _walk_pcap(data: Bytes, u32: Unpack, big: bool) -> tuple[np.ndarray, int, bool]:
    """Offsets of the whole records in ``data``; the offset where the walk stopped; and
    whether it stopped at a record whose length is impossible (corruption)."""
    if _compiled is not None:
        out = np.empty(len(data) // PCAP_RECORD_HEADER_LEN + 1, dtype=np.int64)
        count, pos = _compiled.pcap_offsets(data, big, out)
        starts = out[:count]
    else:
        starts, pos = _walk_pcap_python(data, u32)
    # Checks after the walk: the last record may be incomplete, or a length impossible.
    if not starts.size:
        return starts, pos, False
    lens = np.diff(starts, append=pos) - PCAP_RECORD_HEADER_LEN
    over = np.flatnonzero(lens > MAX_RECORD_BYTES)
    if over.size:
        return starts[: int(over[0])], int(starts[over[0]]), True
    if pos > len(data):  # the last record runs past the chunk: keep it for later
        return starts[:-1], int(starts[-1]), False
    return starts, pos, False


@dataclass
class _PcapngSection:
    """The pcapng section being read: its byte order and interfaces so far."""

    big: bool = False
    #: (linktype, snaplen, units_per_s, offset_s) of each interface, in block order
    ifaces: list[tuple[int, int, int, int]] = field(default_factory=list)
    seen: bool = False  # a section header was read

    def start(self, big: bool) -> None:
        self.big, self.ifaces, self.seen = big, [], True


#: Records in a row with zero lengths after which reading stops (a zero-filled file or a
#: decompression bomb): no capture holds 100 000 empty records in a row.
MAX_EMPTY_RECORDS = 100_000


class RecordWalker:
    """Iterate over the record batches of a pcap or pcapng :class:`ByteSource`.

    After iteration, :attr:`damage` holds the :class:`CaptureError` that stopped the walk
    early (truncation or corruption), or ``None`` when the file was read to its end;
    :attr:`records` counts the records yielded and :attr:`fmt` names the format.
    """

    def __init__(self, src: ByteSource, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 max_empty_records: int = MAX_EMPTY_RECORDS) -> None:
        self.src = src
        self.chunk_bytes = max(int(chunk_bytes), 4096)
        self.max_empty_records = max(1, int(max_empty_records))
        self._empty_run = 0
        #: Why the walk stopped before the end of the file without damage (a bound).
        self.stopped: str | None = None
        self.damage: CaptureError | None = None
        self.records = 0
        self.skipped_blocks = 0
        #: pcapng Custom Blocks (whole, with their section's big-endian flag), e.g.
        #: PCAPdroid's UID map (:mod:`analyzer.capture.pcapdroid`)
        self.custom_blocks: list[tuple[bytes, bool]] = []
        self.interfaces: list[tuple[int, int]] = []  # (linktype, snaplen), over all sections
        self._pool = _BufferPool(self.chunk_bytes + PAD_BYTES + POOL_SLACK_BYTES)
        head = src.read(4)
        if len(head) < 4 and src.ended_early:
            raise TruncatedCapture("the gzip-compressed data ends before the capture header",
                                   path=src.name, offset=len(head))
        if len(head) < 4:
            raise describe_magic(head, src.name)
        self._head = head
        le = struct.unpack("<I", head)[0]
        if le in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            self.fmt, self._big = "pcap", False
        elif struct.unpack(">I", head)[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            self.fmt, self._big = "pcap", True
        elif le == PCAPNG_SHB:
            self.fmt, self._big = "pcapng", False
        else:
            raise describe_magic(head + src.read(60), src.name)

    # -- shared -------------------------------------------------------------------------
    def _fail(self, cls: type[CaptureError], msg: str, offset: int, before: int = 0) -> None:
        """Record damage found after ``before`` packets not yet counted in :attr:`records`."""
        self.damage = cls(msg, path=self.src.name, offset=offset,
                          packet=self.records + before + 1)

    def _read_chunk(self, n: int | None = None) -> bytes | None:
        """The next chunk (``n`` bytes, or the chunk size); ``None`` after recording the
        source's damage (a bad gzip stream) so the records before it are kept."""
        try:
            return self.src.read(self.chunk_bytes if n is None else n)
        except CaptureError as exc:
            self.damage = type(exc)(exc.reason, path=exc.path, offset=exc.offset,
                                    packet=self.records + 1)
            return None

    def _check_complete(self, file_off: int) -> None:
        """At the end of the data: a gzip stream cut between two records is truncation too."""
        if self.src.ended_early:
            self._fail(TruncatedCapture, "the gzip-compressed data ends early (the .gz file is "
                       "cut short)", file_off)

    def _next_data(self, pending: bytes, file_off: int
                   ) -> tuple[np.ndarray, memoryview, bool] | None:
        """The bytes left from the last chunk plus the next chunk (padded, and as a view
        without the padding), and whether the file ended; ``None`` when there is nothing
        more to read (damage or a clean end)."""
        p = len(pending)
        out = self._pool.get(p + self.chunk_bytes + PAD_BYTES)
        if self.src.compressed:  # the decompressor hands out whole chunks best
            chunk = self._read_chunk()
            if chunk is None:
                return None
            got = len(chunk)
            _padded(pending, chunk, out)
        else:  # pieces copied into the buffer (see READ_PIECE_BYTES)
            if p:
                out[:p] = np.frombuffer(pending, dtype=np.uint8)
            got = 0
            while got < self.chunk_bytes:
                ask = min(READ_PIECE_BYTES, self.chunk_bytes - got)
                piece = self._read_chunk(ask)
                if piece is None:
                    return None
                out[p + got: p + got + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
                got += len(piece)
                if len(piece) < ask:  # the end of the data (reads are short only there)
                    break
        n = p + got
        if not n:
            self._check_complete(file_off)
            return None
        buf = out[: n + PAD_BYTES]
        buf[n:] = 0
        return buf, buf.data[:n], got == 0

    def _left_over(self, pending: bytes, file_off: int, what: str) -> bool:
        """At the end of the file: bytes that do not make a whole record are truncation."""
        if pending:
            self._fail(TruncatedCapture, f"capture ends in the middle of a {what} "
                       f"({len(pending)} bytes left over)", file_off)
        return bool(pending)

    def __iter__(self) -> Iterator[RecordBatch]:
        if self.fmt == "pcap":
            yield from self._iter_pcap()
        else:
            yield from self._iter_pcapng()

    # -- pcap ---------------------------------------------------------------------------
    def _iter_pcap(self) -> Iterator[RecordBatch]:
        rest = self.src.read(PCAP_GLOBAL_HEADER_LEN - 4)
        if len(rest) < PCAP_GLOBAL_HEADER_LEN - 4:
            raise TruncatedCapture("pcap global header is cut short", path=self.src.name,
                                   offset=len(rest) + 4)
        hdr = self._head + rest
        e = ">" if self._big else "<"
        magic, _vmaj, _vmin, _tz, _sig, snaplen, network = struct.unpack(e + "IHHiIII", hdr)
        nanos = magic == PCAP_MAGIC_NS
        # The link type is the low 16 bits; the high bits may carry the FCS length and its
        # "present" flag (0x04000000), as in libpcap's LT_LINKTYPE().
        linktype = network & PCAP_LINKTYPE_MASK
        self.interfaces.append((linktype, snaplen))
        u32 = struct.Struct(e + "I").unpack_from
        pending = b""
        file_off = PCAP_GLOBAL_HEADER_LEN  # file offset of pending[0]
        eof = False
        while not eof:
            step = self._next_data(pending, file_off)
            if step is None:
                return
            buf, data, eof = step
            offs, pos, bad = _walk_pcap(data, u32, self._big)
            if offs.size:
                batch = self._pcap_batch(buf, offs, nanos, linktype)
                yield batch
                if self._too_many_empty(batch, file_off + pos):
                    return
            if bad:
                self._fail(CorruptCapture,
                           f"record claims {u32(data, pos + 8)[0]} captured bytes, more than "
                           f"any packet can hold", file_off + pos)
                return
            pending = bytes(data[pos:])
            file_off += pos
            if eof and self._left_over(pending, file_off, "packet record"):
                return

    def _too_many_empty(self, batch: RecordBatch, file_off: int) -> bool:
        """Count records that hold nothing (zero lengths, as a zero-filled file or a
        decompression bomb gives); after :data:`MAX_EMPTY_RECORDS` in a row, stop with a
        warning naming the bound: the records before are kept."""
        empty = (batch.caplen == 0) & (batch.origlen == 0)
        if empty.all():
            self._empty_run += int(empty.size)
        else:
            last = np.flatnonzero(~empty)[-1]
            self._empty_run = int(empty.size - 1 - last)
        if self._empty_run < self.max_empty_records:
            return False
        self.stopped = (f"limit max_empty_records={self.max_empty_records} reached: stopped "
                        f"reading after {self._empty_run} empty records in a row (zero "
                        f"lengths; at byte {file_off} of the decompressed data): a "
                        "zero-filled file or a decompression bomb; the records before are kept")
        return True

    def _pcap_batch(self, buf: np.ndarray, o: np.ndarray, nanos: bool, linktype: int
                    ) -> RecordBatch:
        if _compiled is not None and hasattr(_compiled, "pcap_fields"):
            ts, caplen, origlen = (np.empty(o.size, dtype=np.int64) for _ in range(3))
            _compiled.pcap_fields(buf, o, self._big, nanos, ts, caplen, origlen)
        else:
            hdr = np.lib.stride_tricks.sliding_window_view(buf, PCAP_RECORD_HEADER_LEN)[o]
            f = hdr.view(">u4" if self._big else "<u4").astype(np.int64)
            sec, frac, caplen, origlen = f[:, 0], f[:, 1], f[:, 2], f[:, 3]
            ts = sec * 1_000_000_000 + (frac if nanos else frac * 1000)
        batch = RecordBatch(buf=buf, data_off=o + PCAP_RECORD_HEADER_LEN, caplen=caplen,
                            origlen=origlen, ts_ns=ts,
                            linktype=np.full(o.size, linktype, dtype=np.int32),
                            first_frame=self.records + 1)
        self.records += o.size
        return batch

    # -- pcapng -------------------------------------------------------------------------
    def _iter_pcapng(self) -> Iterator[RecordBatch]:
        """Chunk by chunk: walk the chunk's complete blocks, carry the incomplete tail."""
        pending = self._head
        file_off = 0
        eof = False
        section = _PcapngSection()
        while not eof:
            step = self._next_data(pending, file_off)
            if step is None:
                return
            buf, data, eof = step
            pos, stop = yield from self._walk_pcapng_blocks(buf, data, file_off, section)
            if stop or self.damage is not None:
                return
            pending = bytes(data[pos:])
            file_off += pos
            if eof and self._left_over(pending, file_off, "pcapng block"):
                return

    def _walk_pcapng_blocks(self, buf: np.ndarray, data: Bytes, file_off: int,
                            section: _PcapngSection
                            ) -> Generator[RecordBatch, None, tuple[int, bool]]:
        """Walk the complete blocks of one chunk (at ``file_off`` in the file), yielding its
        packets as a batch per section. Returns where the walk stopped and whether damage
        ends the file.

        Interfaces are numbered per section in the order their blocks appear; a packet may
        only use those defined before it. ``marks`` notes (packets so far, interfaces
        defined) at each interface block of the chunk, so this holds whatever the chunking.
        """
        n = len(data)
        pos = 0
        offs = array("q")
        types = array("q")
        n_if0 = len(section.ifaces)
        marks: list[tuple[int, int]] = []
        hdr2 = struct.Struct(">II" if section.big else "<II").unpack_from
        stop = False
        if _compiled is not None:
            run_offs = np.empty(n // 12 + 1, dtype=np.int64)
            run_types = np.empty(n // 12 + 1, dtype=np.int64)
        while pos + 12 <= n:
            if _compiled is not None and section.seen:  # a run of packet blocks, compiled
                count, pos = _compiled.pcapng_packets(data, pos, section.big, MAX_BLOCK_BYTES,
                                                      run_offs, run_types)
                if count:
                    offs.frombytes(run_offs[:count].tobytes())
                    types.frombytes(run_types[:count].tobytes())
                if pos + 12 > n:
                    break
            btype, blen = hdr2(data, pos)
            if btype == PCAPNG_SHB:
                shb = self._section_header(data, pos)
                if isinstance(shb, str):
                    self._fail(CorruptCapture, shb, file_off + pos, before=len(offs))
                    stop = True
                    break
                big, blen = shb
                if pos + blen > n:
                    break
                if offs:  # flush packets of the previous section first
                    yield self._pcapng_batch(buf, offs, types, section.big, section.ifaces,
                                             n_if0, marks)
                    offs, types = array("q"), array("q")
                    if self.damage is not None:
                        return pos, True
                section.start(big)
                hdr2 = struct.Struct(">II" if big else "<II").unpack_from
                n_if0, marks = 0, []
                pos += blen
                continue
            problem = self._block_problem(btype, blen, section.seen)
            if problem is not None:
                self._fail(CorruptCapture, problem, file_off + pos, before=len(offs))
                stop = True
                break
            if pos + blen > n:
                break
            if btype in (PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB):
                offs.append(pos)
                types.append(btype)
            elif btype == PCAPNG_IDB:
                section.ifaces.append(self._parse_idb(data, pos, blen, section.big))
                marks.append((len(offs), len(section.ifaces)))
            else:
                self.skipped_blocks += 1
                if btype in PCAPNG_CUSTOM_BLOCKS:
                    self.custom_blocks.append((bytes(data[pos: pos + blen]), section.big))
            pos += blen
        if offs:
            yield self._pcapng_batch(buf, offs, types, section.big, section.ifaces, n_if0,
                                     marks)
        return pos, stop

    @staticmethod
    def _section_header(data: Bytes, pos: int) -> tuple[bool, int] | str:
        """Byte order (big-endian?) and length of the section header block at ``pos``, or
        what is wrong with it."""
        bom = struct.unpack_from("<I", data, pos + 8)[0]
        if bom == PCAPNG_BYTE_ORDER_MAGIC:
            big = False
        elif bom == 0x4D3C2B1A:
            big = True
        else:
            return "pcapng section header with a bad byte-order magic"
        blen = struct.unpack_from(">I" if big else "<I", data, pos + 4)[0]
        if blen < 28 or blen % 4 or blen > MAX_BLOCK_BYTES:
            return f"pcapng section header has an impossible length {blen}"
        return big, blen

    @staticmethod
    def _block_problem(btype: int, blen: int, after_shb: bool) -> str | None:
        """What is wrong with a (non-section-header) block's header, if anything."""
        if not after_shb:
            return "pcapng file does not start with a section header"
        if blen < 12 or blen % 4 or blen > MAX_BLOCK_BYTES:
            return f"pcapng block of type {btype:#x} has an impossible length {blen}"
        if blen < PCAPNG_MIN_BLOCK_LEN.get(btype, 12):
            return (f"pcapng block of type {btype:#x} is too short ({blen} bytes) for its "
                    "fixed fields")
        return None

    def _parse_idb(self, data: Bytes, pos: int, blen: int, big: bool
                   ) -> tuple[int, int, int, int]:
        e = ">" if big else "<"
        linktype, _res, snaplen = struct.unpack_from(e + "HHI", data, pos + 8)
        units, offset_s = 1_000_000, 0
        p, end = pos + 16, pos + blen - 4
        while p + 4 <= end:
            code, olen = struct.unpack_from(e + "HH", data, p)
            if code == 0:
                break
            val = data[p + 4: p + 4 + olen]
            if code == 9 and olen >= 1:
                r = val[0]
                units = 2 ** (r & 0x7F) if r & 0x80 else 10 ** r
            elif code == 14 and olen >= 8:
                offset_s = struct.unpack(e + "q", val[:8])[0]
            p += 4 + ((olen + 3) & ~3)
        self.interfaces.append((linktype, snaplen))
        return (linktype, snaplen, units, offset_s)

    def _pcapng_batch(self, buf: np.ndarray, offs: array, types: array, big: bool,
                      ifaces: list[tuple[int, int, int, int]], n_if0: int,
                      marks: list[tuple[int, int]]) -> RecordBatch:
        o = np.frombuffer(offs, dtype=np.int64)
        t = np.frombuffer(types, dtype=np.int64)
        is_epb, is_opb, is_spb = t == PCAPNG_EPB, t == PCAPNG_OPB, t == PCAPNG_SPB
        if _compiled is not None and hasattr(_compiled, "pcapng_fields"):
            blen, iface, ts_i, caplen, origlen, data_off = (
                np.empty(o.size, dtype=np.int64) for _ in range(6))
            _compiled.pcapng_fields(buf, o, t, big, blen, iface, ts_i, caplen, origlen,
                                    data_off)
            ts_raw = ts_i.view(np.uint64)
        else:
            blen = _gather_u32(buf, o + 4, big)
            iface = np.where(is_epb, _gather_u32(buf, o + 8, big), 0)
            iface = np.where(is_opb, _gather_u16(buf, o + 8, big), iface)
            ts_raw = (_gather_u32(buf, o + 12, big).astype(np.uint64) << np.uint64(32)) | \
                _gather_u32(buf, o + 16, big).astype(np.uint64)
            caplen = np.where(is_spb, 0, _gather_u32(buf, o + 20, big))
            origlen = np.where(is_spb, _gather_u32(buf, o + 8, big),
                               _gather_u32(buf, o + 24, big))
            data_off = np.where(is_spb, o + 12, o + 28)
        room = o + blen - 4 - data_off
        n_if = len(ifaces)
        defined = np.full(o.size, n_if0, dtype=np.int64)  # interfaces defined before each
        for first, count in marks:
            defined[first:] = count
        known = iface < defined
        if not known.all():
            bad = int(np.argmin(known))
            self.damage = CorruptCapture(
                f"packet refers to interface {int(iface[bad])}, but only {int(defined[bad])} "
                "defined before it",
                path=self.src.name, offset=None, packet=self.records + bad + 1)
            keep = int(bad)
            o, t, iface, ts_raw = o[:keep], t[:keep], iface[:keep], ts_raw[:keep]
            caplen, origlen, data_off, room = (caplen[:keep], origlen[:keep], data_off[:keep],
                                               room[:keep])
            is_spb = is_spb[:keep]
        iface_i = np.clip(iface, 0, max(n_if - 1, 0))
        lt = np.array([f[0] for f in ifaces] or [-1], dtype=np.int32)
        snap = np.array([f[1] or MAX_RECORD_BYTES for f in ifaces] or [0], dtype=np.int64)
        if is_spb.any():
            spb_cap = np.minimum(np.minimum(origlen, snap[iface_i]), room)
            caplen = np.where(is_spb, spb_cap, caplen)
        over = caplen > room
        if over.any():
            bad = int(np.argmax(over))
            self.damage = CorruptCapture(
                f"packet block claims {int(caplen[bad])} captured bytes but holds "
                f"{int(room[bad])}", path=self.src.name, packet=self.records + bad + 1)
            keep = bad
            iface_i, ts_raw, caplen, origlen, data_off, is_spb = (
                iface_i[:keep], ts_raw[:keep], caplen[:keep], origlen[:keep], data_off[:keep],
                is_spb[:keep])
        ts_ns = np.empty(iface_i.size, dtype=np.int64)
        for k in range(n_if):
            sel = iface_i == k
            if not sel.any():
                continue
            _lt, _snap, units, offset_s = ifaces[k]
            offset_ns = np.int64(_wrap_i64(offset_s * NS_PER_S))
            ts_ns[sel] = _ticks_to_ns(ts_raw[sel], units) + offset_ns
        if is_spb.any():  # simple packet blocks carry no time: reuse the previous packet's
            idx = np.where(~is_spb, np.arange(is_spb.size), 0)
            np.maximum.accumulate(idx, out=idx)
            ts_ns = np.where(is_spb, ts_ns[idx], ts_ns)
            if is_spb[0]:
                ts_ns[: int(np.argmin(is_spb)) if not is_spb.all() else None] = 0
        batch = RecordBatch(buf=buf, data_off=data_off, caplen=caplen, origlen=origlen,
                            ts_ns=ts_ns, linktype=lt[iface_i], first_frame=self.records + 1)
        self.records += int(data_off.size)
        return batch
