"""The compiled decoding (``decode_udp`` and ``dissect_heads`` in ``_walk.c``) gives the same
columns as the numpy decoding it replaces, batch by batch: on the lab captures, simulated
calls, the fuzz corpus and seeded fuzz mutants, and on frames whose link, IP and UDP
headers were mutated byte by byte (extension chains, fragments, bad lengths, truncation).

The numpy path is the fallback when the extension was not built; every other capture test
runs both (the ``record_walk`` fixture of conftest.py turns the whole extension off).
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    IPerror6,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.packet import Raw

from analyzer.capture import ipudp, records
from analyzer.capture.dissect import DatagramColumns, _dissect_numpy, dissect
from analyzer.capture.ipudp import HEAD_BYTES, UdpBatch
from analyzer.capture.records import PAD_BYTES, RecordBatch, RecordWalker
from analyzer.capture.source import ByteSource
from analyzer.capture.tunnels import unwrap_tunnels
from analyzer.errors import CaptureError
from tests.support.craft import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    frame,
    rtp,
    udp4,
    udp6,
)
from tests.support.paths import REPO

LAB = REPO / "captures" / "lab"
CORPUS = REPO / "tests" / "fuzz" / "corpus"
MUTANTS = 300
#: Small chunks, so the captures make many batches (and records cross chunk ends).
CHUNK = 1 << 16
POOL_TEST_MIN_BATCHES = 10


@pytest.fixture(autouse=True)
def compiled() -> object:
    """These tests compare the two paths, so they need the compiled one."""
    walk = records._compiled
    if walk is None or not hasattr(walk, "decode_udp"):
        pytest.skip("compiled decoding not built (python setup.py build_ext --inplace)")
    return walk


def _same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    # the same type and size (numpy makes empty big-endian columns, ">u2", in one place)
    assert a.dtype.newbyteorder("=") == b.dtype.newbyteorder("="), (what, a.dtype, b.dtype)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    assert np.array_equal(a, b), what


def assert_same_decode(c: UdpBatch, p: UdpBatch) -> None:
    for k in ("frame", "ts_ns", "src", "dst", "sport", "dport", "ipver", "udp_len", "cap_len",
              "wire_len", "head"):
        _same(getattr(c, k), getattr(p, k), k)
    assert c.counters == p.counters
    assert c.kept == p.kept
    assert c.tcp_sip == p.tcp_sip
    assert c.hints == p.hints
    assert c.icmp == p.icmp
    assert (c.tcp is None) == (p.tcp is None)
    if c.tcp is not None and p.tcp is not None:
        for k in ("frame", "ts_ns", "src", "dst", "sport", "dport", "seq", "start", "length",
                  "first8"):
            _same(getattr(c.tcp, k), getattr(p.tcp, k), f"tcp.{k}")


def assert_same_dissect(ub: UdpBatch, rng: np.random.Generator) -> None:
    n = ub.frame.size
    encap = (rng.random(n) < 0.2).astype(np.uint8) * 2
    text_rows = np.flatnonzero(rng.random(n) < 0.05)
    for enc in (np.zeros(n, np.uint8), encap):
        c = dissect(ub.head, ub.udp_len, enc, text_rows)
        p = _dissect_numpy(ub.head, ub.udp_len, enc, text_rows)
        for k in DatagramColumns.FIELDS:
            _same(getattr(c, k), getattr(p, k), k)


def compare_batch(walk: object, b: RecordBatch, rng: np.random.Generator,
                  budget: int = ipudp.MAX_KEPT_PAYLOADS) -> bool:
    """Both decodings of ``b`` (and of its tunnels unwrapped); whether C decoded it."""
    done = False
    for batch in (b, unwrap_tunnels(b)):
        c = ipudp._decode_compiled(walk, batch, budget)  # type: ignore[arg-type]
        p = ipudp._decode_numpy(batch, budget)
        if c is None:
            continue
        done = True
        assert_same_decode(c, p)
        assert_same_dissect(p, rng)
    return done


def batches(data: bytes) -> Iterator[RecordBatch]:
    try:
        with ByteSource(io.BytesIO(data), "x") as src:
            yield from RecordWalker(src, chunk_bytes=CHUNK)
    except CaptureError:
        return


def lab_captures() -> list[Path]:
    return sorted(LAB.glob("*.pcap"))


@pytest.mark.parametrize("path", lab_captures(), ids=lambda p: p.name)
def test_lab_captures(compiled: object, path: Path) -> None:
    rng = np.random.default_rng(1)
    n = sum(compare_batch(compiled, b, rng) for b in batches(path.read_bytes()))
    assert n > 0


def test_simulated_and_project_seeds(compiled: object) -> None:
    """The fuzz run's seeds: the example call (pcap, pcapng, gzip), lab cuts, simulated
    calls of every impairment."""
    from tests.fuzz.seeds import project_seeds

    rng = np.random.default_rng(2)
    for seed in project_seeds():
        assert sum(compare_batch(compiled, b, rng) for b in batches(seed.data)) > 0, seed.label


def test_fuzz_corpus_and_mutants(compiled: object) -> None:
    from tests.fuzz.mutate import mutant
    from tests.fuzz.seeds import project_seeds

    rng = np.random.default_rng(3)
    inputs = [p.read_bytes() for p in sorted(CORPUS.glob("*.pcap"))]
    seeds = project_seeds()
    inputs += [mutant(seeds, 11, i, bomb_mib=1).data for i in range(MUTANTS)]
    for data in inputs:
        for b in batches(data):
            compare_batch(compiled, b, rng, budget=int(rng.integers(0, 5)) * 50)


def _frames() -> list[tuple[int, bytes]]:
    pay = rtp(7, 160, 0x1234ABCD, pt=111)
    sip = b"INVITE sip:bob@example.org SIP/2.0\r\nVia: x\r\n\r\n"
    stun = bytes.fromhex("0001000c2112a442") + bytes(12) + bytes.fromhex("80220004") + b"test"
    ind = bytes.fromhex("0016000c2112a442") + bytes(12) + bytes.fromhex("00130008") + pay[:8]
    rtcp = bytes.fromhex("80c90001") + bytes(4)
    dns = bytes.fromhex("1234818000010001") + bytes(20)
    l3 = [
        udp4(payload=pay), udp4(payload=sip), udp4(payload=stun), udp4(payload=ind),
        udp4(payload=rtcp), udp4(sport=53, payload=dns), udp4(payload=b"\x40\x01\x00\x0c" + pay),
        udp6(payload=pay),
        udp6(payload=pay, ext=[IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt()]),
        udp6(payload=pay, ext=[IPv6ExtHdrRouting(), IPv6ExtHdrFragment(offset=0, m=0)]),
        udp6(payload=pay, ext=[IPv6ExtHdrFragment(offset=3, m=1)]),
        IPv6(src="2001:db8::1", dst="2001:db8::2", nh=51) / Raw(bytes([17, 1, 0, 0]) + bytes(8))
        / UDP(sport=1, dport=2) / Raw(pay),
        IP(src="10.0.0.1", dst="10.0.0.2", flags="MF") / UDP() / Raw(pay),
        IP(src="10.0.0.1", dst="10.0.0.2", options=b"\x01" * 8) / UDP() / Raw(pay),
        IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=5060, dport=5061) / Raw(sip),
        IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=443, dport=5000)
        / Raw(bytes.fromhex("160301002001") + bytes(40)),
        IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=3)
        / IPerror(src="10.0.0.2", dst="10.0.0.1") / UDPerror(sport=5004, dport=6004),
        IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6DestUnreach()
        / IPerror6(src="2001:db8::2", dst="2001:db8::1") / UDPerror(sport=5004, dport=6004),
        IP(src="10.0.0.1", dst="10.0.0.2", proto=47) / Raw(bytes(40)),
    ]
    out = []
    for pkt in l3:
        for lt in (LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL,
                   LINKTYPE_LOOP, LINKTYPE_RAW):
            out.append((lt, frame(lt, pkt)))
        out.append((LINKTYPE_ETHERNET, frame(LINKTYPE_ETHERNET, pkt, vlans=[5, 6], qinq=True)))
        out.append((LINKTYPE_IPV4 if bytes(pkt)[0] >> 4 == 4 else LINKTYPE_IPV6, bytes(pkt)))
    out.append((147, bytes(60)))  # an unsupported link type
    return out


def test_mutated_headers(compiled: object) -> None:
    """Frames of every link type and IP layout, with 0-3 of their first 90 bytes replaced
    and snapped at any length: the same columns, counters and kept payloads."""
    rnd = random.Random(5)
    rng = np.random.default_rng(5)
    base = _frames()
    for _ in range(40):
        parts, offs, caps, lts = [], [], [], []
        pos = 0
        for _ in range(200):
            lt, f = base[rnd.randrange(len(base))]
            f = bytearray(f)
            for _ in range(rnd.randrange(4)):
                i = rnd.randrange(min(len(f), 90))
                f[i] = rnd.choice((0, 1, 6, 17, 0x11, 0x2C, 0x3B, 0x45, 0x60, 0x80, 0xFF,
                                   rnd.randrange(256)))
            cap = len(f) if rnd.random() < 0.6 else rnd.randrange(len(f) + 1)
            parts.append(bytes(f[:cap]))
            offs.append(pos)
            caps.append(cap)
            lts.append(lt)
            pos += cap
        data = b"".join(parts)
        buf = np.zeros(len(data) + PAD_BYTES, dtype=np.uint8)
        buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
        n = len(offs)
        cap_a = np.array(caps, dtype=np.int64)
        b = RecordBatch(buf=buf, data_off=np.array(offs, dtype=np.int64), caplen=cap_a,
                        origlen=cap_a + rng.integers(0, 3, n), ts_ns=np.arange(n) * 1000,
                        linktype=np.array(lts, dtype=np.int32), first_frame=1 + n)
        assert compare_batch(compiled, b, rng, budget=rnd.randrange(0, 300))


def test_random_heads(compiled: object) -> None:
    """dissect on random heads and lengths (biased towards the values the tests look at)."""
    rng = np.random.default_rng(6)
    n = 20_000
    head = rng.integers(0, 256, (n, HEAD_BYTES), dtype=np.uint8)
    head[:, 0] = rng.choice([0x00, 0x01, 0x16, 0x40, 0x80, 0x90, 0xA0, 0x81, 20, 23], n)
    head[:, 1] = rng.choice([0x00, 0x01, 0xFE, 0xC8, 0xCD, 0xCF, 0x60, 0xE0, 72], n)
    head[rng.random(n) < 0.3, 4:8] = [0x21, 0x12, 0xA4, 0x42]
    head[rng.random(n) < 0.1, 16:32] = np.frombuffer(b"\xff" * 12 + b"\xfe" + b"\xff" * 3,
                                                     dtype=np.uint8)
    length = rng.choice([0, 3, 12, 13, 16, 20, 24, 40, 60, 172, 1200], n).astype(np.int32)
    ub = UdpBatch(frame=np.arange(n), ts_ns=np.arange(n), src=np.zeros((n, 16), np.uint8),
                  dst=np.zeros((n, 16), np.uint8), sport=np.zeros(n, np.int32),
                  dport=np.zeros(n, np.int32), ipver=np.full(n, 4, np.int8), udp_len=length,
                  cap_len=length, wire_len=length, head=head)
    assert_same_dissect(ub, rng)


def test_record_offsets_outside_the_buffer_fall_back(compiled: object) -> None:
    """A batch whose record offsets leave less than PAD_BYTES in the buffer is not read by
    the C loop (it returns None and the numpy decoding runs)."""
    buf = np.zeros(300, dtype=np.uint8)
    one = np.ones(1, dtype=np.int64)
    for off in (-1, 45, 10**12):
        b = RecordBatch(buf=buf, data_off=one * off, caplen=one * 10, origlen=one * 10,
                        ts_ns=one, linktype=np.ones(1, np.int32), first_frame=1)
        assert ipudp._decode_compiled(compiled, b, 10) is None  # type: ignore[arg-type]


def _walk_all(data: bytes) -> tuple[list[RecordBatch], str, str]:
    try:
        with ByteSource(io.BytesIO(data), "x") as src:
            w = RecordWalker(src, chunk_bytes=CHUNK)
            out = list(w)
            return out, repr(w.damage), repr(w.stopped)
    except CaptureError as exc:
        return [], repr(exc), ""


def test_record_walk_fields(compiled: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record walk and the record header fields (pcap_offsets, pcap_fields,
    pcapng_packets, pcapng_fields) against the Python walk and numpy gathers, on the fuzz
    seeds (pcap, pcapng, gzip) and their mutants: the same batches and the same damage."""
    from tests.fuzz.mutate import mutant, pcap_to_pcapng
    from tests.fuzz.seeds import project_seeds

    seeds = project_seeds()
    inputs = [s.data for s in seeds] + [pcap_to_pcapng(s.data) for s in seeds
                                        if s.data[:4] == b"\xd4\xc3\xb2\xa1"][:4]
    inputs += [mutant(seeds, 12, i, bomb_mib=1).data for i in range(MUTANTS)]
    for data in inputs:
        with monkeypatch.context() as m:
            m.setattr(records, "_compiled", None)
            want = _walk_all(data)
        got = _walk_all(data)
        assert got[1:] == want[1:]
        assert len(got[0]) == len(want[0])
        for g, w in zip(got[0], want[0], strict=True):
            assert g.first_frame == w.first_frame
            for k in ("buf", "data_off", "caplen", "origlen", "ts_ns", "linktype"):
                _same(getattr(g, k), getattr(w, k), k)


def test_chunk_buffers_are_reused_only_when_free() -> None:
    """A batch the caller keeps is never overwritten by later chunks (the pool reuses a
    buffer only when nothing refers to it); batches let go are read into reused buffers
    and hold the same records."""
    from tests.fuzz.seeds import project_seeds

    data = next(s.data for s in project_seeds() if s.label.startswith("sim-clean"))

    def walk() -> Iterator[RecordBatch]:
        with ByteSource(io.BytesIO(data), "x") as src:
            yield from RecordWalker(src, chunk_bytes=4096)

    kept = list(walk())  # every batch alive: no buffer can be reused
    assert len(kept) > POOL_TEST_MIN_BATCHES
    bases = set()
    for i, b in enumerate(walk()):  # each batch dropped before the next chunk is read
        k = kept[i]
        bases.add(id(b.buf.base))
        assert b.first_frame == k.first_frame
        for name in ("buf", "data_off", "caplen", "origlen", "ts_ns", "linktype"):
            _same(getattr(b, name), getattr(k, name), name)
        del b
    assert len(bases) <= records.POOL_BUFFERS + 1  # reused, not made afresh each chunk
    for k in kept:  # and the kept ones still hold their own records
        assert k.buf.base is not None
    again = list(walk())
    for a, k in zip(again, kept, strict=True):
        _same(a.buf, k.buf, "buf")
