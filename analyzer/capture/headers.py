"""Per-datagram header tests and RTP field columns, vectorized over a PacketTable's heads.

Each ``is_*`` function takes the ``(n, HEAD_BYTES)`` head array and the UDP payload lengths
and returns a boolean column. Constants are named after the RFC fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.protocol import (
    CHANNELDATA_HEADER_LEN,
    RTCP_FB_PT,
    RTCP_PT_MAX,
    RTCP_PT_MIN,
    RTP_HEADER_LEN,
    RTP_PT_RESERVED_FOR_RTCP,
    RTP_VERSION,
    STUN_HEADER_LEN,
    STUN_MAGIC_COOKIE,
    TELEGRAM_HELLO_LEN,
    TELEGRAM_HELLO_MARK,
)

CHANNEL_MIN, CHANNEL_MAX = 0x4000, 0x7FFF
DTLS_CONTENT_TYPES = (20, 21, 22, 23, 25)  # RFC 6347; 25 = ACK (DTLS 1.3)


def be16(head: np.ndarray, i: int) -> np.ndarray:
    """Big-endian 16-bit field at byte ``i`` of every head row (as uint16)."""
    if i % 2 == 0 and head.flags.c_contiguous and head.shape[1] % 4 == 0 and head.size:
        return head.view(">u2")[:, i // 2].astype(np.uint16)
    return np.ascontiguousarray(head[:, i: i + 2]).view(">u2").ravel()


def be32(head: np.ndarray, i: int) -> np.ndarray:
    """Big-endian 32-bit field at byte ``i`` of every head row (as uint32)."""
    if i % 4 == 0 and head.flags.c_contiguous and head.shape[1] % 4 == 0 and head.size:
        return head.view(">u4")[:, i // 4].astype(np.uint32)
    return np.ascontiguousarray(head[:, i: i + 4]).view(">u4").ravel()


def is_stun(head: np.ndarray, length: np.ndarray) -> np.ndarray:
    """STUN message: top two bits zero, magic cookie, body length multiple of 4 that fits."""
    mlen = be16(head, 2).astype(np.int64)
    return (((head[:, 0] & 0xC0) == 0) & (be32(head, 4) == STUN_MAGIC_COOKIE)
            & (mlen % 4 == 0) & (mlen + STUN_HEADER_LEN <= length))


def is_channeldata(head: np.ndarray, length: np.ndarray) -> np.ndarray:
    """TURN ChannelData: channel number 0x4000-0x7FFF and a length that fits the datagram."""
    ch = be16(head, 0)
    dlen = be16(head, 2).astype(np.int64)
    room = length - CHANNELDATA_HEADER_LEN
    return (ch >= CHANNEL_MIN) & (ch <= CHANNEL_MAX) & (dlen <= room) & (dlen + 3 >= room) & \
        (dlen >= RTP_HEADER_LEN)


def is_dtls(head: np.ndarray, length: np.ndarray) -> np.ndarray:
    """DTLS record: content type 20-25 and version 0xFEFF / 0xFEFD."""
    ver = be16(head, 1)
    return np.isin(head[:, 0], DTLS_CONTENT_TYPES) & np.isin(ver, (0xFEFF, 0xFEFD)) & \
        (length >= 13)


def is_rtcp(head: np.ndarray, length: np.ndarray, off: np.ndarray | int = 0) -> np.ndarray:
    """RTCP (compound) packet: version 2, PT 200-207, first length field fits."""
    if not isinstance(off, int):
        out = is_rtcp(head, length, 0)
        rows = np.flatnonzero(off != 0)
        if rows.size:
            out[rows] = is_rtcp(head[rows], np.asarray(length)[rows], int(off[rows[0]]))
        return out
    b0, b1 = head[:, off], head[:, off + 1]
    words = be16(head, off + 2).astype(np.int64)
    pt_ok = ((b1 >= RTCP_PT_MIN) & (b1 <= RTCP_PT_MAX)) | np.isin(b1, RTCP_FB_PT)
    return ((b0 >> 6) == RTP_VERSION) & pt_ok & ((words + 1) * 4 <= length - off)


def telegram_hello(head: np.ndarray, length: np.ndarray) -> np.ndarray:
    mark = np.frombuffer(TELEGRAM_HELLO_MARK, dtype=np.uint8)
    out = np.asarray(length) == TELEGRAM_HELLO_LEN
    rows = np.flatnonzero(out)
    if rows.size:
        out[rows] = (head[rows, 16:32] == mark).all(axis=1)
    return out


@dataclass(frozen=True)
class RtpFields:
    """RTP header fields as columns (RFC 3550 §5.1), for the rows given."""

    valid: np.ndarray  # bool: a plausible RTP header
    marker: np.ndarray  # bool
    payload_type: np.ndarray  # int16
    seq: np.ndarray  # uint16
    timestamp: np.ndarray  # uint32
    ssrc: np.ndarray  # uint32
    header_len: np.ndarray  # int64, incl. CSRC list and extension (-1: not in the head)
    padding: np.ndarray  # bool


def _rtp_at(head: np.ndarray, length: np.ndarray, off: int) -> RtpFields:
    b0 = head[:, off]
    b1 = head[:, off + 1]
    cc = (b0 & 0x0F).astype(np.int64)
    ext = (b0 & 0x10) != 0
    pt = (b1 & 0x7F).astype(np.int16)
    base = RTP_HEADER_LEN + 4 * cc
    hdr = base
    room = length - off
    if ext.any():
        r = np.flatnonzero(ext)
        pos = off + base[r] + 2
        inside = pos + 2 <= head.shape[1]
        pc = np.minimum(pos, head.shape[1] - 2)
        words = (head[r, pc].astype(np.int64) << 8) | head[r, pc + 1]
        hdr = base.copy()
        hdr[r] = np.where(inside, base[r] + 4 + 4 * words, -1)
    valid = ((b0 >> 6) == RTP_VERSION) & ~np.isin(pt, RTP_PT_RESERVED_FOR_RTCP) & (room >= base) & \
        ((hdr < 0) | (hdr <= room))
    return RtpFields(valid=valid, marker=(b1 & 0x80) != 0, payload_type=pt,
                     seq=be16(head, off + 2), timestamp=be32(head, off + 4),
                     ssrc=be32(head, off + 8), header_len=hdr, padding=(b0 & 0x20) != 0)


def rtp_fields(head: np.ndarray, length: np.ndarray, off: np.ndarray | int = 0) -> RtpFields:
    """Parse RTP headers starting at byte ``off`` (0, or 4 behind a ChannelData header).

    ``valid`` follows RFC 3550 A.1's header checks: version 2, a payload type that cannot be
    RTCP, and a length that holds the fixed header and the CSRC list. ``seq`` is uint16,
    ``timestamp`` and ``ssrc`` uint32.
    """
    length = np.asarray(length, dtype=np.int64)
    if isinstance(off, int):
        return _rtp_at(head, length, off)
    f = _rtp_at(head, length, 0)
    rows = np.flatnonzero(off != 0)
    if rows.size:
        g = _rtp_at(head[rows], length[rows], int(off[rows[0]]))
        for name in RtpFields.__dataclass_fields__:
            getattr(f, name)[rows] = getattr(g, name)
    return f
