"""Seeded mutation of pcap, pcapng and gzip captures, for the fuzz harness.

Input ``i`` of run seed ``S`` over a given seed list is always the same bytes::

    seeds = [Seed("ex400", pcap_bytes), Seed("ex400.gz", pcap_bytes, gz=True)]
    m = mutant(seeds, run_seed=1, index=17)   # Mutant(data=..., kind="ts_back45", ...)

A :class:`Seed` holds the *uncompressed* capture; ``gz=True`` means every mutant of it is
gzip-compressed again after the mutation. Structure-aware mutations parse the record (pcap)
or block (pcapng) boundaries of the input themselves, with :mod:`struct`, and edit lengths,
timestamps and record order; byte-level ones (bit flips, interesting values, truncation,
junk, splices) need no structure. Nothing here imports :mod:`analyzer`.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAP_GLOBAL_HEADER_LEN = 24
PCAP_RECORD_HEADER_LEN = 16
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_IDB = 0x00000001
PCAPNG_OPB = 0x00000002
PCAPNG_SPB = 0x00000003
PCAPNG_EPB = 0x00000006
PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D
PCAPNG_PACKET_BLOCKS = (PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB)
OPT_IF_TSRESOL = 9
GZIP_MAGIC = b"\x1f\x8b"
LINKTYPE_ETHERNET = 1

DAY_S = 86_400
BACK_45_DAYS_S = 45 * DAY_S
AHEAD_30_YEARS_S = int(30 * 365.25 * DAY_S)
#: A record walk gives up beyond this length (the file is then treated as raw bytes).
MAX_PARSED_RECORD = 1 << 24

INTERESTING_8 = (0x00, 0x01, 0x7F, 0x80, 0xFF)
INTERESTING_16 = (0x0000, 0x0001, 0x7FFF, 0x8000, 0xFFFF)
INTERESTING_32 = (0x00000000, 0x00000001, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x0000FFFF,
                  0x00010000, 1 << 20, (1 << 20) + 1)
#: Link types the reader knows plus some it does not.
LINKTYPES = (0, 1, 101, 108, 113, 147, 228, 229, 276, 0x7FFF, 0xFFFF)


@dataclass(frozen=True)
class Seed:
    """One seed capture: ``data`` uncompressed; ``gz`` recompresses every mutant."""

    name: str
    data: bytes
    gz: bool = False

    @property
    def label(self) -> str:
        return self.name + (".gz" if self.gz and not self.name.endswith(".gz") else "")

    def as_input(self) -> bytes:
        return gzip_bytes(self.data) if self.gz else self.data


@dataclass(frozen=True)
class Mutant:
    """Input ``index`` of run seed ``run_seed``: its bytes, what was done and to what."""

    data: bytes
    kind: str  # the first mutation applied (the row of the outcome table)
    chain: tuple[str, ...]  # every mutation applied, in order
    seed: str  # the seed's label
    run_seed: int
    index: int

    @property
    def name(self) -> str:
        return f"{self.seed}#{self.run_seed}:{self.index}"


# -- gzip ------------------------------------------------------------------------------------
def gzip_bytes(data: bytes, level: int = 6) -> bytes:
    """One gzip member with a zero mtime (so the bytes depend only on ``data``)."""
    c = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def zero_bomb(head: bytes, zero_mib: int) -> bytes:
    """``head`` then ``zero_mib`` MiB of zero bytes, gzip-compressed (about 1 KiB per MiB)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    mib = bytes(1 << 20)
    parts = [c.compress(head)]
    parts.extend(c.compress(mib) for _ in range(zero_mib))
    parts.append(c.flush())
    return b"".join(parts)


def gunzip_prefix(data: bytes, limit: int = 64 << 20) -> bytes:
    """What a gzip stream decompresses to (at most ``limit`` bytes; damage ends it)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return d.decompress(data, limit)
    except zlib.error:
        return b""


# -- layout: where the records are -------------------------------------------------------------
@dataclass
class Layout:
    """A capture cut at its record (pcap) or block (pcapng) boundaries.

    ``head`` is the pcap global header (empty for pcapng, whose section header is a block);
    ``blocks`` the whole records or blocks; ``tail`` bytes after the last whole one.
    ``units_per_s`` is the timestamp resolution of the (first) interface.
    """

    fmt: str
    endian: str
    head: bytes
    blocks: list[bytes]
    tail: bytes = b""
    units_per_s: int = 1_000_000
    types: list[int] = field(default_factory=list)  # pcapng block types

    def packets(self) -> list[int]:
        """Indices into :attr:`blocks` of the packet records."""
        if self.fmt == "pcap":
            return list(range(len(self.blocks)))
        return [i for i, t in enumerate(self.types) if t in PCAPNG_PACKET_BLOCKS]

    def to_bytes(self) -> bytes:
        return self.head + b"".join(self.blocks) + self.tail

    def ts_offset(self, i: int) -> int | None:
        """Byte offset in block ``i`` of its timestamp (pcapng: the high word), if it has one."""
        if self.fmt == "pcap":
            return 0
        return 12 if self.types[i] in (PCAPNG_EPB, PCAPNG_OPB) else None

    def get_ts(self, i: int) -> int | None:
        off = self.ts_offset(i)
        b = self.blocks[i]
        if off is None or len(b) < off + 8:
            return None
        hi, lo = struct.unpack_from(self.endian + "II", b, off)
        return hi * self.units_per_s + lo if self.fmt == "pcap" else (hi << 32) | lo

    def set_ts(self, i: int, ticks: int) -> None:
        off = self.ts_offset(i)
        b = bytearray(self.blocks[i])
        if off is None or len(b) < off + 8:
            return
        ticks = max(ticks, 0)
        if self.fmt == "pcap":
            hi, lo = (ticks // self.units_per_s) & 0xFFFFFFFF, ticks % self.units_per_s
        else:
            hi, lo = (ticks >> 32) & 0xFFFFFFFF, ticks & 0xFFFFFFFF
        struct.pack_into(self.endian + "II", b, off, hi, lo)
        self.blocks[i] = bytes(b)

    def packet_data_offset(self, i: int) -> int:
        if self.fmt == "pcap":
            return PCAP_RECORD_HEADER_LEN
        return {PCAPNG_EPB: 28, PCAPNG_OPB: 28, PCAPNG_SPB: 12}.get(self.types[i], 8)


def parse_layout(data: bytes) -> Layout | None:
    """The record/block layout of a pcap or pcapng file, or None if it is neither."""
    if len(data) < 12:
        return None
    for endian in "<>":
        magic = struct.unpack_from(endian + "I", data, 0)[0]
        if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS) and len(data) >= PCAP_GLOBAL_HEADER_LEN:
            return _parse_pcap(data, endian, 1_000_000_000 if magic == PCAP_MAGIC_NS
                               else 1_000_000)
    if struct.unpack_from("<I", data, 0)[0] == PCAPNG_SHB:
        bom = struct.unpack_from("<I", data, 8)[0]
        if bom == PCAPNG_BYTE_ORDER_MAGIC:
            return _parse_pcapng(data, "<")
        if bom == 0x4D3C2B1A:
            return _parse_pcapng(data, ">")
    return None


def _parse_pcap(data: bytes, endian: str, units: int) -> Layout:
    blocks = []
    pos, n = PCAP_GLOBAL_HEADER_LEN, len(data)
    while pos + PCAP_RECORD_HEADER_LEN <= n:
        caplen = struct.unpack_from(endian + "I", data, pos + 8)[0]
        end = pos + PCAP_RECORD_HEADER_LEN + caplen
        if caplen > MAX_PARSED_RECORD or end > n:
            break
        blocks.append(data[pos:end])
        pos = end
    return Layout("pcap", endian, data[:PCAP_GLOBAL_HEADER_LEN], blocks, data[pos:], units)


def _idb_units(block: bytes, endian: str) -> int:
    p, end = 16, len(block) - 4
    while p + 4 <= end:
        code, olen = struct.unpack_from(endian + "HH", block, p)
        if code == 0:
            break
        if code == OPT_IF_TSRESOL and olen >= 1 and p + 4 < len(block):
            r = block[p + 4]
            return 2 ** (r & 0x7F) if r & 0x80 else 10 ** min(r, 18)
        p += 4 + ((olen + 3) & ~3)
    return 1_000_000


def _parse_pcapng(data: bytes, endian: str) -> Layout:
    blocks: list[bytes] = []
    types: list[int] = []
    units = None
    pos, n = 0, len(data)
    while pos + 12 <= n:
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if blen < 12 or blen % 4 or blen > MAX_PARSED_RECORD or pos + blen > n:
            break
        block = data[pos: pos + blen]
        if btype == PCAPNG_IDB and units is None:
            units = _idb_units(block, endian)
        blocks.append(block)
        types.append(btype)
        pos += blen
    return Layout("pcapng", endian, b"", blocks, data[pos:], units or 1_000_000, types)


# -- pcap -> pcapng ----------------------------------------------------------------------------
def _pcapng_block(btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    blen = 12 + len(body)
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


def pcap_to_pcapng(pcap: bytes, *, nanosecond: bool = False) -> bytes:
    """The same packets as a little-endian pcapng file (one SHB, one IDB, EPBs);
    ``nanosecond`` writes an ``if_tsresol`` of 9 and timestamps in ns."""
    lay = parse_layout(pcap)
    if lay is None or lay.fmt != "pcap":
        raise ValueError("not a pcap file")
    e = lay.endian
    linktype = struct.unpack_from(e + "I", lay.head, 20)[0] & 0xFFFF
    snaplen = struct.unpack_from(e + "I", lay.head, 16)[0]
    out = [_pcapng_block(PCAPNG_SHB, struct.pack("<IHHq", PCAPNG_BYTE_ORDER_MAGIC, 1, 0, -1))]
    opts = b""
    units = 1_000_000
    if nanosecond:
        opts = struct.pack("<HHB3x", OPT_IF_TSRESOL, 1, 9) + struct.pack("<HH", 0, 0)
        units = 1_000_000_000
    out.append(_pcapng_block(PCAPNG_IDB, struct.pack("<HHI", linktype, 0, snaplen) + opts))
    for rec in lay.blocks:
        sec, frac, caplen, origlen = struct.unpack_from(e + "IIII", rec, 0)
        ticks = (sec * lay.units_per_s + frac) * units // lay.units_per_s
        body = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, caplen, origlen)
        out.append(_pcapng_block(PCAPNG_EPB, body + rec[PCAP_RECORD_HEADER_LEN:]))
    return b"".join(out)


def first_records(pcap: bytes, n: int) -> bytes:
    """The global header and the first ``n`` records of a pcap file (a short seed)."""
    lay = parse_layout(pcap)
    if lay is None or lay.fmt != "pcap":
        raise ValueError("not a pcap file")
    return lay.head + b"".join(lay.blocks[:n])


# -- the mutations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What mutations may use besides the input: other seeds (splices), the bomb size."""

    seeds: Sequence[Seed]
    bomb_mib: int = 4


Mutation = Callable[[bytes, random.Random, Context], "bytes | None"]


def _pick_value(rng: random.Random) -> tuple[str, int]:
    width = rng.choice("BHI")
    table = {"B": INTERESTING_8, "H": INTERESTING_16, "I": INTERESTING_32}[width]
    return width, rng.choice(table)


def _pos(data: bytes, rng: random.Random, width: int = 1) -> int:
    """A byte offset, biased towards the headers at the start half of the time."""
    hi = max(len(data) - width, 0)
    return rng.randint(0, min(hi, 96)) if rng.random() < 0.5 else rng.randint(0, hi)


def m_bitflip(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    if not data:
        return None
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        b[_pos(b, rng)] ^= 1 << rng.randrange(8)
    return bytes(b)


def m_interesting(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    width, value = _pick_value(rng)
    size = struct.calcsize(width)
    if len(data) < size:
        return None
    b = bytearray(data)
    struct.pack_into(rng.choice("<>") + width, b, _pos(b, rng, size), value)
    return bytes(b)


def m_truncate(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    if len(data) < 2:
        return None
    if rng.random() < 0.3:
        return data[: rng.randint(0, min(len(data) - 1, 64))]
    return data[: rng.randint(len(data) // 2, len(data) - 1)]


def m_junk(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    lay = parse_layout(data)
    if lay is not None and lay.blocks and rng.random() < 0.5:  # at a record boundary
        i = rng.randint(0, len(lay.blocks))
        pos = len(lay.head) + sum(len(b) for b in lay.blocks[:i])
    else:
        pos = rng.randint(0, len(data))
    n = rng.choice((1, 3, 4, 16, 64, 256))
    junk = (bytes([rng.choice(INTERESTING_8)]) * n if rng.random() < 0.5
            else rng.randbytes(n))
    return data[:pos] + junk + data[pos:]


def m_splice(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    other = rng.choice(ctx.seeds).data
    a, b = parse_layout(data), parse_layout(other)
    if a is not None and b is not None and a.fmt == b.fmt == "pcap" and rng.random() < 0.6:
        i = rng.randint(0, len(a.blocks))
        j = rng.randint(0, len(b.blocks))
        return a.head + b"".join(a.blocks[:i] + b.blocks[j:])
    if not data or not other:
        return None
    return data[: rng.randint(0, len(data))] + other[rng.randint(0, len(other)):]


def m_header(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    """Edit a file-level field: pcap magic/version/snaplen/linktype; pcapng SHB/IDB fields."""
    lay = parse_layout(data)
    if lay is None:
        return None
    b = bytearray(data)
    e = lay.endian
    if lay.fmt == "pcap":
        what = rng.choice(("magic", "version", "snaplen", "linktype", "linktype"))
        if what == "magic":
            struct.pack_into(rng.choice("<>") + "I", b, 0,
                             rng.choice((PCAP_MAGIC_US, PCAP_MAGIC_NS, 0xA1B2CD34)))
        elif what == "version":
            struct.pack_into(e + "HH", b, 4, rng.choice((0, 1, 2, 0xFFFF)), rng.choice((0, 4)))
        elif what == "snaplen":
            struct.pack_into(e + "I", b, 16, rng.choice(INTERESTING_32))
        else:
            struct.pack_into(e + "I", b, 20, rng.choice(LINKTYPES) | rng.choice((0, 0x10000000)))
        return bytes(b)
    idbs = [i for i, t in enumerate(lay.types) if t == PCAPNG_IDB]
    if not idbs or rng.random() < 0.3:  # section header: version or section length
        if len(b) < 24:  # a header cut short by an earlier mutation: nothing to edit
            return bytes(b)
        off = rng.choice((12, 16))
        struct.pack_into(e + ("HH" if off == 12 else "q"), b, off,
                         *((rng.choice((0, 1, 2)), 0) if off == 12 else (rng.choice((-1, 0, 8)),)))
        return bytes(b)
    i = rng.choice(idbs)
    start = sum(len(x) for x in lay.blocks[:i])
    if rng.random() < 0.6:
        struct.pack_into(e + "H", b, start + 8, rng.choice(LINKTYPES))
    else:  # the time resolution option, if the IDB carries one at the usual place
        if len(lay.blocks[i]) >= 24 and struct.unpack_from(e + "H", b, start + 16)[0] == 9:
            b[start + 20] = rng.choice((0, 6, 9, 19, 0x7F, 0x80, 0x8A, 0xBF, 0xFF))
        else:
            struct.pack_into(e + "I", b, start + 12, rng.choice(INTERESTING_32))
    return bytes(b)


def m_record_len(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    """pcap: a record's caplen/origlen; pcapng: a block's leading or trailing length."""
    lay = parse_layout(data)
    if lay is None or not lay.blocks:
        return None
    i = rng.randrange(len(lay.blocks))
    blk = bytearray(lay.blocks[i])
    e = lay.endian
    if lay.fmt == "pcap":
        caplen = len(blk) - PCAP_RECORD_HEADER_LEN
        off = rng.choice((8, 8, 12))
        value = rng.choice((*INTERESTING_32, caplen + 1, max(caplen - 1, 0), caplen * 2))
        struct.pack_into(e + "I", blk, off, value)
    else:
        blen = len(blk)
        value = rng.choice((*INTERESTING_32, blen + 4, blen - 4, blen + 1, 8, 12, 28))
        where = rng.choice(("lead", "trail", "both", "caplen"))
        if where == "caplen" and lay.types[i] in (PCAPNG_EPB, PCAPNG_OPB) and blen >= 28:
            struct.pack_into(e + "I", blk, 20, rng.choice((*INTERESTING_32, blen)))
        else:
            if where in ("lead", "both", "caplen"):
                struct.pack_into(e + "I", blk, 4, value & 0xFFFFFFFF)
            if where in ("trail", "both"):
                struct.pack_into(e + "I", blk, blen - 4, value & 0xFFFFFFFF)
    lay.blocks[i] = bytes(blk)
    return lay.to_bytes()


def m_block_type(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    """pcapng: turn one block into another type (packet <-> interface, section, unknown)."""
    lay = parse_layout(data)
    if lay is None or lay.fmt != "pcapng" or len(lay.blocks) < 2:
        return None
    i = rng.randrange(1, len(lay.blocks))
    blk = bytearray(lay.blocks[i])
    new = rng.choice((PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB, PCAPNG_IDB, PCAPNG_SHB, 5, 0xBAD,
                      0x80000001))
    struct.pack_into(lay.endian + "I", blk, 0, new)
    if new in (PCAPNG_EPB, PCAPNG_OPB) and len(blk) >= 12:  # a bad interface id, sometimes
        struct.pack_into(lay.endian + "I", blk, 8, rng.choice((0, 0, 1, 0xFFFF, 0xFFFFFFFF)))
    lay.blocks[i] = bytes(blk)
    return lay.to_bytes()


def _timed(lay: Layout | None) -> list[int]:
    if lay is None:
        return []
    return [i for i in lay.packets() if lay.get_ts(i) is not None]


def _shift_one(seconds: int) -> Mutation:
    def shift(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
        lay = parse_layout(data)
        idx = _timed(lay)
        if lay is None or not idx:
            return None
        i = rng.choice(idx)
        lay.set_ts(i, (lay.get_ts(i) or 0) + seconds * lay.units_per_s)
        return lay.to_bytes()
    return shift


def m_ts_zero(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    lay = parse_layout(data)
    idx = _timed(lay)
    if lay is None or not idx:
        return None
    for i in rng.sample(idx, min(len(idx), rng.choice((1, 1, 3)))):
        lay.set_ts(i, 0)
    return lay.to_bytes()


def m_ts_step(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    """A clock jump: every packet from one on moves by the same (large or small) step."""
    lay = parse_layout(data)
    idx = _timed(lay)
    if lay is None or not idx:
        return None
    step_s = rng.choice((-BACK_45_DAYS_S, AHEAD_30_YEARS_S, -1, -3600, 3600, 1 << 31))
    k = rng.randrange(len(idx))
    for i in idx[k:]:
        lay.set_ts(i, (lay.get_ts(i) or 0) + step_s * lay.units_per_s)
    return lay.to_bytes()


def m_ts_garbage(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    """Raw timestamp words set to interesting values (a fraction >= 1 s, all ones, ...)."""
    lay = parse_layout(data)
    idx = _timed(lay)
    if lay is None or not idx:
        return None
    i = rng.choice(idx)
    off = lay.ts_offset(i) or 0
    blk = bytearray(lay.blocks[i])
    struct.pack_into(lay.endian + "I", blk, off + rng.choice((0, 4)),
                     rng.choice((*INTERESTING_32, 999_999, 1_000_000, 1_000_000_000)))
    lay.blocks[i] = bytes(blk)
    return lay.to_bytes()


def _packet_layout(data: bytes, least: int) -> tuple[Layout, list[int]] | None:
    lay = parse_layout(data)
    if lay is None:
        return None
    idx = lay.packets()
    return (lay, idx) if len(idx) >= least else None


def m_swap(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    got = _packet_layout(data, 2)
    if got is None:
        return None
    lay, idx = got
    i, j = rng.sample(idx, 2)
    lay.blocks[i], lay.blocks[j] = lay.blocks[j], lay.blocks[i]
    return lay.to_bytes()


def m_duplicate(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    got = _packet_layout(data, 1)
    if got is None:
        return None
    lay, idx = got
    i = rng.choice(idx)
    copies = rng.choice((1, 1, 2, 50))
    at = i if rng.random() < 0.5 else rng.randint(0, len(lay.blocks))
    lay.blocks[at:at] = [lay.blocks[i]] * copies
    if lay.types:
        lay.types[at:at] = [lay.types[i]] * copies
    return lay.to_bytes()


def m_shuffle(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    got = _packet_layout(data, 3)
    if got is None:
        return None
    lay, idx = got
    if rng.random() < 0.5:  # a window of neighbours
        w = rng.randint(2, min(16, len(idx)))
        k = rng.randint(0, len(idx) - w)
        idx = idx[k: k + w]
    moved = [lay.blocks[i] for i in idx]
    rng.shuffle(moved)
    for i, b in zip(idx, moved, strict=True):
        lay.blocks[i] = b
    return lay.to_bytes()


def m_drop(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    got = _packet_layout(data, 2)
    if got is None:
        return None
    lay, idx = got
    k = rng.randint(0, len(idx) - 1)
    gone = set(idx[k: k + rng.choice((1, 10, len(idx)))])
    lay.blocks = [b for i, b in enumerate(lay.blocks) if i not in gone]
    lay.types = [t for i, t in enumerate(lay.types) if i not in gone]
    return lay.to_bytes()


def m_packet_field(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    """An interesting value inside one packet's first 64 bytes (link, IP, UDP, RTP headers)."""
    got = _packet_layout(data, 1)
    if got is None:
        return None
    lay, idx = got
    i = rng.choice(idx)
    blk = bytearray(lay.blocks[i])
    start = lay.packet_data_offset(i)
    width, value = _pick_value(rng)
    size = struct.calcsize(width)
    if len(blk) < start + size:
        return None
    off = rng.randint(start, min(len(blk) - size, start + 64))
    struct.pack_into(">" + width, blk, off, value)
    lay.blocks[i] = bytes(blk)
    return lay.to_bytes()


def m_to_pcapng(data: bytes, rng: random.Random, ctx: Context) -> bytes | None:
    lay = parse_layout(data)
    if lay is None or lay.fmt != "pcap":
        return None
    return pcap_to_pcapng(data, nanosecond=rng.random() < 0.5)


#: Mutations of the uncompressed capture, with their weights.
MUTATIONS: dict[str, tuple[Mutation, int]] = {
    "bitflip": (m_bitflip, 10),
    "interesting": (m_interesting, 8),
    "truncate": (m_truncate, 5),
    "junk": (m_junk, 4),
    "splice": (m_splice, 4),
    "header": (m_header, 5),
    "record_len": (m_record_len, 8),
    "block_type": (m_block_type, 2),
    "ts_back45": (_shift_one(-BACK_45_DAYS_S), 6),
    "ts_future30": (_shift_one(AHEAD_30_YEARS_S), 6),
    "ts_zero": (m_ts_zero, 4),
    "ts_step": (m_ts_step, 4),
    "ts_garbage": (m_ts_garbage, 3),
    "swap_records": (m_swap, 6),
    "dup_records": (m_duplicate, 4),
    "shuffle_records": (m_shuffle, 4),
    "drop_records": (m_drop, 3),
    "packet_field": (m_packet_field, 8),
    "to_pcapng": (m_to_pcapng, 1),
}
#: Mutations that produce the gzip stream themselves, with their weights.
GZIP_MUTATIONS = {"gzip_truncate": 3, "gzip_corrupt": 3, "gzip_concat": 2, "gzip_bomb": 1}


def _gzip_mutation(kind: str, data: bytes, rng: random.Random, ctx: Context) -> bytes:
    if kind == "gzip_bomb":
        lay = parse_layout(data)
        head = lay.head if lay is not None and lay.fmt == "pcap" else \
            struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)
        if lay is not None and lay.fmt == "pcap" and rng.random() < 0.5:
            head += b"".join(lay.blocks[: rng.randint(0, len(lay.blocks))])
        return zero_bomb(head, ctx.bomb_mib)
    gz = gzip_bytes(data, rng.choice((1, 6, 9)))
    if kind == "gzip_truncate":
        return gz[: rng.randint(0, len(gz) - 1)]
    if kind == "gzip_corrupt":
        b = bytearray(gz)
        for _ in range(rng.choice((1, 2, 8))):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    # gzip_concat: a second member (of another seed, or of garbage), or zero padding
    tail = rng.choice((gzip_bytes(rng.choice(ctx.seeds).data), bytes(512),
                       gzip_bytes(rng.randbytes(64)), GZIP_MAGIC + rng.randbytes(30)))
    return gz + tail


def _choose(rng: random.Random, table: dict[str, int]) -> str:
    names = list(table)
    return rng.choices(names, weights=[table[n] for n in names])[0]


def mutate(seed: Seed, rng: random.Random, ctx: Context) -> tuple[bytes, tuple[str, ...]]:
    """One mutant of ``seed``: its bytes and the mutations applied."""
    weights = {k: w for k, (_, w) in MUTATIONS.items()}
    wrap = seed.gz
    if seed.gz or rng.random() < 0.04:  # gzip kinds: mostly for gzip seeds, now and then else
        gz_kinds = {**GZIP_MUTATIONS, "gzip_wrap": 4 if not seed.gz else 0}
        pick = _choose(rng, {**weights, **gz_kinds}) if seed.gz else _choose(rng, gz_kinds)
        if pick in GZIP_MUTATIONS:
            return _gzip_mutation(pick, seed.data, rng, ctx), (pick,)
        wrap = True
    data, chain = seed.data, []
    for _ in range(1 + (rng.random() < 0.25) + (rng.random() < 0.1)):
        for _attempt in range(4):
            kind = _choose(rng, weights)
            out = MUTATIONS[kind][0](data, rng, ctx)
            if out is not None:
                data = out
                chain.append(kind)
                break
    if not chain:  # nothing applied (an empty or tiny input)
        chain.append("none")
    if wrap:
        data = gzip_bytes(data)
        chain.append("gzip_wrap")
    return data, tuple(chain)


def mutant(seeds: Sequence[Seed], run_seed: int, index: int, *, bomb_mib: int = 4) -> Mutant:
    """Input ``index`` of run ``run_seed``: the same bytes on every machine and run."""
    rng = random.Random(f"analyzer-fuzz/{run_seed}/{index}")
    seed = seeds[rng.randrange(len(seeds))]
    data, chain = mutate(seed, rng, Context(seeds, bomb_mib))
    return Mutant(data, chain[0], chain, seed.label, run_seed, index)
