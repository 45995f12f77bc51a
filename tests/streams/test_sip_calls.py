"""SIP dialogs scope what SDP says: payload maps per dialog and time, clocks of static
payload types from the SDP, successive calls on the same ports kept apart."""

from __future__ import annotations

import io

from analyzer import read_capture
from tests.support.craft import LINKTYPE_ETHERNET, Rec, frame, pcap_bytes, rtp, udp4

A, B = "192.0.2.10", "198.51.100.20"
SIP_A, SIP_B = 5060, 5060
MS = 1_000_000
T0 = 1_700_000_000 * 1_000_000_000


def _sdp(addr: str, port: int, pt: int, rtpmap: str) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {rtpmap}\r\n")


def _sip(first: str, call_id: str, body: str = "") -> bytes:
    head = (f"{first}\r\nVia: SIP/2.0/UDP {A}:5060\r\nCall-ID: {call_id}\r\nCSeq: 1 X\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n")
    return (head + body).encode()


def _call(recs: list[Rec], t_ms: int, call_id: str, pt: int, rtpmap: str, ssrc: int,
          *, n: int = 100, step: int = 160, bye: bool = True) -> int:
    """One SIP call A:4000 <-> B:5000 starting at ``t_ms``; returns its end (ms)."""
    recs.append(Rec(T0 + t_ms * MS, frame(LINKTYPE_ETHERNET, udp4(
        SIP_A, SIP_B, _sip(f"INVITE sip:b@{B} SIP/2.0", call_id, _sdp(A, 4000, pt, rtpmap)),
        src=A, dst=B))))
    recs.append(Rec(T0 + (t_ms + 20) * MS, frame(LINKTYPE_ETHERNET, udp4(
        SIP_B, SIP_A, _sip("SIP/2.0 200 OK", call_id, _sdp(B, 5000, pt, rtpmap)),
        src=B, dst=A))))
    t = t_ms + 50
    for k in range(n):
        for src, dst, sp, dp, s in ((A, B, 4000, 5000, ssrc), (B, A, 5000, 4000, ssrc + 1)):
            recs.append(Rec(T0 + (t + 20 * k) * MS + (1 if s == ssrc else 5) * 100_000,
                            frame(LINKTYPE_ETHERNET, udp4(
                                sp, dp, rtp(1000 + k, 5000 + step * k, s, pt=pt,
                                            payload=b"\x11" * 80), src=src, dst=dst))))
    end = t + 20 * n
    if bye:
        recs.append(Rec(T0 + (end + 10) * MS, frame(LINKTYPE_ETHERNET, udp4(
            SIP_A, SIP_B, _sip(f"BYE sip:b@{B} SIP/2.0", call_id), src=A, dst=B))))
    return end + 10


def _read(recs: list[Rec]):
    return read_capture(io.BytesIO(pcap_bytes(sorted(recs, key=lambda r: r.ts_ns))))


def test_rtpmap_is_scoped_per_dialog_and_time() -> None:
    recs: list[Rec] = []
    t = 0
    for k, name in enumerate(("G726-32/8000", "G726-24/8000", "G726-40/8000")):
        t = _call(recs, t + 100, f"call-{k}@x", 99, name, 0x1000 + 16 * k)
    cap = _read(recs)
    codecs = {s.ssrc: s.codec for s in cap.streams if s.kind == "rtp"}
    assert codecs == {0x1000: "G726-32", 0x1001: "G726-32", 0x1010: "G726-24",
                      0x1011: "G726-24", 0x1020: "G726-40", 0x1021: "G726-40"}


def test_successive_sip_calls_on_the_same_ports_are_separate_calls() -> None:
    recs: list[Rec] = []
    t = _call(recs, 0, "one@x", 0, "PCMU/8000", 0xA0)
    _call(recs, t + 100, "two@x", 0, "PCMU/8000", 0xB0)
    cap = _read(recs)
    assert len(cap.calls) == 2
    by_call = [{cap.streams[i].ssrc for i in c.streams} for c in cap.calls]
    assert by_call == [{0xA0, 0xA1}, {0xB0, 0xB1}]
    assert all(not c.path_switches for c in cap.calls)


def test_dvi4_clock_comes_from_the_sdp() -> None:
    for pt, rate, step in ((5, 8000, 160), (6, 16000, 320)):
        recs: list[Rec] = []
        _call(recs, 0, f"dvi-{pt}@x", pt, f"DVI4/{rate}", 0x77, step=step)
        cap = _read(recs)
        rtp_streams = [s for s in cap.streams if s.kind == "rtp"]
        assert rtp_streams and all(s.clock_rate_hz == rate for s in rtp_streams)
        assert all(s.codec == "DVI4" for s in rtp_streams)
        # the packets are exactly periodic, so with the right clock there is no jitter
        assert all((s.stats.max_jitter_ms or 0.0) < 0.1 for s in rtp_streams)
