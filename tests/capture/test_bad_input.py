"""Bad input: each case raises the right :class:`CaptureError` (or warns and keeps the
packets before the damage), names the file and the place, stays within bounded memory and
returns at once."""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import analyzer
from analyzer.capture.reader import read_packets
from analyzer.capture.records import RecordWalker
from analyzer.capture.source import ByteSource
from analyzer.capture.table import PacketTable
from analyzer.errors import (
    CaptureError,
    CaptureWarning,
    CorruptCapture,
    NotACapture,
    TruncatedCapture,
    TruncatedCaptureWarning,
    UnsupportedLinkType,
)
from tests.support.craft import (
    EPB_TYPE,
    IDB_TYPE,
    LINKTYPE_ETHERNET,
    LINKTYPE_USER0,
    Rec,
    block,
    epb,
    frame,
    gz,
    idb,
    pcap_bytes,
    pcapng_bytes,
    shb,
    udp4,
)

T0 = 1_700_000_000_000_000_000
#: Peak Python/numpy allocation allowed while rejecting a tiny damaged file.
MEMORY_LIMIT_BYTES = 8 << 20
TIME_LIMIT_S = 2.0
NAME = "damaged.pcap"


def recs(n: int = 3) -> list[Rec]:
    return [Rec(T0 + i * 1000, frame(LINKTYPE_ETHERNET, udp4(5000 + i, 6000, b"x" * 20)))
            for i in range(n)]


PCAP = pcap_bytes(recs())
PCAP_REC = 16 + len(recs()[0].data)  # bytes of one record
PCAPNG = pcapng_bytes(recs())
NG_HEAD = len(shb()) + len(idb(LINKTYPE_ETHERNET, tsresol=9))  # offset of the first EPB
NG_REC = (len(PCAPNG) - NG_HEAD) // 3


def patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def read_guarded(data: bytes) -> PacketTable:
    """Read ``data`` checking it takes little time and memory, whatever the outcome."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        return read_packets(io.BytesIO(data), name=NAME)
    finally:
        elapsed = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < TIME_LIMIT_S
        assert peak < MEMORY_LIMIT_BYTES, f"peak {peak} bytes"


def _zip() -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("call.pcap", PCAP)
    return b.getvalue()


# (id, data, exception class, fragments the message must contain)
RAISES: list[tuple[str, bytes, type[CaptureError], tuple[str, ...]]] = [
    ("empty", b"", NotACapture, ("empty file",)),
    ("three-bytes", PCAP[:3], NotACapture, ("too short",)),
    ("text", b"this is not a capture\nat all\n", NotACapture, ("looks like text", "offset 0")),
    ("json", json.dumps({"streams": []}).encode(), NotACapture, ("looks like JSON",)),
    ("xml", b"<?xml version='1.0'?><pdml/>", NotACapture, ("XML",)),
    ("zip", _zip(), NotACapture, ("ZIP",)),
    ("pcap-header-cut", PCAP[:17], TruncatedCapture, ("global header", "offset 17")),
    ("first-record-header-cut", PCAP[:24 + 9], TruncatedCapture, ("packet 1", "offset 24")),
    ("first-record-body-cut", PCAP[:24 + 40], TruncatedCapture, ("packet 1", "offset 24")),
    ("first-caplen-huge", patched(PCAP, 24 + 8, "<I", 0xFFFFFFF0), CorruptCapture,
     ("4294967280", "packet 1", "offset 24")),
    ("first-caplen-2MiB", patched(PCAP, 24 + 8, "<I", 2 << 20), CorruptCapture,
     ("packet 1", "offset 24")),
    ("pcapng-epb-length-odd", patched(PCAPNG, NG_HEAD + 4, "<I", 70), CorruptCapture,
     ("impossible length 70", "packet 1", f"offset {NG_HEAD}")),
    ("pcapng-epb-length-8", patched(PCAPNG, NG_HEAD + 4, "<I", 8), CorruptCapture,
     ("impossible length 8", f"offset {NG_HEAD}")),
    ("pcapng-epb-length-huge", patched(PCAPNG, NG_HEAD + 4, "<I", 0xFFFFFFF0), CorruptCapture,
     ("impossible length", f"offset {NG_HEAD}")),
    ("pcapng-epb-length-short", patched(PCAPNG, NG_HEAD + 4, "<I", 20), CorruptCapture,
     ("too short", f"offset {NG_HEAD}")),
    ("pcapng-shb-length-huge", patched(PCAPNG, 4, "<I", 0xFFFFFFF0), CorruptCapture,
     ("section header", "offset 0")),
    ("pcapng-bad-byte-order-magic", patched(PCAPNG, 8, "<I", 0x12345678), CorruptCapture,
     ("byte-order magic", "offset 0")),
    ("pcapng-idb-too-short", shb() + block(IDB_TYPE, b"\0" * 4) + PCAPNG[NG_HEAD:],
     CorruptCapture, ("too short",)),
    ("pcapng-epb-undefined-interface", shb() + idb(LINKTYPE_ETHERNET)
     + epb(2, 0, recs()[0].data), CorruptCapture, ("interface 2", "packet 1")),
    ("pcapng-epb-before-any-interface", shb() + epb(0, 0, recs()[0].data), CorruptCapture,
     ("interface 0", "packet 1")),
    ("pcapng-epb-caplen-beyond-block", shb() + idb(LINKTYPE_ETHERNET)
     + block(EPB_TYPE, struct.pack("<IIIII", 0, 0, 0, 0xFFFFFF00, 100) + bytes(100)),
     CorruptCapture, ("4294967040", "packet 1")),
    ("pcapng-cut-in-first-block", PCAPNG[:NG_HEAD + 30], TruncatedCapture,
     ("middle of a pcapng block", f"offset {NG_HEAD}")),
    ("pcapng-cut-in-section-header", PCAPNG[:20], TruncatedCapture, ("offset 0",)),
    ("unsupported-link-type", pcap_bytes(recs(), linktype=LINKTYPE_USER0), UnsupportedLinkType,
     ("link type 147",)),
    ("unsupported-link-type-pcapng", shb() + idb(LINKTYPE_USER0) + epb(0, 0, b"abc"),
     UnsupportedLinkType, ("link type 147",)),
    # deflate data starting with the reserved block type 3
    ("gzip-damaged-at-start", gz(PCAP)[:10] + b"\x07" + gz(PCAP)[11:], CorruptCapture,
     ("damaged gzip", "invalid block type")),
    ("gzip-bad-method", b"\x1f\x8b\x07" + bytes(30), CorruptCapture, ("gzip",)),
    ("gzip-cut-in-header", gz(PCAP)[:6], TruncatedCapture, ("gzip", "ends")),
    ("gzip-of-text", gz(b"hello, world\n" * 10), NotACapture, ("looks like text",)),
]


@pytest.mark.parametrize(("data", "cls", "fragments"), [c[1:] for c in RAISES],
                         ids=[c[0] for c in RAISES])
def test_raises(data: bytes, cls: type[CaptureError], fragments: tuple[str, ...]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about when nothing is read
        with pytest.raises(cls) as info:
            read_guarded(data)
    msg = str(info.value)
    assert msg.startswith(f"{NAME}: ")
    assert info.value.path == NAME
    for f in fragments:
        assert f in msg
    assert "\n" not in msg


# (id, data, warning class, rows kept, fragments of the warning)
SALVAGED: list[tuple[str, bytes, type[Warning], int, tuple[str, ...]]] = [
    ("record-header-cut", PCAP[:24 + 2 * PCAP_REC + 7], TruncatedCaptureWarning, 2,
     ("packet 3", f"offset {24 + 2 * PCAP_REC}", "kept the 2")),
    ("record-body-cut", PCAP[:24 + 2 * PCAP_REC + 16 + 30], TruncatedCaptureWarning, 2,
     ("packet 3", f"offset {24 + 2 * PCAP_REC}")),
    ("caplen-huge", patched(PCAP, 24 + 2 * PCAP_REC + 8, "<I", 0xFFFFFFF0), CaptureWarning, 2,
     ("packet 3", "4294967280")),
    ("pcapng-length-odd", patched(PCAPNG, NG_HEAD + NG_REC + 4, "<I", 70), CaptureWarning, 1,
     ("packet 2", f"offset {NG_HEAD + NG_REC}")),
    ("pcapng-length-huge", patched(PCAPNG, NG_HEAD + NG_REC + 4, "<I", 0x7FFFFFFC),
     CaptureWarning, 1, ("packet 2",)),
    ("pcapng-cut", PCAPNG[:-5], TruncatedCaptureWarning, 2, ("packet 3",)),
    ("pcapng-undefined-interface", PCAPNG[:NG_HEAD + NG_REC] + epb(7, 0, recs()[0].data)
     + PCAPNG[NG_HEAD + NG_REC:], CaptureWarning, 1, ("interface 7", "packet 2")),
    ("gzip-cut-mid-record", gz(PCAP)[:-12], TruncatedCaptureWarning, 2, ("packet 3",)),
    ("gzip-cut-at-record-end", gz(PCAP + PCAP[24:])[:-8], TruncatedCaptureWarning, 6,
     ("gzip",)),
    ("gzip-crc-wrong", gz(PCAP)[:-8] + b"\0\0\0\0" + gz(PCAP)[-4:], CaptureWarning, 3,
     ("gzip", "incorrect data check")),
    ("gzip-trailing-garbage", gz(PCAP) + b"garbage!", CaptureWarning, 3, ("gzip",)),
]


@pytest.mark.parametrize(("data", "cls", "rows", "fragments"), [c[1:] for c in SALVAGED],
                         ids=[c[0] for c in SALVAGED])
def test_salvages_packets_before_damage(data: bytes, cls: type[Warning], rows: int,
                                        fragments: tuple[str, ...],
                                        strict_warnings: list[warnings.WarningMessage]) -> None:
    t = read_guarded(data)
    assert len(t) == rows
    assert [w.category for w in strict_warnings] == [cls]
    msg = str(strict_warnings[0].message)
    assert msg.startswith(f"{NAME}: ")
    for f in fragments:
        assert f in msg
    assert t.warnings == (msg,)
    assert t.frame.tolist() == list(range(1, rows + 1))


def test_mixed_supported_and_unsupported_interfaces(
        strict_warnings: list[warnings.WarningMessage]) -> None:
    good = recs()
    data = (shb() + idb(LINKTYPE_USER0) + idb(LINKTYPE_ETHERNET)
            + epb(0, 0, b"user data") + epb(1, 1, good[0].data)
            + epb(0, 2, b"more") + epb(1, 3, good[1].data))
    t = read_guarded(data)
    assert len(t) == 2 and t.frame.tolist() == [2, 4]
    assert t.counters.unsupported_linktype == 2
    assert t.linktypes == (LINKTYPE_ETHERNET, LINKTYPE_USER0)
    (w,) = strict_warnings
    assert w.category is CaptureWarning
    assert str(w.message).startswith(f"{NAME}: ") and "147" in str(w.message)


def test_pcap_truncated_exactly_at_record_boundary_is_complete(
        strict_warnings: list[warnings.WarningMessage]) -> None:
    assert len(read_guarded(PCAP[:24 + PCAP_REC])) == 1
    assert strict_warnings == []


def test_pcap_header_only_is_an_empty_capture() -> None:
    t = read_guarded(PCAP[:24])
    assert len(t) == 0 and t.records == 0


def test_caplen_huge_does_not_allocate() -> None:
    # 0xFFFFFFF0 bytes claimed, in a file of a few hundred bytes: rejected, never allocated
    data = patched(PCAP, 24 + 8, "<I", 0xFFFFFFF0) + bytes(1000)
    with pytest.raises(CorruptCapture):
        read_guarded(data)


def test_big_claimed_record_in_a_short_file_is_truncation() -> None:
    # a length under the corruption limit but beyond the end of the file
    data = patched(PCAP, 24 + 8, "<I", 900_000)
    with pytest.raises(TruncatedCapture, match="packet 1"):
        read_guarded(data)


# -- paths and file objects -----------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.pcap"
    with pytest.raises(CaptureError, match="no such file") as info:
        read_packets(path)
    assert type(info.value) is CaptureError
    assert str(path) in str(info.value)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="directory") as info:
        read_packets(tmp_path)
    assert type(info.value) is CaptureError
    assert str(tmp_path) in str(info.value)


def test_path_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes(PCAP[:30])
    with pytest.raises(TruncatedCapture) as info:
        read_packets(str(path))
    assert str(info.value).startswith(f"{path}: ")


def test_text_mode_file_object(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes(b"abcdefgh")
    with open(path) as f, pytest.raises(CaptureError, match="binary mode"):
        read_packets(f)  # type: ignore[arg-type]


class _Pipe(io.RawIOBase):
    """A readable, non-seekable stream that returns at most 7 bytes a call."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = min(len(b), 7, len(self._data))
        b[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_non_seekable_stream(compress: bool) -> None:
    data = gz(PCAPNG) if compress else PCAPNG
    t = read_packets(_Pipe(data))  # type: ignore[arg-type]
    assert len(t) == 3 and t.path == "<stream>"


@pytest.mark.parametrize("make", [lambda: b"", lambda: PCAP[:30]], ids=["empty", "cut"])
def test_stream_name_defaults(make: Callable[[], bytes]) -> None:
    with pytest.raises(CaptureError) as info:
        read_packets(io.BytesIO(make()))
    assert str(info.value).startswith("<stream>: ")


# -- the walker and the public entry point ----------------------------------------------------

def test_walker_stops_at_damage_and_keeps_it() -> None:
    with ByteSource(io.BytesIO(PCAP[:24 + 2 * PCAP_REC + 5]), NAME) as src:
        walker = RecordWalker(src, chunk_bytes=4096)
        n = sum(len(b) for b in walker)
    assert (n, walker.records, walker.fmt) == (2, 2, "pcap")
    assert isinstance(walker.damage, TruncatedCapture)
    assert (walker.damage.packet, walker.damage.offset) == (3, 24 + 2 * PCAP_REC)


def test_read_capture_api(strict_warnings: list[warnings.WarningMessage]) -> None:
    cap = analyzer.read_capture(io.BytesIO(PCAP[:-3]), name=NAME)
    assert cap.packets == 2 and cap.fmt == "pcap"
    assert len(cap.warnings) == 1 and cap.warnings[0].startswith(f"{NAME}: ")
    assert [w.category for w in strict_warnings] == [TruncatedCaptureWarning]
    with pytest.raises(analyzer.NotACapture):
        analyzer.read_capture(io.BytesIO(b""), name=NAME)


def test_max_empty_records_stops_a_gzip_of_zeros_within_the_bound() -> None:
    """The reader's bound is a parameter (``Limits.max_empty_records`` through
    ``read_capture``): reached, it stops after at most one chunk more and names itself."""
    import gzip

    from analyzer.capture.records import DEFAULT_CHUNK_BYTES
    from analyzer.limits import Limits
    total = 2_000_000  # empty records in the file (32 MB of zeros)
    data = gzip.compress(PCAP + bytes(16 * total), compresslevel=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cap = analyzer.read_capture(io.BytesIO(data), name="zeros.pcap.gz",
                                    limits=Limits(max_empty_records=1000))
    before = len(recs())  # the real records before the zeros are kept
    assert cap.udp_datagrams == before
    assert cap.packets - before <= 1000 + DEFAULT_CHUNK_BYTES // 16 < total
    msg = [w for w in cap.warnings if "limit max_empty_records=1000 reached" in w]
    assert len(msg) == 1 and msg[0].startswith("zeros.pcap.gz: ")
    assert any("limit max_empty_records=1000" in str(w.message) for w in caught)
    # the default bound (100 000) stops it too, later
    with pytest.warns(CaptureWarning, match="limit max_empty_records=100000 reached"):
        default = analyzer.read_capture(io.BytesIO(data), name="zeros.pcap.gz")
    assert cap.packets < default.packets
