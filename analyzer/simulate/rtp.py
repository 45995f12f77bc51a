"""RTP headers (RFC 3550) for many packets at once, as numpy byte rows."""

from __future__ import annotations

import numpy as np

from analyzer.protocol import RTP_HEADER_LEN, RTP_VERSION
from analyzer.simulate.packing import be16, be32, exclusive_cumsum, gather_segments, interleave

RTP_EXTENSION_HEADER_LENGTH = 4
#: "defined by profile" value of a one-byte-header extension (RFC 8285).
RTP_ONE_BYTE_EXTENSION_PROFILE = 0xBEDE


def pack_rtp_headers(
    seq: np.ndarray,
    timestamp: np.ndarray,
    ssrc: np.ndarray | int,
    payload_type: np.ndarray | int,
    marker: np.ndarray | bool = False,
    *,
    extension: np.ndarray | None = None,
) -> np.ndarray:
    """RTP fixed headers, shape ``(n, 12)``, or ``(n, 16 + 4w)`` with an extension.

    ``seq`` and ``timestamp`` are taken modulo 2**16 and 2**32. ``extension`` holds the
    extension data, ``w`` 32-bit words per packet (shape ``(n, 4w)``); it is sent with
    the one-byte-header profile 0xBEDE and sets the X bit.
    """
    seq = np.asarray(seq, dtype=np.int64).reshape(-1)
    n = seq.size
    ts = np.broadcast_to(np.asarray(timestamp, dtype=np.int64), (n,))
    pt = np.broadcast_to(np.asarray(payload_type, dtype=np.int64), (n,))
    if pt.size and (int(pt.min()) < 0 or int(pt.max()) > 127):
        raise ValueError("payload_type: must lie in [0, 127]")
    m = np.broadcast_to(np.asarray(marker, dtype=bool), (n,))
    ext_len = 0 if extension is None else RTP_EXTENSION_HEADER_LENGTH + extension.shape[1]
    if extension is not None and (extension.shape[0] != n or extension.shape[1] % 4):
        raise ValueError("extension: expected shape (n, 4w)")
    h = np.zeros((n, RTP_HEADER_LEN + ext_len), dtype=np.uint8)
    h[:, 0] = (RTP_VERSION << 6) | (0x10 if extension is not None else 0)
    h[:, 1] = (m.astype(np.uint8) << 7) | pt.astype(np.uint8)
    h[:, 2:4] = be16(seq & 0xFFFF)
    h[:, 4:8] = be32(ts & 0xFFFFFFFF)
    h[:, 8:12] = be32(np.broadcast_to(np.asarray(ssrc, dtype=np.int64), (n,)) & 0xFFFFFFFF)
    if extension is not None:
        h[:, 12:14] = be16(np.array([RTP_ONE_BYTE_EXTENSION_PROFILE]))
        h[:, 14:16] = be16(np.array([extension.shape[1] // 4]))
        h[:, 16:] = extension
    return h


def prefix_payloads(
    prefix: np.ndarray, body_buf: np.ndarray, body_off: np.ndarray, body_len: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Payloads made of a header row plus a body slice: ``(buf, offsets, lengths)``."""
    body_len = np.asarray(body_len, dtype=np.int64)
    body = gather_segments(body_buf, body_off, body_len)
    lengths = body_len + prefix.shape[1]
    return interleave(prefix, body, body_len), exclusive_cumsum(lengths), lengths
