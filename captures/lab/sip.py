"""Minimal SIP over UDP for the lab's `sdp` scenario (stdlib only, run inside a namespace).

Only what tshark needs to set up RTP conversations from SDP: INVITE with an SDP offer,
200 OK with an SDP answer, ACK, and at the end BYE / 200 OK. Not a SIP implementation.

    python3 sip.py uas --local 10.77.0.2 --rtp-port 5006          # in ns B, until BYE
    python3 sip.py invite --local 10.77.0.1 --remote 10.77.0.2 --rtp-port 5004 --state F
    python3 sip.py bye --state F                                    # in ns A, after media
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
import uuid

SIP_PORT = 5060
PT = 111


def sdp_body(ip: str, rtp_port: int, session_id: int, dtmf: bool = False) -> str:
    v = "IP6" if ":" in ip else "IP4"
    pts = f"{PT} 101" if dtmf else f"{PT}"
    lines = [
        "v=0",
        f"o=- {session_id} {session_id} IN {v} {ip}",
        "s=anl-lab",
        f"c=IN {v} {ip}",
        "t=0 0",
        f"m=audio {rtp_port} RTP/AVP {pts}",
        f"a=rtpmap:{PT} opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        *(["a=rtpmap:101 telephone-event/48000", "a=fmtp:101 0-15"] if dtmf else []),
        "a=ptime:20",
        "a=sendrecv",
    ]
    return "\r\n".join(lines) + "\r\n"


def build(start: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    out = [start]
    out += [f"{k}: {v}" for k, v in headers]
    if body:
        out.append("Content-Type: application/sdp")
    out.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(out) + "\r\n\r\n" + body).encode()


def parse(data: bytes) -> tuple[str, dict[str, str]]:
    head = data.decode(errors="replace").split("\r\n\r\n", 1)[0].split("\r\n")
    hdrs: dict[str, str] = {}
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return head[0], hdrs


def bind(local: str) -> socket.socket:
    s = socket.socket(socket.AF_INET6 if ":" in local else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((local, SIP_PORT))
    return s


def copy_dialog(h: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, h[k.lower()]) for k in ("Via", "From", "To", "Call-ID", "CSeq")]


def uas(args: argparse.Namespace) -> int:
    s = bind(args.local)
    s.settimeout(args.timeout)
    to_tag = uuid.uuid4().hex[:8]
    while True:
        try:
            data, peer = s.recvfrom(65535)
        except TimeoutError:
            print("uas: timeout", file=sys.stderr)
            return 1
        start, h = parse(data)
        method = start.split(" ", 1)[0]
        if method == "INVITE":
            hdrs = copy_dialog(h)
            hdrs = [(k, v + f";tag={to_tag}" if k == "To" else v) for k, v in hdrs]
            hdrs.append(("Contact", f"<sip:callee@{args.local}:{SIP_PORT}>"))
            body = sdp_body(args.local, args.rtp_port, 2002, args.dtmf)
            s.sendto(build("SIP/2.0 200 OK", hdrs, body), peer)
        elif method == "OPTIONS":  # keepalive
            s.sendto(build("SIP/2.0 200 OK", copy_dialog(h)), peer)
        elif method == "BYE":
            s.sendto(build("SIP/2.0 200 OK", copy_dialog(h)), peer)
            return 0
        # ACK and anything else: no answer


def invite(args: argparse.Namespace) -> int:
    s = bind(args.local)
    s.settimeout(2.0)
    call_id = f"{uuid.uuid4().hex}@{args.local}"
    from_tag = uuid.uuid4().hex[:8]
    ruri = f"sip:callee@{args.remote}:{SIP_PORT}"
    via = f"SIP/2.0/UDP {args.local}:{SIP_PORT};branch=z9hG4bK{uuid.uuid4().hex[:10]}"
    hdrs = [
        ("Via", via),
        ("Max-Forwards", "70"),
        ("From", f"<sip:caller@{args.local}>;tag={from_tag}"),
        ("To", f"<{ruri}>"),
        ("Call-ID", call_id),
        ("CSeq", "1 INVITE"),
        ("Contact", f"<sip:caller@{args.local}:{SIP_PORT}>"),
    ]
    msg = build(f"INVITE {ruri} SIP/2.0", hdrs,
                sdp_body(args.local, args.rtp_port, 1001, args.dtmf))
    for _ in range(5):
        s.sendto(msg, (args.remote, SIP_PORT))
        try:
            data, _peer = s.recvfrom(65535)
        except TimeoutError:
            continue
        start, h = parse(data)
        if start.startswith("SIP/2.0 200"):
            break
    else:
        print("invite: no 200 OK", file=sys.stderr)
        return 1
    to = h["to"]
    ack_via = f"SIP/2.0/UDP {args.local}:{SIP_PORT};branch=z9hG4bK{uuid.uuid4().hex[:10]}"
    dialog = [
        ("Max-Forwards", "70"),
        ("From", f"<sip:caller@{args.local}>;tag={from_tag}"),
        ("To", to),
        ("Call-ID", call_id),
    ]
    ack = build(f"ACK {ruri} SIP/2.0", [("Via", ack_via), *dialog, ("CSeq", "1 ACK")])
    s.sendto(ack, (args.remote, SIP_PORT))
    state = {"local": args.local, "remote": args.remote, "ruri": ruri, "dialog": dialog}
    with open(args.state, "w") as f:
        json.dump(state, f)
    return 0


def bye(args: argparse.Namespace) -> int:
    with open(args.state) as f:
        st = json.load(f)
    s = bind(st["local"])
    s.settimeout(2.0)
    via = f"SIP/2.0/UDP {st['local']}:{SIP_PORT};branch=z9hG4bK{uuid.uuid4().hex[:10]}"
    hdrs = [("Via", via), *[tuple(x) for x in st["dialog"]], ("CSeq", "2 BYE")]
    msg = build(f"BYE {st['ruri']} SIP/2.0", hdrs)
    for _ in range(5):
        s.sendto(msg, (st["remote"], SIP_PORT))
        try:
            data, _peer = s.recvfrom(65535)
        except TimeoutError:
            continue
        if data.startswith(b"SIP/2.0 200"):
            return 0
    print("bye: no 200 OK", file=sys.stderr)
    return 1


def options(args: argparse.Namespace) -> int:
    """OPTIONS keepalive in the dialog every --period s for --duration s (answers are
    read and discarded), as SIP phones and SBCs send them during a call."""
    with open(args.state) as f:
        st = json.load(f)
    s = bind(st["local"])
    s.setblocking(False)
    t0 = time.time()
    k = 0
    while time.time() < t0 + args.duration:
        via = f"SIP/2.0/UDP {st['local']}:{SIP_PORT};branch=z9hG4bK{uuid.uuid4().hex[:10]}"
        hdrs = [("Via", via), *[tuple(x) for x in st["dialog"]], ("CSeq", f"{10 + k} OPTIONS")]
        s.sendto(build(f"OPTIONS {st['ruri']} SIP/2.0", hdrs), (st["remote"], SIP_PORT))
        k += 1
        time.sleep(max(0.0, t0 + k * args.period - time.time()))
        try:
            while True:
                s.recv(65535)
        except BlockingIOError:
            pass
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("mode", choices=["uas", "invite", "bye", "options"])
    p.add_argument("--dtmf", action="store_true", help="offer telephone-event PT 101 too")
    p.add_argument("--period", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--local")
    p.add_argument("--remote")
    p.add_argument("--rtp-port", type=int)
    p.add_argument("--state")
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    return {"uas": uas, "invite": invite, "bye": bye, "options": options}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
