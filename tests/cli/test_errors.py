"""The CLI on bad captures: one line on stderr naming the file, a distinct exit status, no
traceback; a capture damaged part-way is still listed, with one warning line."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest

from analyzer import errors
from analyzer.cli import main
from analyzer.cli.status import ExitStatus
from tests.support.craft import (
    LINKTYPE_ETHERNET,
    LINKTYPE_USER0,
    epb,
    frame,
    gz,
    idb,
    rtp,
    rtp_capture,
    shb,
    udp4,
)

T0 = 1_700_000_000_000_000_000
RTP = [(T0 + i * 20_000_000, rtp(1000 + i, 160 * i, 0x1234ABCD)) for i in range(50)]
PCAP = rtp_capture(RTP)
RECORD = (len(PCAP) - 24) // len(RTP)


def run(*args: str) -> tuple[ExitStatus, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _zip() -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("call.pcap", PCAP)
    return b.getvalue()


def _huge_caplen() -> bytes:
    b = bytearray(PCAP)
    struct.pack_into("<I", b, 24 + 8, 0xFFFFFFF0)
    return bytes(b)


ERRORS = [
    ("empty.pcap", b"", ExitStatus.NOT_A_CAPTURE, "empty file"),
    ("notes.pcap", b"just some text\n", ExitStatus.NOT_A_CAPTURE, "looks like text"),
    ("flows.json", json.dumps({"streams": []}).encode(), ExitStatus.NOT_A_CAPTURE, "JSON"),
    ("call.zip", _zip(), ExitStatus.NOT_A_CAPTURE, "ZIP"),
    ("short-header.pcap", PCAP[:12], ExitStatus.TRUNCATED_CAPTURE, "offset 12"),
    ("first-record-cut.pcap", PCAP[:24 + 20], ExitStatus.TRUNCATED_CAPTURE, "packet 1"),
    ("huge-record.pcap", _huge_caplen(), ExitStatus.CORRUPT_CAPTURE, "offset 24"),
    ("bad-block.pcapng", shb() + idb(LINKTYPE_ETHERNET) + struct.pack("<II", 6, 13) + bytes(20),
     ExitStatus.CORRUPT_CAPTURE, "impossible length 13"),
    ("no-interface.pcapng", shb() + epb(0, 0, PCAP[40:100]), ExitStatus.CORRUPT_CAPTURE,
     "interface 0"),
    ("user0.pcap", rtp_capture(RTP, linktype=LINKTYPE_ETHERNET)[:20]
     + struct.pack("<I", LINKTYPE_USER0) + PCAP[24:], ExitStatus.UNSUPPORTED_LINK_TYPE,
     "link type 147"),
    ("damaged.pcap.gz", gz(PCAP)[:10] + b"\x07" + gz(PCAP)[11:], ExitStatus.CORRUPT_CAPTURE,
     "gzip"),
]


@pytest.mark.parametrize(("name", "data", "status", "fragment"), ERRORS,
                         ids=[e[0] for e in ERRORS])
def test_bad_capture_is_one_error_line(tmp_path: Path, name: str, data: bytes,
                                       status: ExitStatus, fragment: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    for args in (("flows", str(path)), ("flows", "--json", str(path))):
        got, out, err = run(*args)
        assert got == status
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"analyzer: error: {path}: ")
        assert fragment in lines[0]
        assert "Traceback" not in err
        assert out == ""


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.pcap"
    status, out, err = run("flows", str(path))
    assert status == ExitStatus.CAPTURE_UNREADABLE
    assert err == f"analyzer: error: {path}: no such file\n"
    assert out == ""


def test_directory(tmp_path: Path) -> None:
    status, _, err = run("flows", str(tmp_path))
    assert status == ExitStatus.CAPTURE_UNREADABLE
    assert err.startswith(f"analyzer: error: {tmp_path}: ") and err.count("\n") == 1
    assert "directory" in err


SALVAGE = [
    ("cut.pcap", PCAP[: 24 + 40 * RECORD + 30], 40, "packet 41"),
    ("cut.pcap.gz", gz(PCAP)[:-40], None, "kept the"),
    ("cut.pcapng", rtp_capture(RTP, fmt="pcapng")[:-10], 49,
     "packet 50"),
]


@pytest.mark.parametrize(("name", "data", "kept", "fragment"), SALVAGE,
                         ids=[s[0] for s in SALVAGE])
def test_damaged_part_way_lists_flows_with_one_warning(tmp_path: Path, name: str, data: bytes,
                                                      kept: int | None, fragment: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    status, out, err = run("flows", str(path))
    assert status == ExitStatus.OK
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"analyzer: warning: {path}: ")
    assert fragment in lines[0]
    assert "40000" in out  # the RTP flow is still listed
    status, out, err = run("flows", "--json", str(path))
    assert status == ExitStatus.OK
    doc = json.loads(out)
    assert len(doc["capture"]["warnings"]) == 1
    if kept is not None:
        assert doc["capture"]["packets"] == kept
    # the warning is shown on every run, not only the first one in a process
    assert err.splitlines() == lines


def test_mixed_link_types_warn_and_keep_the_rest(tmp_path: Path) -> None:
    data = shb() + idb(LINKTYPE_USER0) + idb(LINKTYPE_ETHERNET, tsresol=9)
    for ts, payload in RTP[:5]:
        data += epb(0, 0, b"opaque user data")
        data += epb(1, ts, frame(LINKTYPE_ETHERNET, udp4(40000, 50000, payload)))
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(data)
    status, out, err = run("flows", str(path))
    assert status == ExitStatus.OK
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"analyzer: warning: {path}: ")
    assert "147" in lines[0]
    assert "40000" in out


def test_unknown_option_is_usage_error() -> None:
    status, _, err = run("flows", "--no-such-option", "x.pcap")
    assert status == ExitStatus.USAGE
    assert err.startswith("analyzer: error: ") and err.count("\n") == 1


@pytest.mark.parametrize(("exc", "status"), [
    (errors.NotACapture("x"), ExitStatus.NOT_A_CAPTURE),
    (errors.UnsupportedLinkType("x"), ExitStatus.UNSUPPORTED_LINK_TYPE),
    (errors.CorruptCapture("x"), ExitStatus.CORRUPT_CAPTURE),
    (errors.TruncatedCapture("x"), ExitStatus.TRUNCATED_CAPTURE),
    (errors.CaptureError("x"), ExitStatus.CAPTURE_UNREADABLE),
    (errors.UsageError("x"), ExitStatus.USAGE),
    (errors.AnalyzerError("x"), ExitStatus.ERROR),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v.name)
def test_each_error_class_has_its_exit_status(monkeypatch: pytest.MonkeyPatch,
                                              exc: errors.AnalyzerError,
                                              status: ExitStatus) -> None:
    from analyzer.cli import commands

    def fail(*args: object) -> ExitStatus:
        raise exc

    monkeypatch.setattr(commands, "dispatch", fail)
    got, out, err = run("flows", "x.pcap")
    assert got == status
    assert err == "analyzer: error: x\n" and out == ""


def test_an_internal_error_names_the_file_and_the_stage(tmp_path, monkeypatch) -> None:
    """A bug is reported as ours - one line naming the capture and the stage, exit 1 -
    never as a problem with the file."""
    import io
    from pathlib import Path

    from analyzer.cli import main
    from analyzer.cli.status import ExitStatus
    from analyzer.detectors import periodic

    def broken(self, features, context):
        raise RuntimeError("boom")

    monkeypatch.setattr(periodic.PeriodicDropDetector, "detect", broken)
    monkeypatch.delenv("ANALYZER_DEBUG", raising=False)
    cap = Path(__file__).resolve().parents[2] / "captures" / "example-call.pcap"
    out, err = io.StringIO(), io.StringIO()
    status = main(["analyze", str(cap)], stdout=out, stderr=err)
    assert status == ExitStatus.ERROR and out.getvalue() == ""
    line = err.getvalue()
    assert line.count("\n") == 1, line
    assert f"internal error in detect of {cap}: RuntimeError: boom" in line
    assert "not a problem with the file" in line
