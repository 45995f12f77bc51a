"""Call-setup messages as bytes: STUN binding (RFC 5389), SIP INVITE / 200 OK / ACK with SDP,
and Telegram reflector hellos. Only a handful are sent per call, so these build one at a time.
"""

from __future__ import annotations

import ipaddress
import struct

from analyzer.protocol import STUN_MAGIC_COOKIE, TELEGRAM_HELLO_MARK, TELEGRAM_TAG_LEN

STUN_BINDING_REQUEST = 0x0001
STUN_BINDING_SUCCESS = 0x0101
STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020
STUN_FAMILY_IPV4 = 0x01

_STATIC_ENCODINGS = {0: "PCMU/8000", 8: "PCMA/8000"}


def _stun_attribute(attr_type: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("!HH", attr_type, len(value)) + value + b"\x00" * pad


def stun_message(msg_type: int, transaction_id: bytes,
                 attributes: tuple[tuple[int, bytes], ...] = ()) -> bytes:
    """A STUN message with the magic cookie and the given (type, value) attributes."""
    if len(transaction_id) != 12:
        raise ValueError("transaction_id: a STUN transaction id is 12 bytes")
    body = b"".join(_stun_attribute(t, v) for t, v in attributes)
    return struct.pack("!HHI", msg_type, len(body), STUN_MAGIC_COOKIE) + transaction_id + body


def stun_binding_request(transaction_id: bytes,
                         attributes: tuple[tuple[int, bytes], ...] = ()) -> bytes:
    return stun_message(STUN_BINDING_REQUEST, transaction_id, attributes)


def stun_binding_success(transaction_id: bytes, mapped_ip: str, mapped_port: int) -> bytes:
    """A binding success response carrying XOR-MAPPED-ADDRESS of ``mapped_ip:mapped_port``."""
    x_port = mapped_port ^ (STUN_MAGIC_COOKIE >> 16)
    x_addr = int(ipaddress.IPv4Address(mapped_ip)) ^ STUN_MAGIC_COOKIE
    value = struct.pack("!BBHI", 0, STUN_FAMILY_IPV4, x_port, x_addr)
    return stun_message(STUN_BINDING_SUCCESS, transaction_id,
                        ((STUN_ATTR_XOR_MAPPED_ADDRESS, value),))


def telegram_hello(peer_tag: bytes, value: int) -> bytes:
    """A 40-byte reflector hello: peer tag, the 0xFF/0xFE marker, a little-endian uint64."""
    if len(peer_tag) != TELEGRAM_TAG_LEN:
        raise ValueError("peer_tag: a Telegram peer tag is 16 bytes")
    return peer_tag + TELEGRAM_HELLO_MARK + struct.pack("<Q", value)


def sdp_offer(ip: str, port: int, payload_type: int, clock_rate_hz: int, ptime_ms: int,
              session_id: int) -> str:
    """An audio SDP body mapping ``payload_type`` to its codec and clock rate."""
    encoding = _STATIC_ENCODINGS.get(payload_type, f"opus/{clock_rate_hz}/2")
    return (
        "v=0\r\n"
        f"o=- {session_id} 1 IN IP4 {ip}\r\n"
        "s=-\r\n"
        f"c=IN IP4 {ip}\r\n"
        "t=0 0\r\n"
        f"m=audio {port} RTP/AVP {payload_type}\r\n"
        f"a=rtpmap:{payload_type} {encoding}\r\n"
        f"a=ptime:{ptime_ms}\r\n"
        "a=sendrecv\r\n"
    )


def _sip(start_line: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    lines = [start_line, *(f"{k}: {v}" for k, v in headers)]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sip_dialog(caller: tuple[str, int], callee: tuple[str, int], sdp_caller: str,
               sdp_callee: str, call_id: str, tag_caller: str, tag_callee: str, branch: str
               ) -> tuple[bytes, bytes, bytes]:
    """INVITE (caller's SDP), 200 OK (callee's SDP) and ACK of one SIP dialog over UDP 5060.

    ``caller`` / ``callee`` are the SIP ``(ip, port)`` addresses.
    """
    a_ip, a_port = caller
    b_ip, b_port = callee
    via = f"SIP/2.0/UDP {a_ip}:{a_port};branch=z9hG4bK{branch}"
    from_ = f"<sip:caller@{a_ip}>;tag={tag_caller}"
    to = f"<sip:callee@{b_ip}>"
    common = [("Via", via), ("Max-Forwards", "70"), ("From", from_)]
    invite = _sip(f"INVITE sip:callee@{b_ip} SIP/2.0", [
        *common, ("To", to), ("Call-ID", call_id), ("CSeq", "1 INVITE"),
        ("Contact", f"<sip:caller@{a_ip}:{a_port}>")], sdp_caller)
    ok = _sip("SIP/2.0 200 OK", [
        ("Via", via), ("From", from_), ("To", f"{to};tag={tag_callee}"), ("Call-ID", call_id),
        ("CSeq", "1 INVITE"), ("Contact", f"<sip:callee@{b_ip}:{b_port}>")], sdp_callee)
    ack = _sip(f"ACK sip:callee@{b_ip}:{b_port} SIP/2.0", [
        *common, ("To", f"{to};tag={tag_callee}"), ("Call-ID", call_id), ("CSeq", "1 ACK")])
    return invite, ok, ack
