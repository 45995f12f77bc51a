"""RTCP sender and receiver reports (RFC 3550 §6.4): what the endpoints themselves said
about loss and jitter. Compound packets are walked; SRTCP (RFC 3711), whose report blocks
are encrypted, is recognised by the bytes after the compound and its blocks are not read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

RTCP_SR = 200
RTCP_RR = 201
RTCP_HEADER_LEN = 4
SR_SENDER_INFO_LEN = 20  # NTP timestamp (8), RTP timestamp, packet count, octet count
REPORT_BLOCK_LEN = 24


@dataclass(frozen=True)
class ReportBlock:
    """One RFC 3550 §6.4.1 report block, as received at ``time_s``."""

    time_s: float
    reporter_ssrc: int  # the SSRC of the endpoint sending the report
    ssrc: int  # the source the block is about
    fraction_lost: float  # since the previous report, 0..1
    cumulative_lost: int  # signed 24-bit
    highest_seq: int  # extended highest sequence number received
    jitter_units: int  # interarrival jitter in RTP timestamp units


def parse_compound(payload: bytes, time_s: float) -> tuple[list[ReportBlock], bool]:
    """The report blocks of a compound RTCP packet, and whether it is SRTCP (encrypted:
    the compound does not fill the datagram, an index and tag follow; no blocks read)."""
    blocks: list[ReportBlock] = []
    pos, n = 0, len(payload)
    parsed: list[tuple[int, int, int]] = []  # (pt, start, length)
    while pos + RTCP_HEADER_LEN <= n:
        b0, pt, words = struct.unpack_from("!BBH", payload, pos)
        length = (words + 1) * 4
        if b0 >> 6 != 2 or pos + length > n or not 192 <= pt <= 223:
            break
        parsed.append((pt, pos, length))
        pos += length
    if not parsed:
        return [], False
    if pos != n:  # SRTCP: E-bit + index (4) + authentication tag follow the compound
        return [], True
    for pt, start, length in parsed:
        if pt not in (RTCP_SR, RTCP_RR) or length < 8:
            continue
        count = payload[start] & 0x1F
        reporter = struct.unpack_from("!I", payload, start + 4)[0]
        first = start + 8 + (SR_SENDER_INFO_LEN if pt == RTCP_SR else 0)
        for k in range(count):
            b = first + k * REPORT_BLOCK_LEN
            if b + REPORT_BLOCK_LEN > start + length:
                break
            ssrc, lost_word, hseq, jit = struct.unpack_from("!IIII", payload, b)
            cum = lost_word & 0xFFFFFF
            if cum & 0x800000:
                cum -= 1 << 24
            blocks.append(ReportBlock(time_s=time_s, reporter_ssrc=reporter, ssrc=ssrc,
                                      fraction_lost=(lost_word >> 24) / 256.0,
                                      cumulative_lost=cum, highest_seq=hseq,
                                      jitter_units=jit))
    return blocks, False


def summarize(blocks: list[ReportBlock], clock_rate_hz: int | None) -> dict[str, Any]:
    """What the receiver of a stream reported about it over RTCP (JSON-safe)."""
    if not blocks:
        return {}
    last = max(blocks, key=lambda b: b.time_s)
    jit_ms = [b.jitter_units / clock_rate_hz * 1000.0 for b in blocks] if clock_rate_hz \
        else None
    return {
        "reports": len(blocks),
        "last_report_s": last.time_s,
        "fraction_lost_max": max(b.fraction_lost for b in blocks),
        "fraction_lost_last": last.fraction_lost,
        "cumulative_lost_last": last.cumulative_lost,
        "jitter_ms_max": max(jit_ms) if jit_ms else None,
        "jitter_ms_last": (last.jitter_units / clock_rate_hz * 1000.0) if clock_rate_hz
        else None,
    }
