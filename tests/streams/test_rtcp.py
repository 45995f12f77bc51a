"""RTCP receiver/sender reports (RFC 3550 §6.4) attached to the RTP stream they describe;
SRTCP's encrypted blocks are not read."""

from __future__ import annotations

import struct
from pathlib import Path

from analyzer import read_capture
from analyzer.streams.rtcp import parse_compound
from tests.support.craft import Rec, frame, pcap_bytes, udp4

SSRC, PEER = 0x11223344, 0x0A0B0C0D
T0 = 1_700_000_000 * 1_000_000_000


def report_block(ssrc: int, fraction: int, cumulative: int, hseq: int, jitter: int) -> bytes:
    return struct.pack("!IIIIII", ssrc, (fraction << 24) | (cumulative & 0xFFFFFF), hseq,
                       jitter, 0, 0)


def rr(reporter: int, blocks: list[bytes]) -> bytes:
    body = struct.pack("!I", reporter) + b"".join(blocks)
    return struct.pack("!BBH", 0x80 | len(blocks), 201, len(body) // 4) + body


def sr(reporter: int, blocks: list[bytes]) -> bytes:
    body = struct.pack("!I", reporter) + b"\x00" * 20 + b"".join(blocks)
    return struct.pack("!BBH", 0x80 | len(blocks), 200, len(body) // 4) + body


def sdes(ssrc: int) -> bytes:
    chunk = struct.pack("!I", ssrc) + b"\x01\x04abcd\x00\x00"
    return struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk


def test_parse_compound_sr_rr_and_negative_cumulative() -> None:
    pkt = sr(PEER, [report_block(SSRC, 64, -3, 70000, 400)]) + sdes(PEER)
    blocks, enc = parse_compound(pkt, 1.5)
    assert not enc and len(blocks) == 1
    b = blocks[0]
    assert (b.ssrc, b.reporter_ssrc, b.fraction_lost, b.cumulative_lost, b.highest_seq,
            b.jitter_units, b.time_s) == (SSRC, PEER, 0.25, -3, 70000, 400, 1.5)


def test_srtcp_blocks_are_not_read() -> None:
    pkt = rr(PEER, [report_block(SSRC, 10, 5, 100, 80)]) + b"\x80\x00\x00\x01" + b"\xaa" * 10
    assert parse_compound(pkt, 0.0) == ([], True)


def test_reports_attach_to_the_stream(tmp_path: Path) -> None:
    recs = []
    for i in range(100):  # G.711 from A:5004 to B:6004
        pkt = struct.pack("!BBHII", 0x80, 0, 100 + i, 160 * i, SSRC) + b"\xd5" * 160
        recs.append(Rec(T0 + i * 20_000_000, frame(1, udp4(5004, 6004, pkt))))
    for k, (frac, cum, jit) in enumerate(((0, 0, 40), (26, 2, 120))):  # from B:6005 to A:5005
        rtcp = rr(PEER, [report_block(SSRC, frac, cum, 150 + 50 * k, jit)]) + sdes(PEER)
        recs.append(Rec(T0 + (k + 1) * 1_000_000_000 + 5, frame(1, udp4(6005, 5005, rtcp))))
    recs.sort(key=lambda r: r.ts_ns)
    path = tmp_path / "rtcp.pcap"
    path.write_bytes(pcap_bytes(recs))
    cap = read_capture(path)
    (s,) = [x for x in cap.streams if x.kind == "rtp"]
    rep = s.extra["rtcp"]
    assert rep["reports"] == 2 and rep["cumulative_lost_last"] == 2
    assert rep["fraction_lost_last"] == 26 / 256 and rep["fraction_lost_max"] == 26 / 256
    assert rep["jitter_ms_max"] == 120 / 8000 * 1000  # timestamp units at PCMU's 8 kHz
    assert s.to_dict()["rtcp"] == rep
    assert [x.kind for x in cap.streams].count("rtcp") == 1
