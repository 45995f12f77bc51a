"""File formats: pcap in both byte orders and resolutions, pcapng sections, interfaces,
time resolutions and block kinds, gzip, and reading in small chunks."""

from __future__ import annotations

import dataclasses
import gzip
import io
import struct

import numpy as np
import pytest
from scapy.layers.l2 import Ether
from scapy.utils import PcapNgWriter, PcapWriter

from analyzer.capture.reader import read_packets
from analyzer.capture.records import RecordWalker
from analyzer.capture.source import ByteSource
from analyzer.capture.table import PacketTable
from tests.support.craft import (
    EPB_TYPE,
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    Rec,
    block,
    custom_block,
    epb,
    frame,
    gz,
    idb,
    isb,
    nrb,
    opb,
    pcap_bytes,
    pcapng_bytes,
    shb,
    spb,
    ticks,
    ticks_to_ns,
    udp4,
    udp6,
)

T0 = 1_700_000_000_123_456_789  # ns since the epoch


def read(data: bytes, **kwargs: object) -> PacketTable:
    return read_packets(io.BytesIO(data), name="crafted", **kwargs)  # type: ignore[arg-type]


def assert_same_table(a: PacketTable, b: PacketTable) -> None:
    """Every column and summary of two tables agree (whatever columns the table has); the
    name, format and provenance of the files (digest, size) may differ."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name in ("path", "fmt", "sha256", "file_size_bytes", "content_secret"):
            continue
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        elif f.name == "flows":
            for g in dataclasses.fields(x):
                np.testing.assert_array_equal(getattr(x, g.name), getattr(y, g.name),
                                              err_msg=f"flows.{g.name}")
        else:
            assert x == y, f.name


def ports(t: PacketTable) -> list[tuple[int, int]]:
    return [(int(t.flows.sport[f]), int(t.flows.dport[f])) for f in t.flow]


# -- pcap -----------------------------------------------------------------------------------

@pytest.mark.parametrize("big", [False, True], ids=["le", "be"])
@pytest.mark.parametrize("nanos", [False, True], ids=["us", "ns"])
def test_pcap_byte_order_and_resolution(big: bool, nanos: bool) -> None:
    times = [T0, T0 + 1, T0 + 999_999_999, 4_294_967_295_999_999_999, 0]
    if not nanos:
        times = [t - t % 1000 for t in times]
    recs = [Rec(t, frame(LINKTYPE_ETHERNET, udp4(1000 + i, 2000 + i, b"p" * (10 * i))))
            for i, t in enumerate(times)]
    t = read(pcap_bytes(recs, big=big, nanos=nanos))
    assert t.fmt == "pcap"
    assert t.records == len(recs) == len(t)
    assert t.ts_ns.tolist() == times  # exact to the ns
    assert t.t0_ns == times[0]
    assert ports(t) == [(1000 + i, 2000 + i) for i in range(len(recs))]
    assert t.udp_len.tolist() == [10 * i for i in range(len(recs))]
    with ByteSource(io.BytesIO(pcap_bytes(recs, big=big, nanos=nanos))) as src:
        (batch,) = list(RecordWalker(src))
    assert batch.origlen.tolist() == batch.caplen.tolist() == [len(r.data) for r in recs]
    assert t.frame.tolist() == [1, 2, 3, 4, 5]
    assert t.linktypes == (LINKTYPE_ETHERNET,)


def test_pcap_header_fcs_bits_are_ignored() -> None:
    data = bytearray(pcap_bytes([Rec(T0, frame(LINKTYPE_ETHERNET, udp4(payload=b"x")))]))
    data[20:24] = (LINKTYPE_ETHERNET | 0x10000000 | 0x04000000).to_bytes(4, "little")
    assert len(read(bytes(data))) == 1


def test_empty_pcap_gives_an_empty_table() -> None:
    t = read(pcap_bytes([]))
    assert len(t) == 0 and t.records == 0 and t.duration_s == 0.0


def test_pcap_written_by_scapy(tmp_path) -> None:
    pkts = []
    for i in range(5):
        p = udp4(7000 + i, 8000, b"z" * (i + 1))
        p.time = 1_700_000_000 + i / 8  # exactly representable
        pkts.append(p)
    for nano in (False, True):
        path = tmp_path / f"scapy-{nano}.pcap"
        w = PcapWriter(str(path), linktype=LINKTYPE_RAW, nano=nano, sync=True)
        w.write(pkts)
        w.close()
        t = read_packets(path)
        assert t.path == str(path)
        assert t.ts_ns.tolist() == [1_700_000_000_000_000_000 + i * 125_000_000
                                    for i in range(5)]
        assert ports(t) == [(7000 + i, 8000) for i in range(5)]
        assert t.udp_len.tolist() == [1, 2, 3, 4, 5]


def test_pcapng_written_by_scapy(tmp_path) -> None:
    path = tmp_path / "scapy.pcapng"
    w = PcapNgWriter(str(path))
    for i in range(3):
        e = Ether(frame(LINKTYPE_ETHERNET, udp6(9000, 9001 + i, b"q" * 7)))
        e.time = 1_700_000_000 + i
        w.write(e)
    w.close()
    t = read_packets(path)
    assert t.fmt == "pcapng"
    assert ports(t) == [(9000, 9001), (9000, 9002), (9000, 9003)]
    assert t.ts_ns.tolist() == [(1_700_000_000 + i) * 1_000_000_000 for i in range(3)]


# -- pcapng ---------------------------------------------------------------------------------

BINARY_RES = 0x80 | 20  # 2^-20 s per tick
ENDS = (LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL)


def _multi_section() -> tuple[bytes, list[tuple[int | None, int, int]]]:
    """Two sections (little- then big-endian) with five interfaces between them.

    Returns the file and, per packet, (expected ts_ns or None for SPB, sport, udp_len).
    """
    expect: list[tuple[int | None, int, int]] = []
    out = [shb()]
    # section 1: Ethernet µs (default), raw IP ns, SLL 2^-20 with an offset
    out += [idb(LINKTYPE_ETHERNET),
            nrb(),
            idb(LINKTYPE_RAW, tsresol=9),
            idb(LINKTYPE_LINUX_SLL, tsresol=BINARY_RES, tsoffset_s=1_600_000_000)]
    t = ticks(T0)
    out.append(epb(0, t, frame(LINKTYPE_ETHERNET, udp4(1, 11, b"a" * 3))))
    expect.append((ticks_to_ns(t), 1, 3))
    out.append(custom_block())
    t = ticks(T0 + 5, 9)
    out.append(epb(1, t, frame(LINKTYPE_RAW, udp6(2, 12, b"b" * 4))))
    expect.append((T0 + 5, 2, 4))
    t = ticks(T0 + 777_777, BINARY_RES, 1_600_000_000)
    out.append(opb(2, t, frame(LINKTYPE_LINUX_SLL, udp4(3, 13, b"c" * 5))))
    expect.append((ticks_to_ns(t, BINARY_RES, 1_600_000_000), 3, 5))
    out.append(isb(0))
    out.append(spb(frame(LINKTYPE_ETHERNET, udp4(4, 14, b"d" * 6))))
    expect.append((None, 4, 6))
    # section 2, big-endian: interface numbers start again at 0
    out += [shb(big=True),
            idb(LINKTYPE_LINUX_SLL2, tsresol=9, tsoffset_s=-1_000, big=True),
            idb(LINKTYPE_NULL, tsresol=6, big=True)]
    t = ticks(T0 + 10**9, 9, -1_000)
    out.append(epb(0, t, frame(LINKTYPE_LINUX_SLL2, udp6(5, 15, b"e" * 7)), big=True))
    expect.append((T0 + 10**9, 5, 7))
    out.append(nrb(big=True))
    t = ticks(T0 + 2 * 10**9, 6)
    out.append(epb(1, t, frame(LINKTYPE_NULL, udp4(6, 16, b"f" * 8)), big=True))
    expect.append((ticks_to_ns(t, 6), 6, 8))
    out.append(spb(frame(LINKTYPE_LINUX_SLL2, udp4(7, 17, b"g" * 9)), big=True))
    expect.append((None, 7, 9))
    out.append(custom_block(big=True))
    out.append(isb(1, big=True))
    return b"".join(out), expect


def test_pcapng_sections_interfaces_and_blocks() -> None:
    data, expect = _multi_section()
    t = read(data)
    assert t.fmt == "pcapng"
    assert t.records == len(expect) == len(t)
    assert ports(t) == [(sp, sp + 10) for _, sp, _ in expect]
    assert t.udp_len.tolist() == [n for _, _, n in expect]
    for got, (want, _, _) in zip(t.ts_ns.tolist(), expect, strict=True):
        if want is not None:
            assert got == want
    assert t.linktypes == tuple(sorted(set(ENDS)))
    assert t.counters.udp == len(expect) and t.counters.unsupported_linktype == 0


def test_pcapng_walker_skips_other_blocks() -> None:
    data, expect = _multi_section()
    with ByteSource(io.BytesIO(data)) as src:
        walker = RecordWalker(src)
        n = sum(len(b) for b in walker)
    assert n == len(expect)
    assert walker.damage is None
    assert walker.skipped_blocks == 6  # 2 NRB, 2 ISB, 2 custom
    assert [lt for lt, _ in walker.interfaces] == [
        LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL]


@pytest.mark.parametrize("k", [10, 20, 30, 32, 40, 63])
def test_pcapng_binary_resolution_is_exact(k: int) -> None:
    res = 0x80 | k
    units = 2**k
    recs = []
    want = []
    for i, sec in enumerate((0, 1_700_000_000, 2_000_000_000)):
        t = sec * units + (units - 1 - i) % units  # a fraction just under a whole second
        if t >= 2**64:
            continue
        recs.append(epb(0, t, frame(LINKTYPE_ETHERNET, udp4(payload=b"r"))))
        want.append(t * 1_000_000_000 // units)
    t = read(shb() + idb(LINKTYPE_ETHERNET, tsresol=res) + b"".join(recs))
    assert t.ts_ns.tolist() == want


@pytest.mark.parametrize("res", [0, 3, 6, 9, 12], ids=lambda r: f"1e-{r}")
def test_pcapng_decimal_resolutions(res: int) -> None:
    sec = min(1_700_000_000, 2**64 // 10**res - 1)
    t_ticks = [sec * 10**res + 10**res - 1, 5]
    body = b"".join(epb(0, x, frame(LINKTYPE_ETHERNET, udp4(payload=b"d"))) for x in t_ticks)
    t = read(shb() + idb(LINKTYPE_ETHERNET, tsresol=res, tsoffset_s=7) + body)
    assert t.ts_ns.tolist() == [ticks_to_ns(x, res, 7) for x in t_ticks]


def test_pcapng_simple_packet_block_is_cut_to_snaplen() -> None:
    big = frame(LINKTYPE_ETHERNET, udp4(5, 6, b"s" * 100))
    small = frame(LINKTYPE_ETHERNET, udp4(5, 6, b"s" * 3))  # 45 bytes, padded to 48
    data = (shb() + idb(LINKTYPE_ETHERNET, snaplen=64)
            + spb(big[:64], origlen=len(big)) + spb(small))
    t = read(data)
    assert t.udp_len.tolist() == [100, 3]
    with ByteSource(io.BytesIO(data)) as src:
        (batch,) = list(RecordWalker(src))
    assert batch.caplen.tolist() == [64, 45]
    assert batch.origlen.tolist() == [len(big), 45]


def test_pcapng_epb_options_and_padding() -> None:
    # an EPB with an option after the padded packet data (epb_flags)
    pkt = frame(LINKTYPE_ETHERNET, udp4(5, 6, b"o" * 13))
    body = struct.pack("<IIIII", 0, 0, 1000, len(pkt), len(pkt)) + pkt
    body += b"\0" * (-len(body) % 4) + struct.pack("<HHI", 2, 4, 1) + b"\0" * 4
    t = read(shb() + idb(LINKTYPE_ETHERNET) + block(EPB_TYPE, body))
    assert t.udp_len.tolist() == [13] and t.ts_ns.tolist() == [1000 * 1000]


# -- gzip -----------------------------------------------------------------------------------

def _some_capture(fmt: str) -> bytes:
    recs = [Rec(T0 + i * 20_000_000, frame(LINKTYPE_ETHERNET, udp4(4000, 5000, bytes(172))))
            for i in range(50)]
    return pcapng_bytes(recs) if fmt == "pcapng" else pcap_bytes(recs)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_gzip_compressed(fmt: str, tmp_path) -> None:
    plain = _some_capture(fmt)
    want = read(plain)
    got = read(gz(plain))
    assert got.fmt == f"{fmt}.gz"
    assert_same_table(want, got)
    path = tmp_path / f"c.{fmt}.gz"
    path.write_bytes(gz(plain))
    assert_same_table(want, read_packets(path))


def test_gzip_with_several_members() -> None:
    plain = _some_capture("pcap")
    cut = len(plain) // 3
    data = gzip.compress(plain[:cut]) + gzip.compress(plain[cut:])
    assert_same_table(read(plain), read(data))


# -- chunks ---------------------------------------------------------------------------------

def _mixed_sizes(n: int = 80) -> list[Rec]:
    sizes = [0, 1, 160, 1400, 5000, 9000, 4000, 3, 60_000]
    recs = []
    for i in range(n):
        pay = bytes([i % 256]) * sizes[i % len(sizes)]
        l3 = udp6(1000 + i % 7, 2000, pay) if i % 3 == 0 else udp4(1000 + i % 5, 2000, pay)
        recs.append(Rec(T0 + i * 1_000_003, frame(LINKTYPE_ETHERNET, l3)))
    return recs


@pytest.mark.parametrize("fmt", ["pcap", "pcapng", "pcap.gz", "pcapng.gz"])
def test_small_chunks_read_the_same(fmt: str) -> None:
    recs = _mixed_sizes()
    data = pcapng_bytes(recs) if fmt.startswith("pcapng") else pcap_bytes(recs, nanos=True)
    if fmt.endswith(".gz"):
        data = gz(data)
    whole = read(data)
    assert len(whole) == len(recs)
    assert whole.ts_ns.tolist() == [r.ts_ns for r in recs]
    for chunk in (1, 4096, 4097, 10_000):
        assert_same_table(whole, read(data, chunk_bytes=chunk))


def test_small_chunks_across_sections() -> None:
    data, _ = _multi_section()
    filler = b"".join(epb(0, i, frame(LINKTYPE_LINUX_SLL2, udp4(9, 9, bytes(3000))), big=True)
                      for i in range(5))
    data = data + filler
    assert_same_table(read(data), read(data, chunk_bytes=4096))
