"""PCAPdroid's app attribution: the per-packet trailer (pcap) and the UID blocks (pcapng).

PCAPdroid (an Android capture app without root) knows which app sent each packet. It writes
that in one of two ways (emanuele-f/PCAPdroid, ``app/src/main/jni/core/pcap_dump.h`` and
``pcap_dump.c``):

* **pcap with the "PCAPdroid trailer"**: the file's link type is Ethernet, but the 14-byte
  Ethernet header is fake (both MAC addresses zero, EtherType from the IP version). After
  the IP packet come 0–3 zero bytes, so the trailer starts 4-byte aligned, then a 32-byte
  trailer: magic ``0x01072021`` (big-endian), the app's UID (int32, big-endian; -1 unknown),
  a 20-byte NUL-padded app name (its visible label, e.g. "Telegram") and a CRC-32 (zlib's)
  of every preceding byte of the record, in the phone's byte order (little-endian). When the
  trailer would not fit in the snap length, PCAPdroid writes the bare IP packet instead (no
  fake Ethernet header either), so such records are read as raw IP.
* **pcapng**: raw IP packets; each Enhanced Packet Block carries an ``opt_comment``
  ``u-<uid>``, and a Custom Block (type ``0x00000BAD``, PEN 62652, version 1, type 1)
  maps a UID to its package name and app name before the first packet of that UID.

The IP packets themselves are read exactly as without the attribution: the trailer lies
behind the UDP datagram's end, so the stream statistics are the same. This module only
adds, per UDP flow, the app that sent it (:class:`FlowApp`).
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from analyzer.capture.records import RecordBatch
from analyzer.protocol import ETH_HEADER_LEN, LINKTYPE_ETHERNET, LINKTYPE_RAW

TRAILER_MAGIC = 0x01072021
TRAILER_LEN = 32
TRAILER_NAME_LEN = 20
#: Private Enterprise Number of PCAPdroid's pcapng custom blocks.
PCAPDROID_PEN = 62652
UID_MAP_BLOCK = 1
UNKNOWN_UID = -1
NO_UID = -(1 << 62)  # a record without attribution
#: Packet-block option codes: ``opt_comment`` and ``epb_flags``.
OPT_COMMENT = 1
OPT_EPB_FLAGS = 2
#: Options looked at per packet block before giving up on finding the comment.
MAX_OPTIONS = 4
COMMENT_WINDOW = 24

#: Android package names of the apps the analysis knows, and the label each stands for.
KNOWN_PACKAGES = {
    "org.telegram.messenger": "telegram",
    "org.telegram.messenger.web": "telegram",
    "org.telegram.plus": "telegram",
    "org.thunderdog.challegram": "telegram",
    "com.whatsapp": "whatsapp",
    "com.whatsapp.w4b": "whatsapp",
    "org.thoughtcrime.securesms": "signal",
    "com.discord": "discord",
    "com.microsoft.teams": "teams",
    "com.skype.raider": "skype",
    "com.facebook.orca": "messenger",
    "us.zoom.videomeetings": "zoom",
    "com.viber.voip": "viber",
}
#: Visible app names (the trailer's 20-byte field), lower-cased.
KNOWN_LABELS = {
    "telegram": "telegram", "telegram x": "telegram", "whatsapp": "whatsapp",
    "whatsapp business": "whatsapp", "signal": "signal", "discord": "discord",
    "microsoft teams": "teams", "teams": "teams", "skype": "skype", "messenger": "messenger",
    "zoom": "zoom", "zoom workplace": "zoom", "viber": "viber",
}


def app_for(package: str | None, label: str | None) -> str | None:
    """The analysis's app label (``telegram``, ``whatsapp``, …) for an Android app, or None."""
    if package and package in KNOWN_PACKAGES:
        return KNOWN_PACKAGES[package]
    if label:
        return KNOWN_LABELS.get(label.strip().lower())
    return None


@dataclass(frozen=True)
class FlowApp:
    """The Android app that sent a flow's packets, as PCAPdroid recorded it."""

    uid: int
    label: str | None
    package: str | None
    packets: int  # packets of the flow attributed to this UID

    @property
    def app(self) -> str | None:
        return app_for(self.package, self.label)

    def to_dict(self) -> dict[str, Any]:
        return {"app_uid": self.uid, "app_label": self.label, "app_package": self.package}


@dataclass(frozen=True)
class AppTable:
    """PCAPdroid attribution of a capture: the app of each flow (by flow index)."""

    kind: str  # "trailer" or "pcapng"
    flows: dict[int, FlowApp]
    packets_tagged: int
    bad_crc: int = 0
    no_trailer: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class PcapdroidTagger:
    """Collects PCAPdroid attribution while the reader walks the capture.

    ``prepare(batch)`` is called on each record batch before it is decoded (in the reader's
    walking thread); it returns the batch to decode (records without the trailer re-typed
    raw IP) and each record's UID (or None when no record has one).
    ``note(batch, uids, frames, flow_ids)`` ties the decoded datagrams to their flow.
    """

    names: dict[int, str] = field(default_factory=dict)  # uid -> trailer app name
    packages: dict[int, tuple[str, str]] = field(default_factory=dict)  # uid -> (pkg, name)
    counts: Counter = field(default_factory=Counter)  # (flow, uid) -> packets
    trailers: int = 0
    bad_crc: int = 0
    no_trailer: int = 0
    comments: int = 0
    eth_records: int = 0
    look_for_trailers: bool = True
    look_for_comments: bool = True

    # -- per batch ----------------------------------------------------------------------
    def prepare(self, batch: RecordBatch) -> tuple[RecordBatch, np.ndarray | None]:
        n = len(batch)
        if n == 0:
            return batch, None
        uids = np.full(n, UNKNOWN_UID, dtype=np.int64)
        tagged = np.zeros(n, dtype=bool)
        # A PCAPdroid file marks every packet: a first batch without any mark means the
        # file is not one, and the later batches are not searched.
        eth = batch.linktype == LINKTYPE_ETHERNET
        if self.look_for_trailers and eth.any():
            batch = self._trailers(batch, eth, uids, tagged)
            self.look_for_trailers = self.trailers + self.bad_crc > 0
        raw = batch.linktype == LINKTYPE_RAW
        if self.look_for_comments and raw.any():
            self._comments(batch, raw, uids, tagged)
            self.look_for_comments = self.comments > 0
        if not tagged.any():
            return batch, None
        return batch, np.where(tagged, uids, NO_UID)

    def _trailers(self, batch: RecordBatch, eth: np.ndarray, uids: np.ndarray,
                  tagged: np.ndarray) -> RecordBatch:
        buf, off, cap = batch.buf, batch.data_off, batch.caplen
        self.eth_records += int(eth.sum())
        rows = np.flatnonzero(eth & (cap >= ETH_HEADER_LEN + 20 + TRAILER_LEN))
        start = off[rows] + cap[rows] - TRAILER_LEN
        hit = buf[start] == TRAILER_MAGIC >> 24  # one byte first: most files have none
        if not hit.any() and not self.trailers:
            return batch
        win = np.lib.stride_tricks.sliding_window_view(buf, TRAILER_LEN)[start]
        magic = np.ascontiguousarray(win[:, :4]).view(">u4").ravel()
        fake_eth = ~np.lib.stride_tricks.sliding_window_view(buf, 12)[off[rows]].any(axis=1)
        has = (magic == TRAILER_MAGIC) & fake_eth
        if not has.any() and not self.trailers:
            return batch  # an ordinary Ethernet capture
        good_rows = rows[has]
        uid = np.ascontiguousarray(win[has, 4:8]).view(">i4").ravel().astype(np.int64)
        fcs = np.ascontiguousarray(win[has, 28:32]).view("<u4").ravel()
        ok = np.ones(good_rows.size, dtype=bool)
        for j, r in enumerate(good_rows.tolist()):  # zlib's CRC-32 is C: ~1 µs a packet
            s = int(off[r])
            ok[j] = zlib.crc32(buf[s: s + int(cap[r]) - 4].tobytes()) == int(fcs[j])
        self.bad_crc += int((~ok).sum())
        self.trailers += int(ok.sum())
        for j in np.flatnonzero(ok).tolist():  # names, once per UID
            u = int(uid[j])
            if u not in self.names:
                name = bytes(win[has][j, 8: 8 + TRAILER_NAME_LEN]).split(b"\0", 1)[0]
                self.names[u] = name.decode("utf-8", "replace")
        uids[good_rows[ok]] = uid[ok]
        tagged[good_rows[ok]] = True
        # Records without a trailer: PCAPdroid wrote the bare IP packet (no fake header).
        missing = np.ones(batch.linktype.size, dtype=bool)
        missing[good_rows] = False
        missing &= eth
        if missing.any():
            self.no_trailer += int(missing.sum())
            first = buf[off[missing]] >> 4
            bare = np.zeros_like(missing)
            bare[np.flatnonzero(missing)[(first == 4) | (first == 6)]] = True
            zero_macs = np.zeros_like(missing)
            zm = ~np.lib.stride_tricks.sliding_window_view(buf, 12)[off[missing]].any(axis=1)
            zero_macs[np.flatnonzero(missing)[zm]] = True
            bare &= ~zero_macs
            if bare.any():
                lt = batch.linktype.copy()
                lt[bare] = LINKTYPE_RAW
                batch = replace(batch, linktype=lt)
        return batch

    def _comments(self, batch: RecordBatch, raw: np.ndarray, uids: np.ndarray,
                  tagged: np.ndarray) -> None:
        """``u-<uid>`` comments of little-endian pcapng Enhanced Packet Blocks."""
        buf, off, cap = batch.buf, batch.data_off, batch.caplen
        rows = np.flatnonzero(raw & (off >= 28))
        if rows.size == 0:
            return
        blen = _u32le(buf, off[rows] - 24)
        block = off[rows] - 28
        end = block + blen - 4  # offset of the trailing length copy
        inside = (blen >= 32) & (end + 4 <= buf.size)
        ok = np.zeros(rows.size, dtype=bool)
        ok[inside] = _u32le(buf, end[inside]) == blen[inside]
        rows, end = rows[ok], end[ok]
        p = off[rows] + ((cap[rows] + 3) & ~3)
        found = np.full(rows.size, -1, dtype=np.int64)
        for _ in range(MAX_OPTIONS):
            live = (found < 0) & (p + 4 <= end)
            if not live.any():
                break
            code = _u16le(buf, p)
            olen = _u16le(buf, p + 2)
            hit = live & (code == OPT_COMMENT)
            found[hit] = p[hit]
            stop = live & (code == 0)
            p = np.where(live & ~hit & ~stop, p + 4 + ((olen + 3) & ~3), end)
        sel = np.flatnonzero(found >= 0)
        for j in sel.tolist():
            q = int(found[j])
            n = int(buf[q + 2]) | (int(buf[q + 3]) << 8)
            text = bytes(buf[q + 4: q + 4 + min(n, COMMENT_WINDOW)])
            if text[:2] != b"u-":
                continue
            try:
                uid = int(text[2:].split(b"\0", 1)[0])
            except ValueError:
                continue
            uids[rows[j]] = uid
            tagged[rows[j]] = True
            self.comments += 1

    def note(self, batch: RecordBatch, uids: np.ndarray | None, frames: np.ndarray,
             flow_ids: np.ndarray) -> None:
        """Count the UID of each decoded datagram (``frames``) against its flow."""
        if uids is None or flow_ids.size == 0:
            return
        rel = frames.astype(np.int64) - batch.first_frame
        inb = (rel >= 0) & (rel < uids.size)
        u = uids[rel[inb]]
        f = flow_ids[inb]
        known = u != NO_UID
        if not known.any():
            return
        pairs = (f[known].astype(np.int64) << 32) | (u[known] & 0xFFFFFFFF)
        vals, cnt = np.unique(pairs, return_counts=True)
        for v, c in zip(vals.tolist(), cnt.tolist(), strict=True):
            uid = v & 0xFFFFFFFF
            self.counts[(v >> 32, uid - (1 << 32) if uid >= (1 << 31) else uid)] += c

    def custom_block(self, block: bytes, big: bool = False) -> None:
        """Read a pcapng custom block; keep PCAPdroid's UID → package/name mappings."""
        e = ">" if big else "<"
        if len(block) < 24:
            return
        pen, version, btype = struct.unpack_from(e + "IHB", block, 8)
        if pen != PCAPDROID_PEN or btype != UID_MAP_BLOCK or len(block) < 22 + 4:
            return
        uid, plen, alen = struct.unpack_from(e + "iBB", block, 16)
        body = block[22: 22 + plen + alen]
        if len(body) < plen + alen:
            return
        self.packages[uid] = (body[:plen].decode("utf-8", "replace"),
                              body[plen:].decode("utf-8", "replace"))
        del version  # only version 1 is known; its layout is the one read above

    # -- the end --------------------------------------------------------------------------
    def finish(self, path: str) -> AppTable | None:
        if not (self.trailers or self.comments or self.packages):
            return None
        best: dict[int, tuple[int, int]] = {}
        for (flow, uid), c in self.counts.items():
            known = uid != UNKNOWN_UID
            prev = best.get(flow)
            # a flow's app: its most frequent known UID (unknown only when nothing else)
            key = (known, c)
            if prev is None or key > ((prev[0] != UNKNOWN_UID), prev[1]):
                best[flow] = (uid, c)
        flows = {}
        for flow, (uid, c) in best.items():
            pkg, name = self.packages.get(uid, (None, None))
            label = name or self.names.get(uid) or None
            flows[flow] = FlowApp(uid=uid, label=label, package=pkg or None, packets=c)
        warn: list[str] = []
        if self.bad_crc:
            warn.append(f"{path}: {self.bad_crc} PCAPdroid trailer{_s(self.bad_crc)} with a "
                        "wrong CRC-32 (their packets are read, without app attribution)")
        if self.trailers and self.no_trailer:
            warn.append(f"{path}: {self.no_trailer} packet{_s(self.no_trailer)} without a "
                        "PCAPdroid trailer (read without app attribution)")
        return AppTable(kind="trailer" if self.trailers else "pcapng", flows=flows,
                        packets_tagged=self.trailers + self.comments, bad_crc=self.bad_crc,
                        no_trailer=self.no_trailer if self.trailers else 0,
                        warnings=tuple(warn))


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _u32le(buf: np.ndarray, idx: np.ndarray) -> np.ndarray:
    idx = np.minimum(idx, buf.size - 4)
    b = [buf[idx + k].astype(np.int64) for k in range(4)]
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)


def _u16le(buf: np.ndarray, idx: np.ndarray) -> np.ndarray:
    idx = np.minimum(idx, buf.size - 2)
    return buf[idx].astype(np.int64) | (buf[idx + 1].astype(np.int64) << 8)
