"""Reading a whole capture into a :class:`PacketTable`, chunk by chunk."""

from __future__ import annotations

import os
import queue
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from types import ModuleType
from typing import BinaryIO, TypeVar

import numpy as np
from numpy.typing import DTypeLike

from analyzer.capture import records as _records
from analyzer.capture import table as _table
from analyzer.capture.dissect import DatagramColumns, dissect
from analyzer.capture.ipudp import (
    HEAD_BYTES,
    MAX_KEPT_PAYLOADS,
    DecodeCounters,
    IcmpError,
    UdpBatch,
    decode_batch,
)
from analyzer.capture.linklayer import SUPPORTED_LINKTYPES
from analyzer.capture.pcapdroid import PcapdroidTagger
from analyzer.capture.records import (
    DEFAULT_CHUNK_BYTES,
    MAX_EMPTY_RECORDS,
    RecordBatch,
    RecordWalker,
)
from analyzer.capture.source import ByteSource
from analyzer.capture.table import FlowTable, PacketTable, flow_hash, udp_length
from analyzer.capture.tunnels import may_carry, unwrap_tunnels
from analyzer.capture.turntcp import TurnTcpReassembler, TurnTcpRows
from analyzer.errors import (
    CaptureWarning,
    TruncatedCapture,
    TruncatedCaptureWarning,
    UnsupportedLinkType,
)

ProgressFn = Callable[[int, int | None], None]
T = TypeVar("T")
#: App evidence payloads (DNS, STUN attributes, TLS ClientHello) kept per capture.
MAX_HINTS = 4096

KEY_BYTES = 37  # src 16, dst 16, sport 2, dport 2 (big-endian), proto 1


def _flow_keys(src: np.ndarray, dst: np.ndarray, sport: np.ndarray, dport: np.ndarray,
               proto: np.ndarray) -> np.ndarray:
    """Each row's flow key as ``KEY_BYTES`` bytes."""
    n = sport.size
    key = np.empty((n, KEY_BYTES), dtype=np.uint8)
    key[:, :16] = src
    key[:, 16:32] = dst
    key[:, 32] = sport >> 8
    key[:, 33] = sport & 0xFF
    key[:, 34] = dport >> 8
    key[:, 35] = dport & 0xFF
    key[:, 36] = proto
    return key


class _FlowIndex:
    """Maps flow keys to dense ids (in order of first appearance) across batches (the
    numpy fallback of :class:`_CompiledFlowMap`, and its reference in the tests).

    Numpy only, no Python object per flow (a port scan or a busy NAT has millions of flows):
    the keys seen so far are rows of one growing byte array, found again through sorted
    64-bit hashes and confirmed byte for byte, so a hash collision never merges two flows.
    The sorted hashes are kept as a few runs of doubling sizes (merged like a binary
    counter), so adding a batch's new flows costs O(new), not a re-sort of every known flow.
    """

    def __init__(self) -> None:
        self.n = 0
        self._keys = np.zeros((1024, KEY_BYTES), dtype=np.uint8)
        #: sorted (hashes, ids) runs, largest first
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    @property
    def keys(self) -> np.ndarray:
        return self._keys[: self.n]

    def assign(self, src: np.ndarray, dst: np.ndarray, sport: np.ndarray, dport: np.ndarray,
               proto: np.ndarray) -> np.ndarray:
        n = sport.size
        if n == 0:
            return np.zeros(0, dtype=np.int32)
        key = _flow_keys(src, dst, sport, dport, proto)
        h = flow_hash(src, dst, sport, dport, proto)
        out = np.full(n, -1, dtype=np.int32)
        for run in self._runs:
            rows = np.flatnonzero(out < 0)
            if not rows.size:
                break
            out[rows] = self._lookup(run, key[rows], h[rows])
        rows = np.flatnonzero(out < 0)
        if rows.size:
            out[rows] = self._add(key[rows], h[rows])
        return out

    def _lookup(self, run: tuple[np.ndarray, np.ndarray], key: np.ndarray, h: np.ndarray
                ) -> np.ndarray:
        """Ids of the rows whose flow is in ``run``, -1 elsewhere."""
        known_h, known_id = run
        out = np.full(h.size, -1, dtype=np.int32)
        lo = np.searchsorted(known_h, h, side="left")
        hi = np.searchsorted(known_h, h, side="right")
        r1 = np.flatnonzero(hi - lo == 1)  # the usual case: one known flow with this hash
        cand = known_id[lo[r1]]
        same = (self._keys[cand] == key[r1]).all(axis=1)
        out[r1[same]] = cand[same]
        for r in np.flatnonzero(hi - lo > 1):  # a hash shared by several flows: rare
            ids = known_id[lo[r]: hi[r]]
            match = ids[(self._keys[ids] == key[r]).all(axis=1)]
            if match.size:
                out[r] = match[0]
        return out

    def _add(self, key: np.ndarray, h: np.ndarray) -> np.ndarray:
        """New ids for the rows of flows not seen before (exact key grouping)."""
        kv = np.ascontiguousarray(key).view(np.dtype((np.void, KEY_BYTES))).ravel()
        _, first, inv = np.unique(kv, return_index=True, return_inverse=True)
        inv = inv.ravel()
        order = np.argsort(first, kind="stable")  # ids in order of first appearance
        rank = np.empty(first.size, dtype=np.int32)
        rank[order] = np.arange(first.size, dtype=np.int32)
        new_first = first[order]
        m = new_first.size
        if self.n + m > self._keys.shape[0]:
            grown = np.zeros((max(2 * self._keys.shape[0], self.n + m), KEY_BYTES), np.uint8)
            grown[: self.n] = self._keys[: self.n]
            self._keys = grown
        self._keys[self.n: self.n + m] = key[new_first]
        ids = np.arange(self.n, self.n + m, dtype=np.int32)
        self.n += m
        nh = h[new_first]
        srt = np.argsort(nh, kind="stable")
        run = (nh[srt], ids[srt])
        while self._runs and self._runs[-1][0].size <= 2 * run[0].size:
            ph, pid = self._runs.pop()
            mh, mid = np.concatenate([ph, run[0]]), np.concatenate([pid, run[1]])
            srt = np.argsort(mh, kind="stable")  # two sorted runs: a linear merge
            run = (mh[srt], mid[srt])
        self._runs.append(run)
        return (ids[rank])[inv]

    def table(self) -> FlowTable:
        # a view: the buffer's unused tail was never written, so it holds no memory
        return flow_table(self.keys)


class _CompiledFlowMap:
    """:class:`_FlowIndex` in compiled code (``flow_assign`` in ``_walk.c``): the keys are
    rows of one growing byte array, found again through an open-addressing table of ids
    under the same salted hash and confirmed byte for byte. Same ids, same table; the
    reverse directions come from the same map at the end."""

    #: First sizes (both grow by doubling): key rows, and id slots (a power of two).
    INITIAL_KEYS = 1024
    INITIAL_SLOTS = 4096

    def __init__(self, walk: ModuleType) -> None:
        self._walk = walk
        self.n = 0
        self._keys = np.zeros((self.INITIAL_KEYS, KEY_BYTES), dtype=np.uint8)
        self._slots = np.full(self.INITIAL_SLOTS, -1, dtype=np.int32)
        self._salt = int(_table._SALT)

    def assign(self, src: np.ndarray, dst: np.ndarray, sport: np.ndarray, dport: np.ndarray,
               proto: np.ndarray) -> np.ndarray:
        n = sport.size
        out = np.empty(n, dtype=np.int32)
        src, dst = np.ascontiguousarray(src), np.ascontiguousarray(dst)
        sport = np.ascontiguousarray(sport, dtype=np.int32)
        dport = np.ascontiguousarray(dport, dtype=np.int32)
        proto = np.ascontiguousarray(proto, dtype=np.uint8)
        row = 0
        while True:
            row, self.n = self._walk.flow_assign(src, dst, sport, dport, proto, row,
                                                 self._keys, self.n, self._slots,
                                                 self._salt, out)
            if row >= n:
                return out
            if self.n >= self._keys.shape[0]:  # keys full: grow in place (realloc)
                self._keys.resize((2 * self._keys.shape[0], KEY_BYTES), refcheck=False)
            if self.n + 1 > self._slots.size // 4 * 3:  # table 3/4 full: double it
                size = 2 * self._slots.size
                del self._slots  # (the keys hold everything: the old slots go first)
                self._slots = np.full(size, -1, dtype=np.int32)
                self._walk.flow_rehash(self._keys, self.n, self._slots, self._salt)

    @property
    def keys(self) -> np.ndarray:
        return self._keys[: self.n]

    def table(self) -> FlowTable:
        rev = np.empty(self.n, dtype=np.int32)
        self._walk.flow_reverse(self._keys, self.n, self._slots, self._salt, rev)
        self._slots = np.zeros(0, dtype=np.int32)
        rev.setflags(write=False)
        return replace(flow_table(self.keys), reverse=rev)


def _flow_map() -> _FlowIndex | _CompiledFlowMap:
    walk = _records._compiled
    if walk is not None and hasattr(walk, "flow_assign"):
        return _CompiledFlowMap(walk)
    return _FlowIndex()


def flow_table(keys: np.ndarray) -> FlowTable:
    """The flow table over ``(m, KEY_BYTES)`` key rows (addresses are views of them)."""
    return FlowTable(src=keys[:, :16], dst=keys[:, 16:32],
                     sport=(keys[:, 32].astype(np.uint16) << 8) | keys[:, 33],
                     dport=(keys[:, 34].astype(np.uint16) << 8) | keys[:, 35],
                     proto=keys[:, 36].copy())


def _append_turn_tcp(ub: UdpBatch, rows: TurnTcpRows) -> None:
    """Add ChannelData frames found in TURN-over-TCP streams as datagram rows (proto 6)."""
    ub.proto = np.full(ub.frame.size, 17, dtype=np.uint8)
    m = len(rows.frame)
    if m == 0:
        return
    keys = np.frombuffer(b"".join(rows.key), dtype=np.uint8).reshape(m, 36)
    lens = np.array([len(p) for p in rows.payload], dtype=np.int32)
    head = np.zeros((m, HEAD_BYTES), dtype=np.uint8)
    for i, p in enumerate(rows.payload):
        b = p[:HEAD_BYTES]
        head[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    frame = np.concatenate([ub.frame, np.array(rows.frame, dtype=np.int64)])
    order = np.argsort(frame, kind="stable")
    pos = np.empty(order.size, dtype=np.int64)
    pos[order] = np.arange(order.size)

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b.astype(a.dtype)])[order]

    ub.frame = frame[order]
    ub.ts_ns = cat(ub.ts_ns, np.array(rows.ts_ns, dtype=np.int64))
    ub.src = cat(ub.src, keys[:, :16])
    ub.dst = cat(ub.dst, keys[:, 16:32])
    ub.sport = cat(ub.sport, (keys[:, 32].astype(np.int32) << 8) | keys[:, 33])
    ub.dport = cat(ub.dport, (keys[:, 34].astype(np.int32) << 8) | keys[:, 35])
    ub.ipver = cat(ub.ipver, np.where(keys[:, 10] == 0xFF, 4, 6))
    ub.udp_len = cat(ub.udp_len, lens)
    ub.cap_len = cat(ub.cap_len, lens)
    ub.wire_len = cat(ub.wire_len, lens)
    ub.head = cat(ub.head, head)
    ub.proto = cat(ub.proto, np.full(m, 6, dtype=np.uint8))
    kept = {int(pos[r]): v for r, v in ub.kept.items()}
    for j, p in enumerate(rows.payload):
        if p[:1] == b"\x00":  # STUN Send/Data indication: unwrapped later
            kept[int(pos[ub.frame.size - m + j])] = p
    ub.kept = kept


STUN_DATA_ATTR = 0x0013


def stun_data_attribute(msg: bytes) -> bytes | None:
    """The DATA attribute of a TURN Send/Data indication (RFC 5766 §10), if any."""
    end = min(len(msg), 20 + int.from_bytes(msg[2:4], "big"))
    p = 20
    while p + 4 <= end:
        at = int.from_bytes(msg[p: p + 2], "big")
        ln = int.from_bytes(msg[p + 2: p + 4], "big")
        if at == STUN_DATA_ATTR:
            return msg[p + 4: p + 4 + ln]
        p += 4 + ((ln + 3) & ~3)
    return None


def _unwrap_stun_data(ub: UdpBatch) -> None:
    """Replace TURN Send/Data indications by the datagram they carry (often RTP)."""
    ub.encap = np.zeros(ub.frame.size, dtype=np.uint8)
    for r, msg in list(ub.kept.items()):
        if msg[:1] != b"\x00" or msg[1:2] not in (b"\x16", b"\x17"):
            continue
        data = stun_data_attribute(msg)
        if data is None:
            continue
        ub.head[r] = 0
        b = data[:HEAD_BYTES]
        ub.head[r, : len(b)] = np.frombuffer(b, dtype=np.uint8)
        ub.udp_len[r] = ub.cap_len[r] = len(data)
        ub.encap[r] = 2
        del ub.kept[r]
        if data[:1] and data[0] >> 6 == 2 and len(data) > 1 and 200 <= data[1] <= 207:
            ub.kept[r] = data  # RTCP inside


def _prefetch(batches: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Walk and decode the records in a background thread while the caller dissects and
    stores the previous batch, so the two overlap on a second core (numpy releases the GIL
    in its loops). Exceptions are re-raised in the caller."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for b in batches:
                if stop.is_set():
                    return
                q.put(b)
            q.put(done)
        except BaseException as exc:
            q.put(exc)

    t = threading.Thread(target=work, name="analyzer-walk", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.01)


#: Typical bytes per record of a capture of calls (record header, Ethernet, IP, UDP, RTP and
#: a 20-60 ms voice frame): the first guess of the number of datagrams, from the file size.
TYPICAL_RECORD_BYTES = 150


class _ColumnStore:
    """Columns filled chunk by chunk into arrays that grow in place.

    They start at a guess from the file size and grow by half when full, with
    ``ndarray.resize`` (``realloc``: glibc moves large blocks with ``mremap``, without a
    copy), and are trimmed to the rows filled at the end. So the address space reserved
    follows the datagrams read, not the most a file of that size could hold - it matters
    where a batch worker runs under an address-space limit.
    """

    def __init__(self, dtypes: dict[str, DTypeLike], capacity: int) -> None:
        self.n = 0
        self.arrays = {k: np.empty(max(capacity, 1), dtype=d) for k, d in dtypes.items()}

    def append(self, **parts: np.ndarray) -> None:
        m = next(iter(parts.values())).size
        cap = next(iter(self.arrays.values())).size
        if self.n + m > cap:
            new_cap = max(cap + cap // 2, self.n + m)
            for a in self.arrays.values():
                a.resize(new_cap, refcheck=False)  # no view of these arrays is kept
        for k, v in parts.items():
            self.arrays[k][self.n: self.n + m] = v
        self.n += m

    def finish(self) -> dict[str, np.ndarray]:
        out = {}
        for k, a in self.arrays.items():
            a.resize(self.n, refcheck=False)  # give the unused tail back
            a.setflags(write=False)
            out[k] = a
        self.arrays = {}
        return out


def read_packets(source: str | os.PathLike[str] | BinaryIO, *, name: str | None = None,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 progress: ProgressFn | None = None,
                 max_empty_records: int = MAX_EMPTY_RECORDS) -> PacketTable:
    """Read a pcap/pcapng (optionally gzip-compressed) capture into a :class:`PacketTable`.

    A capture damaged part-way yields the packets before the damage and a
    :class:`~analyzer.errors.CaptureWarning`; one damaged before its first packet raises.
    Reading stops with such a warning after ``max_empty_records`` empty records in a row.
    """
    with ByteSource(source, name) as src:
        walker = RecordWalker(src, chunk_bytes=chunk_bytes, max_empty_records=max_empty_records)
        flows = _flow_map()
        turn = TurnTcpReassembler()
        cols = _ColumnStore(
            {"frame": np.uint32, "ts_ns": np.int64, "flow": np.int32, "udp_len": np.uint16,
             "encap": np.uint8, **DatagramColumns.STORED},
            capacity=(src.size // TYPICAL_RECORD_BYTES + 1024) if src.size else 1 << 16)
        kept: dict[int, bytes] = {}
        icmp: list[IcmpError] = []
        tcp_sip: list[tuple[int, int, bytes]] = []
        hints: list[tuple[bytes, int, bytes, int, bytes]] = []
        counters = DecodeCounters()
        t0: int | None = None
        rows = 0
        linktypes_seen: set[int] = set()
        droid = PcapdroidTagger()
        def decoded() -> Iterator[tuple[RecordBatch, UdpBatch, np.ndarray | None]]:
            budget = MAX_KEPT_PAYLOADS
            for b in walker:
                b, uids = droid.prepare(b)
                u = decode_batch(b, kept_budget=budget)
                if may_carry(u):  # look into tunnels, and decode what they carry
                    inner = unwrap_tunnels(b)
                    if inner is not b:
                        b, u = inner, decode_batch(inner, kept_budget=budget)
                budget -= len(u.kept)
                yield b, u, uids

        for batch, ub, uids in _prefetch(decoded()):
            lt0 = int(batch.linktype[0]) if len(batch) else 0
            lts = [lt0] if (batch.linktype == lt0).all() else np.unique(batch.linktype)
            linktypes_seen.update(int(x) for x in lts)
            unsupported = ~np.isin(batch.linktype, list(SUPPORTED_LINKTYPES))
            if t0 is None and len(batch):
                t0 = int(batch.ts_ns[0])
            ub.counters.unsupported_linktype = int(unsupported.sum())
            ub.counters.non_ip -= ub.counters.unsupported_linktype
            counters.add(ub.counters)
            _append_turn_tcp(ub, turn.feed(ub.tcp))
            _unwrap_stun_data(ub)
            proto, encap = ub.proto, ub.encap
            assert proto is not None and encap is not None  # both set by the two calls above
            fid = flows.assign(ub.src, ub.dst, ub.sport, ub.dport, proto)
            droid.note(batch, uids, ub.frame, fid)
            text_rows = np.fromiter((r for r, p in ub.kept.items() if p[:1].isalpha()
                                     or p[:1] == b"!"), dtype=np.int64)
            dc = dissect(ub.head, ub.udp_len, encap, text_rows)
            cols.append(frame=ub.frame, ts_ns=ub.ts_ns, flow=fid, udp_len=udp_length(ub.udp_len),
                        encap=encap, **dc.stored())
            kept.update({rows + r: v for r, v in ub.kept.items()})
            icmp.extend(ub.icmp)
            tcp_sip.extend(ub.tcp_sip)
            hints.extend(ub.hints[: max(0, MAX_HINTS - len(hints))])
            rows += int(ub.frame.size)
            if progress is not None:
                progress(src.position, src.size)
        warn: list[str] = []
        if walker.damage is not None:
            if walker.records == 0:
                raise walker.damage
            n = walker.records
            msg = f"{walker.damage}; kept the {n} packet{'s' if n != 1 else ''} before it"
            warn.append(msg)
            cls = TruncatedCaptureWarning if isinstance(walker.damage, TruncatedCapture) \
                else CaptureWarning
            warnings.warn(msg, cls, stacklevel=2)
        if walker.stopped is not None:
            msg = f"{src.name}: {walker.stopped}"
            warn.append(msg)
            warnings.warn(msg, CaptureWarning, stacklevel=2)
        bad_lt = sorted(lt for lt in linktypes_seen if lt not in SUPPORTED_LINKTYPES)
        if bad_lt and counters.unsupported_linktype == counters.records:
            raise UnsupportedLinkType(
                f"unsupported link type {', '.join(map(str, bad_lt))} (supported: Ethernet, "
                "Linux SLL/SLL2, raw IP, BSD loopback)", path=src.name)
        if bad_lt:
            msg = (f"{src.name}: skipped {counters.unsupported_linktype} packets of unsupported "
                   f"link type {', '.join(map(str, bad_lt))}")
            warn.append(msg)
            warnings.warn(msg, CaptureWarning, stacklevel=2)

        for block, big in walker.custom_blocks:
            droid.custom_block(block, big)
        apps = droid.finish(src.name)
        for msg in apps.warnings if apps is not None else ():
            warn.append(msg)
            warnings.warn(msg, CaptureWarning, stacklevel=2)
        joined = cols.finish()
        src.read_to_end()
        return PacketTable(
            path=src.name, fmt=walker.fmt + (".gz" if src.compressed else ""),
            flows=replace(flows.table(), apps=apps), t0_ns=t0 or 0, records=walker.records,
            linktypes=tuple(sorted(linktypes_seen)), counters=counters, kept=kept,
            tcp_sip=tuple(tcp_sip), hints=tuple(hints), icmp=tuple(icmp),
            warnings=tuple(warn),
            sha256=src.sha256, file_size_bytes=src.raw_bytes,
            content_secret=src.content_secret(), **joined)
