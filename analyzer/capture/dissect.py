"""Per-datagram dissection into compact columns, done chunk by chunk while reading.

The reader keeps only these columns (about 20 bytes a datagram) instead of the payload
heads, so memory stays well below the capture's size. Stream building works from them.
The per-row tests run compiled when ``_walk`` was built (``dissect_heads`` in ``_walk.c``,
one pass without the GIL); the numpy tests of :mod:`analyzer.capture.headers` are the
fallback and the reference (tests/capture/test_compiled.py compares the two).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from analyzer.capture import headers as H
from analyzer.capture import records as _records
from analyzer.capture.ipudp import HEAD_BYTES  # the row width the compiled dissection reads
from analyzer.phases import timed
from analyzer.protocol import CHANNELDATA_HEADER_LEN

# bits of ``DatagramColumns.flags``
F_STUN = 1
F_DTLS = 2
F_CHANNEL = 4  # TURN ChannelData framing (RTP/RTCP starts 4 bytes in)
F_RTCP = 8
F_RTP = 16  # a plausible RTP header (at offset 0, or 4 with F_CHANNEL)
F_TELEGRAM_HELLO = 32
F_MARKER = 64
F_TEXT = 128  # SIP / MEGACO text (kept whole by the decoder)

_TAG_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class DatagramColumns:
    flags: np.ndarray  # uint8, F_* bits
    payload_type: np.ndarray  # uint8 (RTP PT; 0 where not RTP)
    seq: np.ndarray  # uint16
    rtp_ts: np.ndarray  # uint32
    ssrc: np.ndarray  # uint32
    stun_type: np.ndarray  # uint16 STUN message type (0 where not STUN)
    tag: np.ndarray  # uint32 hash of the first 16 payload bytes (Telegram peer tags)

    FIELDS = ("flags", "payload_type", "seq", "rtp_ts", "ssrc", "stun_type", "tag")

    #: How the packet table stores each column: the tag folded to 16 bits (it only tells
    #: whether a flow's datagrams start alike; two bytes a datagram less on a big capture).
    STORED: ClassVar[Mapping[str, type]] = {
        "flags": np.uint8, "payload_type": np.uint8, "seq": np.uint16, "rtp_ts": np.uint32,
        "ssrc": np.uint32, "stun_type": np.uint16, "tag": np.uint16}

    def stored(self) -> dict[str, np.ndarray]:
        """The columns as the packet table stores them (:attr:`STORED`)."""
        out = {k: getattr(self, k) for k in self.FIELDS}
        t = out["tag"].astype(np.uint32, copy=False)
        out["tag"] = ((t ^ (t >> np.uint32(16))) & np.uint32(0xFFFF)).astype(np.uint16)
        return out

    @classmethod
    def empty(cls) -> DatagramColumns:
        return cls(np.zeros(0, np.uint8), np.zeros(0, np.uint8), np.zeros(0, np.uint16),
                   np.zeros(0, np.uint32), np.zeros(0, np.uint32), np.zeros(0, np.uint16),
                   np.zeros(0, np.uint32))


def _tag_hash(head: np.ndarray) -> np.ndarray:
    w = np.ascontiguousarray(head[:, :16]).view(np.uint64)
    h = w[:, 0] * _TAG_MIX
    h ^= w[:, 1]
    h *= _TAG_MIX
    return (h >> np.uint64(32)).astype(np.uint32)


@timed("dissect")
def dissect(head: np.ndarray, length: np.ndarray, encap: np.ndarray,
            text_rows: np.ndarray) -> DatagramColumns:
    """Classify every datagram from its first bytes; ``text_rows`` are SIP/MEGACO rows."""
    walk = _records._compiled
    if (walk is not None and hasattr(walk, "dissect_heads") and head.dtype == np.uint8
            and head.ndim == 2 and head.shape[1] == HEAD_BYTES and head.flags.c_contiguous
            and np.asarray(length).dtype == np.int32):
        n = head.shape[0]
        text = np.zeros(n, dtype=np.uint8)
        text[text_rows] = 1
        out = DatagramColumns(np.empty(n, np.uint8), np.empty(n, np.uint8),
                              np.empty(n, np.uint16), np.empty(n, np.uint32),
                              np.empty(n, np.uint32), np.empty(n, np.uint16),
                              np.empty(n, np.uint32))
        walk.dissect_heads(head, np.ascontiguousarray(length),
                           np.ascontiguousarray(encap, dtype=np.uint8), text,
                           tuple(getattr(out, k) for k in DatagramColumns.FIELDS))
        return out
    return _dissect_numpy(head, length, encap, text_rows)


def _dissect_numpy(head: np.ndarray, length: np.ndarray, encap: np.ndarray,
                   text_rows: np.ndarray) -> DatagramColumns:
    """:func:`dissect` in numpy (the fallback of the compiled one, and its reference)."""
    n = head.shape[0]
    length = length.astype(np.int64)
    plain = encap == 0
    stun = H.is_stun(head, length) & plain
    dtls = H.is_dtls(head, length) & ~stun
    chan = H.is_channeldata(head, length) & ~stun & plain
    off = np.where(chan, CHANNELDATA_HEADER_LEN, 0)
    rtcp = H.is_rtcp(head, length, off) & ~stun
    rtp = H.rtp_fields(head, length, off)
    hello = H.telegram_hello(head, length)
    text = np.zeros(n, dtype=bool)
    text[text_rows] = True
    valid = rtp.valid & ~stun & ~dtls & ~rtcp & ~hello & ~text
    flags = (stun * F_STUN | dtls * F_DTLS | chan * F_CHANNEL | rtcp * F_RTCP
             | valid * F_RTP | hello * F_TELEGRAM_HELLO | (valid & rtp.marker) * F_MARKER
             | text * F_TEXT).astype(np.uint8)
    return DatagramColumns(
        flags=flags,
        payload_type=np.where(valid, rtp.payload_type, 0).astype(np.uint8),
        seq=rtp.seq, rtp_ts=rtp.timestamp, ssrc=rtp.ssrc,
        stun_type=np.where(stun, H.be16(head, 0), 0).astype(np.uint16),
        tag=_tag_hash(head))
