"""Calls captured inside tunnels (GTP-U, VXLAN, GRE, MPLS, PPPoE) read like the bare capture,
with the native reader and with the tshark engine."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from analyzer.capture.reader import read_packets
from analyzer.cli import main
from analyzer.cli.status import ExitStatus
from analyzer.cli.verify import compare
from analyzer.streams.capture import read_capture
from tests.support import tunnels as T

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"
RECEIVERS = sorted(LAB.glob("*-receiver.pcap"))
needs_tshark = pytest.mark.skipif(not shutil.which("tshark"),
                                  reason="tshark not installed (.ci/run installs it)")


def wrapped(src: Path, name: str, tmp_path: Path) -> Path:
    dst = tmp_path / f"{src.stem}-{name}.pcap"
    T.encapsulate(src, dst, T.WRAPPERS[name])
    return dst


@pytest.mark.parametrize("name", sorted(T.WRAPPERS))
@pytest.mark.parametrize("src", RECEIVERS, ids=lambda p: p.stem)
def test_native_reader_sees_through_tunnels(src: Path, name: str, tmp_path: Path) -> None:
    path = wrapped(src, name, tmp_path)
    diffs = compare(read_capture(src), read_capture(path))
    assert [d for d in diffs if d.differences] == []


@needs_tshark
@pytest.mark.tshark
@pytest.mark.parametrize("name", ["gtpu", "gtpu-ext", "vxlan", "gre", "mpls", "pppoe"])
@pytest.mark.parametrize("stem", ["loss5", "ipv6"])
def test_tshark_engine_sees_through_tunnels(stem: str, name: str, tmp_path: Path) -> None:
    src = LAB / f"{stem}-receiver.pcap"
    path = wrapped(src, name, tmp_path)
    diffs = compare(read_capture(src), read_capture(path, engine="tshark"))
    assert diffs and [d for d in diffs if d.differences] == []


@needs_tshark
@pytest.mark.tshark
@pytest.mark.parametrize("name", ["gtpu", "vxlan"])
def test_verify_agrees_on_tunnelled_captures(name: str, tmp_path: Path) -> None:
    path = wrapped(LAB / "periodic-receiver.pcap", name, tmp_path)
    out = io.StringIO()
    assert main(["verify", str(path)], stdout=out, stderr=io.StringIO()) == ExitStatus.OK
    assert "2 of 2 streams agree" in out.getvalue()


def test_nested_tunnels_and_look_alikes(tmp_path: Path) -> None:
    src = LAB / "clean-receiver.pcap"
    nested = tmp_path / "nested.pcap"  # GTP-U inside GRE inside MPLS
    T.encapsulate(src, nested, lambda ip: T.mpls(T.gre(T.gtpu(ip)[14:])[14:]))
    assert [d for d in compare(read_capture(src), read_capture(nested))
            if d.differences] == []
    # a UDP datagram to port 2152 that is no GTP-U stays what it is
    odd = tmp_path / "odd.pcap"
    T.encapsulate(src, odd, lambda ip: T.ether(0x0800, T.ipv4(17, T.udp(9, 2152, b"\0" * 40))))
    table = read_packets(odd)
    assert set(table.flows.dport.tolist()) == {2152}


@needs_tshark
@pytest.mark.tshark
def test_tshark_engine_reads_80211_radiotap(tmp_path: Path) -> None:
    """A Wi-Fi monitor-mode capture: the native reader lacks the link type, tshark reads it."""
    src = LAB / "loss5-receiver.pcap"
    path = tmp_path / "wifi.pcap"
    T.encapsulate_wifi(src, path)
    diffs = compare(read_capture(src), read_capture(path, engine="tshark"))
    assert diffs and [d for d in diffs if d.differences] == []
    err = io.StringIO()
    assert main(["flows", str(path)], stdout=io.StringIO(), stderr=err) == \
        ExitStatus.UNSUPPORTED_LINK_TYPE
