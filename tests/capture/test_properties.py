"""Property tests of the reader: arbitrary bytes never crash it, valid random captures round
trip exactly, and a damaged capture only ever gives an AnalyzerError or a CaptureWarning."""

from __future__ import annotations

import io
import os
import time
import warnings
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.capture.ipudp import decode_batch
from analyzer.capture.reader import read_packets
from analyzer.capture.records import RecordWalker
from analyzer.capture.source import ByteSource
from analyzer.capture.table import PacketTable
from analyzer.errors import AnalyzerError, CaptureWarning
from tests.support.craft import (
    DECODED_LINKTYPES,
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    LINKTYPE_USER0,
    Rec,
    custom_block,
    epb,
    frame,
    gz,
    idb,
    isb,
    nrb,
    opb,
    pcap_bytes,
    pcap_header,
    shb,
    spb,
    udp4,
    udp6,
)

#: Wall time one read of a small input may take (a hang or a quadratic walk fails it).
TIME_LIMIT_S = 1.0
LINK_HEADER_LEN = {LINKTYPE_ETHERNET: 14, LINKTYPE_LINUX_SLL: 16, LINKTYPE_LINUX_SLL2: 20,
                   LINKTYPE_RAW: 0, LINKTYPE_NULL: 4, 108: 4}
#: Set ANALYZER_FUZZ_SCALE=20 (say) for a deeper search than the quick default.
SCALE = float(os.environ.get("ANALYZER_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])



def read_safely(data: bytes, chunk_bytes: int = 1 << 24) -> PacketTable | None:
    """Read ``data``; return the table or ``None`` after an AnalyzerError. Anything else
    (another exception, a warning that is no CaptureWarning, a slow read) fails the test."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        try:
            table: PacketTable | None = read_packets(io.BytesIO(data), name="fuzz",
                                                     chunk_bytes=chunk_bytes)
        except AnalyzerError as exc:
            assert str(exc).startswith("fuzz: ")
            table = None
    assert time.perf_counter() - t0 < TIME_LIMIT_S
    for w in log:
        assert issubclass(w.category, CaptureWarning), (w.category, str(w.message))
    if table is not None:
        assert len(table.warnings) == len(log)
    return table


# -- (a) arbitrary bytes ---------------------------------------------------------------------

MAGICS = [
    pcap_header(),
    pcap_header(big=True),
    pcap_header(nanos=True),
    pcap_header(big=True, nanos=True, linktype=LINKTYPE_RAW),
    pcap_header(linktype=LINKTYPE_NULL, snaplen=0),
    shb(),
    shb(big=True),
    shb() + idb(LINKTYPE_ETHERNET),
    shb(big=True) + idb(LINKTYPE_LINUX_SLL2, tsresol=0x94, big=True),
    b"\x0a\x0d\x0d\x0a",
    b"\xd4\xc3\xb2\xa1",
]

arbitrary = st.one_of(
    st.binary(max_size=600),
    st.builds(lambda m, b: m + b, st.sampled_from(MAGICS), st.binary(max_size=600)),
    st.builds(lambda m, b: gz(m + b), st.sampled_from(MAGICS), st.binary(max_size=300)),
    st.builds(lambda b: b"\x1f\x8b" + b, st.binary(max_size=100)),
)


@fuzz(150)
@given(data=arbitrary, chunk=st.sampled_from([1, 4096, 1 << 24]))
def test_arbitrary_bytes_never_crash(data: bytes, chunk: int) -> None:
    read_safely(data, chunk)


# -- (b) valid random pcap files round trip --------------------------------------------------

@dataclass(frozen=True)
class Sent:
    ts_ns: int
    sport: int
    dport: int
    payload_len: int
    v6: bool


@st.composite
def random_pcaps(draw: st.DrawFn) -> tuple[bytes, list[Sent], int, int, bool]:
    linktype = draw(st.sampled_from(sorted(set(DECODED_LINKTYPES.values()))))
    nanos = draw(st.booleans())
    big = draw(st.booleans())
    snaplen = draw(st.one_of(st.just(65535), st.integers(1, 120)))
    sent = []
    for _ in range(draw(st.integers(0, 12))):
        sec = draw(st.integers(0, 2**32 - 1))
        frac = draw(st.integers(0, 999_999_999))
        if not nanos:
            frac -= frac % 1000
        sent.append(Sent(sec * 1_000_000_000 + frac, draw(st.integers(0, 65535)),
                         draw(st.integers(0, 65535)), draw(st.integers(0, 1500)),
                         draw(st.booleans())))
    recs = []
    for s in sent:
        payload = b"\xab" * s.payload_len
        l3 = udp6(s.sport, s.dport, payload) if s.v6 else udp4(s.sport, s.dport, payload)
        recs.append(Rec(s.ts_ns, frame(linktype, l3)))
    data = pcap_bytes(recs, linktype=linktype, big=big, nanos=nanos, snaplen=snaplen)
    return data, sent, linktype, snaplen, big


@fuzz(80)
@given(case=random_pcaps(), chunk=st.sampled_from([4096, 1 << 24]))
def test_random_pcap_round_trips(case: tuple[bytes, list[Sent], int, int, bool],
                                 chunk: int) -> None:
    data, sent, linktype, snaplen, _big = case
    table = read_safely(data, chunk)
    assert table is not None
    assert table.records == len(sent)
    hdr = LINK_HEADER_LEN[linktype]
    whole = [s for s in sent if snaplen >= hdr + (40 if s.v6 else 20) + 8]
    assert len(table) == len(whole)
    assert table.ts_ns.tolist() == [s.ts_ns for s in whole]
    assert table.udp_len.tolist() == [s.payload_len for s in whole]
    got_ports = [(int(table.flows.sport[f]), int(table.flows.dport[f])) for f in table.flow]
    assert got_ports == [(s.sport, s.dport) for s in whole]
    c = table.counters
    assert c.short == sum(1 for s in sent if hdr < snaplen and s not in whole)
    if sent:
        assert table.t0_ns == sent[0].ts_ns
    # the decoder's captured payload length and zeroed head beyond it
    with ByteSource(io.BytesIO(data)) as src:
        batches = [decode_batch(b) for b in RecordWalker(src, chunk_bytes=chunk)]
    cap = [int(x) for b in batches for x in b.cap_len]
    want = [min(s.payload_len, snaplen - hdr - (40 if s.v6 else 20) - 8) for s in whole]
    assert cap == want
    for b in batches:
        for row, n in zip(b.head, b.cap_len, strict=True):
            assert not row[int(n):].any()


# -- (c) one damaged byte or a cut in a valid pcapng -----------------------------------------

def _rich_pcapng() -> bytes:
    p = [frame(LINKTYPE_ETHERNET, udp4(1000 + i, 2000, bytes([i]) * (30 + 7 * i)))
         for i in range(4)]
    q = frame(LINKTYPE_LINUX_SLL2, udp6(3000, 4000, b"v6" * 20))
    return b"".join([
        shb(),
        idb(LINKTYPE_ETHERNET, snaplen=200, tsresol=9, tsoffset_s=100),
        idb(LINKTYPE_RAW, tsresol=0x94),
        idb(LINKTYPE_USER0),
        nrb(),
        epb(0, 123_456_789, p[0]),
        epb(1, 987_654_321, bytes(udp4(5, 6, b"raw"))),
        epb(2, 5, b"user"),
        spb(p[1]),
        opb(0, 1_000_000_000, p[2]),
        isb(1),
        custom_block(),
        shb(big=True),
        idb(LINKTYPE_LINUX_SLL2, tsresol=6, big=True),
        epb(0, 42, q, big=True),
        spb(q, big=True),
        custom_block(big=True),
        epb(0, 43, q, origlen=1000, big=True),
    ])


RICH = _rich_pcapng()
RICH_PCAP = pcap_bytes([Rec(i * 10**9, frame(LINKTYPE_ETHERNET, udp4(i, i, bytes(i * 10))))
                        for i in range(8)])


def test_rich_pcapng_is_valid() -> None:
    table = read_safely(RICH)
    assert table is not None and len(table) == 7 and table.records == 8
    assert table.warnings == ("fuzz: skipped 1 packets of unsupported link type 147",)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from([RICH, RICH_PCAP]))
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))):]
    out = bytes(data)
    return gz(out) if draw(st.integers(0, 4)) == 0 else out


@fuzz(300)
@given(data=damaged(), chunk=st.sampled_from([1, 1 << 24]))
def test_damaged_capture_gives_only_analyzer_errors(data: bytes, chunk: int) -> None:
    read_safely(data, chunk)


@fuzz(100)
@given(pos=st.integers(0, len(RICH) + 40), flip=st.integers(0, 255))
def test_damaged_gzip_gives_only_analyzer_errors(pos: int, flip: int) -> None:
    data = bytearray(gz(RICH))
    if pos < len(data):
        data[pos] ^= flip
    else:
        data += bytes([flip]) * (pos - len(data))
    read_safely(bytes(data))


# -- (d) chunk boundaries never change the outcome, even for damaged files --------------------

def _outcome(data: bytes, chunk: int) -> tuple[object, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t = read_packets(io.BytesIO(data), name="fuzz", chunk_bytes=chunk)
        except AnalyzerError as exc:
            return (type(exc).__name__, str(exc))
    return ("ok", t.records, t.frame.tolist(), t.ts_ns.tolist(), t.flow.tolist(),
            t.udp_len.tolist(), t.warnings, t.counters.to_dict(),
            t.t0_ns)


def _big_pcapng() -> tuple[bytes, list[int]]:
    """A pcapng of several chunks (4 KiB each when read with ``chunk_bytes=4096``) and the
    offsets of its block headers, where damage matters most."""
    blocks = [shb(), idb(LINKTYPE_ETHERNET, tsresol=9)]
    for i in range(12):
        blocks.append(epb(0, i * 1000, frame(LINKTYPE_ETHERNET, udp4(i, 9, bytes(300 * i)))))
        if i == 5:
            blocks.append(idb(LINKTYPE_RAW, tsresol=6))
        if i >= 5:
            blocks.append(epb(1, i, bytes(udp6(i, 8, b"6" * 500))))
        if i == 8:
            blocks += [shb(big=True), idb(LINKTYPE_NULL, big=True)]
            blocks.append(epb(0, 7, frame(LINKTYPE_NULL, udp4(1, 2, bytes(2000))), big=True))
    offsets, pos = [], 0
    for b in blocks:
        offsets.append(pos)
        pos += len(b)
    return b"".join(blocks), offsets


BIG, BIG_OFFSETS = _big_pcapng()


@dataclass(frozen=True)
class Damage:
    """Bytes to overwrite (offset, value) and where to cut, applied to :data:`BIG`."""

    writes: tuple[tuple[int, int], ...]
    cut: int | None

    def apply(self, base: bytes) -> bytes:
        data = bytearray(base)
        for i, v in self.writes:
            data[min(i, len(data) - 1)] = v
        return bytes(data if self.cut is None else data[: self.cut])


@st.composite
def big_damage(draw: st.DrawFn) -> Damage:
    writes = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            i = draw(st.sampled_from(BIG_OFFSETS)) + draw(st.integers(0, 31))
        else:
            i = draw(st.integers(0, len(BIG) - 1))
        writes.append((i, draw(st.integers(0, 255))))
    cut = draw(st.integers(0, len(BIG))) if draw(st.integers(0, 3)) == 0 else None
    return Damage(tuple(writes), cut)


def test_big_pcapng_spans_chunks() -> None:
    assert len(BIG) > 3 * 4096
    assert _outcome(BIG, 4096) == _outcome(BIG, 1 << 24)
    assert _outcome(BIG, 4096)[0] == "ok"


@fuzz(150)
@given(damage=big_damage())
def test_chunk_size_never_changes_the_outcome(damage: Damage) -> None:
    data = damage.apply(BIG)
    assert _outcome(data, 4096) == _outcome(data, 1 << 24)
