"""Byte-array helpers for building many packets at once with numpy, no per-packet objects.

Variable-length records are kept as one contiguous ``uint8`` buffer plus a length per
record (offsets are the exclusive cumulative sum). Two operations do all the work:
:func:`gather_segments` copies arbitrary ``(offset, length)`` slices into one contiguous
buffer, and :func:`interleave` puts a fixed-size prefix (a header row) in front of each
variable-length body.
"""

from __future__ import annotations

import numpy as np

#: Largest number of bytes gathered per step (bounds the int64 index arrays to 8 MiB each).
GATHER_CHUNK_BYTES = 1 << 20


def exclusive_cumsum(lengths: np.ndarray) -> np.ndarray:
    """Start offsets of records of the given lengths laid back to back (int64)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.zeros(lengths.size, dtype=np.int64)
    if lengths.size > 1:
        np.cumsum(lengths[:-1], out=out[1:])
    return out


def be16(values: np.ndarray) -> np.ndarray:
    """Big-endian bytes of 16-bit values, shape ``(n, 2)``."""
    return np.asarray(values).astype(">u2").view(np.uint8).reshape(-1, 2)


def be32(values: np.ndarray) -> np.ndarray:
    """Big-endian bytes of 32-bit values, shape ``(n, 4)``."""
    return np.asarray(values).astype(">u4").view(np.uint8).reshape(-1, 4)


def gather_segments(buf: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Copy ``buf[offsets[i]:offsets[i] + lengths[i]]`` for every i into one contiguous array.

    Segments may overlap, repeat or come in any order. When they already lie back to back
    in order, a slice of ``buf`` is returned without copying.
    """
    buf = np.asarray(buf, dtype=np.uint8).reshape(-1)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if offsets.shape != lengths.shape:
        raise ValueError("offsets and lengths must have the same length")
    n = lengths.size
    dest = exclusive_cumsum(lengths)
    total = int(dest[-1] + lengths[-1]) if n else 0
    if total == 0:
        return np.empty(0, dtype=np.uint8)
    if (lengths < 0).any() or (offsets < 0).any() or int((offsets + lengths).max()) > buf.size:
        raise ValueError("a segment lies outside the buffer")
    first = int(offsets[0])
    if np.array_equal(offsets - dest, np.full(n, first)):
        return buf[first:first + total]
    out = np.empty(total, dtype=np.uint8)
    i = 0
    while i < n:
        j = int(np.searchsorted(dest, dest[i] + GATHER_CHUNK_BYTES, side="left"))
        j = max(j, i + 1)
        seg_len = lengths[i:j]
        base = int(dest[i])
        size = int(dest[j - 1] + seg_len[-1]) - base
        shift = offsets[i:j] - (dest[i:j] - base)
        index = np.repeat(shift, seg_len) + np.arange(size, dtype=np.int64)
        out[base:base + size] = buf[index]
        i = j
    return out


def interleave(prefix: np.ndarray, body: np.ndarray, body_lengths: np.ndarray) -> np.ndarray:
    """Lay out ``prefix[0], body_0, prefix[1], body_1, ...`` as one byte array.

    ``prefix`` has shape ``(n, k)``; ``body`` holds the n bodies back to back, body i
    being ``body_lengths[i]`` bytes long.
    """
    prefix = np.asarray(prefix, dtype=np.uint8)
    body = np.asarray(body, dtype=np.uint8).reshape(-1)
    body_lengths = np.asarray(body_lengths, dtype=np.int64).reshape(-1)
    n, k = prefix.shape
    if body_lengths.size != n:
        raise ValueError("prefix rows and body_lengths differ in number")
    if int(body_lengths.sum()) != body.size:
        raise ValueError("body_lengths do not add up to the body size")
    counts = np.empty(2 * n, dtype=np.int64)
    counts[0::2] = k
    counts[1::2] = body_lengths
    is_prefix = np.repeat(np.tile(np.array([True, False]), n), counts)
    out = np.empty(is_prefix.size, dtype=np.uint8)
    out[is_prefix] = prefix.reshape(-1)
    out[~is_prefix] = body
    return out


def pack_bytes(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Pack a (short) list of byte strings into ``(buf, lengths)``."""
    lengths = np.fromiter((len(b) for b in items), dtype=np.int64, count=len(items))
    buf = np.frombuffer(b"".join(items), dtype=np.uint8).copy()
    return buf, lengths


def ones_complement_word_sums(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Sum of the big-endian 16-bit words of each segment (odd lengths padded with zero).

    Segments must be in increasing order and not overlap. Returns unfolded uint64 sums.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    n = starts.size
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    even = np.zeros(buf.size + 1, dtype=np.uint8)
    odd = np.zeros(buf.size + 1, dtype=np.uint8)
    even[0:buf.size:2] = buf[0::2]
    odd[1:buf.size:2] = buf[1::2]
    bounds = np.empty(2 * n, dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = starts + lengths
    sum_even = np.add.reduceat(even, bounds, dtype=np.uint64)[0::2]
    sum_odd = np.add.reduceat(odd, bounds, dtype=np.uint64)[0::2]
    starts_even = (starts % 2) == 0
    sums = np.where(
        starts_even, sum_even * np.uint64(256) + sum_odd, sum_odd * np.uint64(256) + sum_even
    )
    sums[lengths == 0] = 0
    return sums


def fold_checksum(sums: np.ndarray) -> np.ndarray:
    """Fold 16-bit ones' complement sums and invert: the Internet checksum (uint16)."""
    s = np.asarray(sums, dtype=np.uint64)
    for _ in range(4):
        s = (s & np.uint64(0xFFFF)) + (s >> np.uint64(16))
    return (~s & np.uint64(0xFFFF)).astype(np.uint16)
