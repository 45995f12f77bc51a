"""The reader's SHA-256 and size are those of the file as stored (before gunzip)."""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

import pytest

from analyzer.api import read_capture
from analyzer.capture.reader import read_packets
from tests.support.craft import pcap_bytes, rtp, rtp_capture

PACKETS = [(1_700_000_000_000_000_000 + i * 20_000_000, rtp(i, 160 * i, 0x1234))
           for i in range(50)]


def digest(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


@pytest.mark.parametrize(("fmt", "compress"),
                         [("pcap", False), ("pcapng", False), ("pcap", True)])
def test_sha256_and_size_of_the_stored_file(tmp_path: Path, fmt: str, compress: bool) -> None:
    path = tmp_path / f"c.{fmt}{'.gz' if compress else ''}"
    path.write_bytes(rtp_capture(PACKETS, fmt=fmt, compress=compress))
    table = read_packets(path)
    assert (table.sha256, table.file_size_bytes) == digest(path)
    cap = read_capture(path)
    assert (cap.sha256, cap.file_size_bytes) == digest(path)
    assert cap.summary()["sha256"] == digest(path)[0]
    assert cap.summary()["file_size_bytes"] == path.stat().st_size


def test_gzip_made_with_the_gzip_module(tmp_path: Path) -> None:
    path = tmp_path / "call.pcap.gz"
    with gzip.open(path, "wb") as fh:  # a real mtime and file name in the header
        fh.write(rtp_capture(PACKETS))
    cap = read_capture(path)
    assert cap.fmt.endswith(".gz") and cap.udp_datagrams == len(PACKETS)
    assert (cap.sha256, cap.file_size_bytes) == digest(path)


def test_a_damaged_file_is_still_hashed_whole(tmp_path: Path) -> None:
    """The reader stops at an impossible record length; the bytes after it still count."""
    data = rtp_capture(PACKETS)
    rec = (len(data) - 24) // len(PACKETS)  # every record has the same length here
    cut = 24 + 10 * rec  # the 11th record header
    damaged = data[:cut + 8] + (0x7FFFFFF0).to_bytes(4, "little") + data[cut + 12:]
    path = tmp_path / "damaged.pcap"
    path.write_bytes(damaged + b"\x55" * 100_000)
    with pytest.warns(UserWarning, match="kept the 10 packets"):
        table = read_packets(path, chunk_bytes=4096)
    assert len(table) == 10
    assert (table.sha256, table.file_size_bytes) == digest(path)


def test_a_file_object_hashes_what_was_read() -> None:
    data = rtp_capture(PACKETS)
    table = read_packets(io.BytesIO(data))
    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert table.file_size_bytes == len(data)


def test_content_secret_differs_from_the_digest_and_between_files() -> None:
    a = read_packets(io.BytesIO(rtp_capture(PACKETS)))
    b = read_packets(io.BytesIO(pcap_bytes([])))
    assert len(a.content_secret) == 32
    assert a.content_secret.hex() != a.sha256
    assert a.content_secret != b.content_secret
    assert "content_secret" not in repr(a)
