"""The tshark engine reads what the native reader lacks and fills the same columns.

Lab captures are converted with ``editcap -F`` to other file formats; the tshark engine must
find the same streams (packets, lost exact; delta and jitter within 0.01 ms) as the native
engine on the original, and ``analyzer verify`` must exit 0.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.cli.status import ExitStatus
from analyzer.cli.verify import compare
from analyzer.streams.capture import read_capture
from tests.support.tunnels import erf

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"
#: Captures covering IPv6, a path switch, DTX and loss (a full sweep would take minutes:
#: tshark starts in about a second).
SAMPLE = ("loss5", "ipv6", "pathswitch", "frames60dtx", "periodic")
#: Formats tshark reads back: editcap writes all but ERF (tests/support/tunnels.py does);
#: verify converts them to pcapng for the native engine (ERF, nettl and k12text only with
#: editcap's ``-T ether``).
FORMATS = {"snoop": True, "netmon2": True, "k12text": True, "nettl": True, "erf": True}

pytestmark = pytest.mark.tshark
needs_tshark = pytest.mark.skipif(not shutil.which("tshark") or not shutil.which("editcap"),
                                  reason="tshark not installed (.ci/run installs it)")


def convert(src: Path, fmt: str, dst: Path) -> Path:
    if fmt == "erf":  # editcap does not write Ethernet as ERF: our own writer does
        erf(src, dst)
        return dst
    subprocess.run(["editcap", "-F", fmt, str(src), str(dst)], check=True,
                   capture_output=True)
    return dst


def assert_same(native_path: Path, other_path: Path) -> None:
    native = read_capture(native_path)
    other = read_capture(other_path, engine="tshark")
    diffs = compare(native, other)
    assert diffs, "some stream is found"
    assert [d for d in diffs if d.differences] == []


@needs_tshark
@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("name", SAMPLE)
def test_tshark_engine_on_other_formats(name: str, fmt: str, tmp_path: Path) -> None:
    src = LAB / f"{name}-receiver.pcap"
    assert_same(src, convert(src, fmt, tmp_path / f"c.{fmt}"))


@needs_tshark
def test_tshark_engine_on_the_original_pcap() -> None:
    src = LAB / "loss5-receiver.pcap"
    assert_same(src, src)
    cap = read_capture(src, engine="tshark")
    assert cap.fmt == "tshark" and cap.sha256 == read_capture(src).sha256


@needs_tshark
@pytest.mark.parametrize("fmt", [f for f, ok in FORMATS.items() if ok])
def test_verify_agrees_on_converted_formats(fmt: str, tmp_path: Path) -> None:
    path = convert(LAB / "loss5-receiver.pcap", fmt, tmp_path / f"c.{fmt}")
    out, err = io.StringIO(), io.StringIO()
    status = main(["verify", str(path)], stdout=out, stderr=err)
    assert status == ExitStatus.OK, out.getvalue() + err.getvalue()
    assert "2 of 2 streams agree" in out.getvalue()


@needs_tshark
@pytest.mark.parametrize("cmd", ["flows", "stats", "analyze"])
def test_every_command_runs_on_the_tshark_engine(cmd: str, tmp_path: Path) -> None:
    path = convert(LAB / "periodic-receiver.pcap", "snoop", tmp_path / "c.snoop")
    out, err = io.StringIO(), io.StringIO()
    assert main([cmd, "--engine", "tshark", str(path)], stdout=out, stderr=err) == 0, \
        err.getvalue()
    ref = io.StringIO()
    main([cmd, str(LAB / "periodic-receiver.pcap")], stdout=ref, stderr=io.StringIO())
    if cmd == "analyze":  # the same verdict and findings, only the file name differs
        assert out.getvalue().replace(str(path), "X") == \
            ref.getvalue().replace(str(LAB / "periodic-receiver.pcap"), "X")


def test_verify_exit_code_when_engines_disagree(monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer.cli import verify
    monkeypatch.setattr("analyzer.capture.tshark.find_tshark", lambda: "tshark")
    real = read_capture

    def fake(path, **kw):  # the "tshark" reading misses a stream
        if kw.get("engine") == "tshark":
            return real(LAB / "blocked-receiver.pcap")
        return real(path)
    monkeypatch.setattr("analyzer.streams.capture.read_capture", fake)
    out = io.StringIO()
    status = main(["verify", str(LAB / "loss5-receiver.pcap")], stdout=out,
                  stderr=io.StringIO())
    assert status == ExitStatus.ENGINES_DISAGREE == 9
    assert "only the native engine finds this stream" in out.getvalue()
    assert verify.TOLERANCE_MS == 0.01


@pytest.mark.parametrize("argv", [["verify"], ["flows", "--engine", "tshark"],
                                  ["analyze", "--engine", "tshark"]])
def test_missing_tshark_says_how_to_install(argv: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    err = io.StringIO()
    status = main([*argv, str(LAB / "clean-receiver.pcap")], stdout=io.StringIO(),
                  stderr=err)
    assert status == ExitStatus.USAGE
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "apt-get install tshark" in lines[0]


@needs_tshark
def test_tshark_engine_reads_stdin(tmp_path: Path) -> None:
    path = convert(LAB / "loss5-receiver.pcap", "snoop", tmp_path / "c.snoop")
    out = io.StringIO()
    status = main(["flows", "--engine", "tshark", "--json", "--no-quality", "-"], stdout=out,
                  stderr=io.StringIO(), stdin=io.BytesIO(path.read_bytes()))
    assert status == ExitStatus.OK
    import json
    doc = json.loads(out.getvalue())
    assert doc["capture"]["file"] == "<stdin>"
    assert sorted(s["packets"] for s in doc["streams"]) == [719, 751]
