"""Small stdlib traffic helpers for the extended lab scenarios (run inside a namespace).

Everything here is crafted by this project; nothing talks to the outside world.

    labnet.py consent   ICE consent checks (STUN Binding request/success) on a media 5-tuple
    labnet.py dtmf      an RFC 4733 telephone-event-only RTP stream (PT 101)
    labnet.py heartbeat a small UDP control flow (one datagram per period)
    labnet.py rtcp-bye  one compound RTCP packet (empty RR + BYE) on the RTP 5-tuple (rtcp-mux)
    labnet.py turn      a TURN client (RFC 8656, long-term credentials) that relays a local
                        RTP flow through ChannelData and delivers the peer's media locally

Schedules are given as an absolute epoch (`--start`) so that the helpers in the two
namespaces act on one clock (the kernel's, which the captures also use).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import random
import select
import socket
import struct
import sys
import time
import zlib

COOKIE = 0x2112A442
BINDING_REQ, BINDING_OK = 0x0001, 0x0101
ALLOCATE_REQ, ALLOCATE_OK = 0x0003, 0x0103
CHANNELBIND_REQ, CHANNELBIND_OK = 0x0009, 0x0109
A_USERNAME, A_MI, A_FP = 0x0006, 0x0008, 0x8028
A_XOR_MAPPED, A_XOR_PEER, A_XOR_RELAYED = 0x0020, 0x0012, 0x0016
A_REALM, A_NONCE, A_CHANNEL, A_TRANSPORT = 0x0014, 0x0015, 0x000C, 0x0019
A_PRIORITY, A_CONTROLLING, A_CONTROLLED = 0x0024, 0x802A, 0x8029


def family(ip: str) -> int:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def udp_socket(ip: str, port: int) -> socket.socket:
    s = socket.socket(family(ip), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((ip, port))
    return s


def sleep_until(t: float) -> None:
    d = t - time.time()
    if d > 0:
        time.sleep(d)


# ---------------------------------------------------------------- STUN (RFC 8489)


def attr(t: int, v: bytes) -> bytes:
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def xor_addr(ip: str, port: int, tid: bytes) -> bytes:
    raw = socket.inet_pton(family(ip), ip)
    if len(raw) == 4:
        x = bytes(a ^ b for a, b in zip(raw, struct.pack("!I", COOKIE), strict=False))
        fam = 1
    else:
        x = bytes(a ^ b for a, b in zip(raw, struct.pack("!I", COOKIE) + tid, strict=False))
        fam = 2
    return struct.pack("!BBH", 0, fam, port ^ (COOKIE >> 16)) + x


def unxor_addr(v: bytes, tid: bytes) -> tuple[str, int]:
    fam, xport = struct.unpack_from("!xBH", v)
    port = xport ^ (COOKIE >> 16)
    if fam == 1:
        mask = struct.pack("!I", COOKIE)
        ip = socket.inet_ntoa(bytes(a ^ b for a, b in zip(v[4:8], mask, strict=False)))
    else:
        key = struct.pack("!I", COOKIE) + tid
        ip = socket.inet_ntop(socket.AF_INET6,
                              bytes(a ^ b for a, b in zip(v[4:20], key, strict=False)))
    return ip, port


def stun(mtype: int, tid: bytes, attrs: list[tuple[int, bytes]], key: bytes | None = None,
         fingerprint: bool = True) -> bytes:
    body = b"".join(attr(t, v) for t, v in attrs)

    def head(extra: int) -> bytes:
        return struct.pack("!HHI", mtype, len(body) + extra, COOKIE) + tid

    if key is not None:
        mac = hmac.new(key, head(24) + body, hashlib.sha1).digest()
        body += attr(A_MI, mac)
    if fingerprint:
        crc = (zlib.crc32(head(8) + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(A_FP, struct.pack("!I", crc))
    return head(0) + body


def parse_stun(data: bytes) -> tuple[int, bytes, dict[int, bytes]] | None:
    if len(data) < 20 or data[0] >> 6 != 0 or struct.unpack_from("!I", data, 4)[0] != COOKIE:
        return None
    mtype, n = struct.unpack_from("!HH", data)
    attrs: dict[int, bytes] = {}
    off = 20
    while off + 4 <= 20 + n:
        t, ln = struct.unpack_from("!HH", data, off)
        attrs.setdefault(t, data[off + 4 : off + 4 + ln])
        off += 4 + ln + (-ln % 4)
    return mtype, data[8:20], attrs


def tid_for(tag: str, k: int) -> bytes:
    return hashlib.sha1(f"{tag}/{k}".encode()).digest()[:12]


# ---------------------------------------------------------------- ICE consent


def consent(a: argparse.Namespace) -> int:
    """Side `a` is controlling. Each side sends a Binding request every `period` (side b
    offset by half a period) and, `answer_delay` after each of the peer's requests, the
    Binding success that answers it (same transaction ID, XOR-MAPPED-ADDRESS = the peer's
    address). With --requests-only nobody answers (a blocked check)."""
    s = udp_socket(a.local, a.lport)
    me, peer = a.side, ("b" if a.side == "a" else "a")
    ufrag = {"a": "aUfr", "b": "bUfr"}
    pwd = {"a": b"a-ice-password-0123456789", "b": b"b-ice-password-0123456789"}
    off = {"a": 0.0, "b": a.period / 2 if not a.requests_only else a.period / 3}
    jobs = []
    k = 0
    while a.start + off[me] + k * a.period < a.start + a.duration:
        jobs.append((a.start + off[me] + k * a.period, "req", k))
        k += 1
    if not a.requests_only:
        k = 0
        while a.start + off[peer] + k * a.period < a.start + a.duration:
            jobs.append((a.start + off[peer] + k * a.period + a.answer_delay, "resp", k))
            k += 1
    jobs.sort()
    for t, kind, k in jobs:
        sleep_until(t)
        if kind == "req":
            tid = tid_for(me, k)
            ctl = A_CONTROLLING if me == "a" else A_CONTROLLED
            msg = stun(BINDING_REQ, tid, [
                (A_USERNAME, f"{ufrag[peer]}:{ufrag[me]}".encode()),
                (A_PRIORITY, struct.pack("!I", 1853824767)),
                (ctl, struct.pack("!Q", 0x1122334455667788 if me == "a" else 0x99)),
            ], key=pwd[peer])
        else:
            tid = tid_for(peer, k)
            msg = stun(BINDING_OK, tid, [(A_XOR_MAPPED, xor_addr(a.remote, a.rport, tid))],
                       key=pwd[me])
        s.sendto(msg, (a.remote, a.rport))
    return 0


# ---------------------------------------------------------------- DTMF (RFC 4733)


def dtmf(a: argparse.Namespace) -> int:
    """Digits at irregular (seeded) times, each 100-240 ms long: one packet every 20 ms with
    the event's start timestamp and a growing duration (marker on the first), then the end
    packet three times; nothing between digits. 48 kHz clock (telephone-event/48000)."""
    rng = random.Random(a.seed)
    s = udp_socket(a.local, a.lport)
    seq, ts0 = a.seq, 0x20000000
    t = a.start + 0.6
    end = a.start + a.duration
    while t < end - 0.5:
        digit = rng.randrange(12)
        length = rng.choice([100, 120, 160, 200, 240])  # ms
        ts = (ts0 + round((t - a.start) * 48000)) & 0xFFFFFFFF
        n = length // 20
        for i in range(n + 3):
            sleep_until(t + min(i, n) * 0.020 + max(0, i - n) * 0.004)
            last = i >= n
            dur = min(i + 1, n) * 960
            payload = struct.pack("!BBH", digit, (0x80 if last else 0) | 10, dur)
            hdr = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | 101, seq & 0xFFFF, ts,
                              a.ssrc)
            s.sendto(hdr + payload, (a.remote, a.rport))
            seq += 1
        t += length / 1000 + rng.uniform(0.5, 2.2)
    return 0


# ---------------------------------------------------------------- control flow, RTCP BYE


def heartbeat(a: argparse.Namespace) -> int:
    s = udp_socket(a.local, a.lport)
    rng = random.Random(a.seed)
    k = 0
    while a.start + a.offset + k * a.period < a.start + a.duration:
        sleep_until(a.start + a.offset + k * a.period)
        s.sendto(b"HB" + struct.pack("!I", k) + rng.randbytes(42), (a.remote, a.rport))
        k += 1
    return 0


def rtcp_bye(a: argparse.Namespace) -> int:
    s = udp_socket(a.local, a.lport)
    rr = struct.pack("!BBHI", 0x80, 201, 1, a.ssrc)  # RR, no report blocks
    reason = b"hangup"
    r = bytes([len(reason)]) + reason
    r += b"\0" * (-len(r) % 4)
    bye = struct.pack("!BBHI", 0x81, 203, 1 + len(r) // 4, a.ssrc) + r
    s.sendto(rr + bye, (a.remote, a.rport))
    return 0


# ---------------------------------------------------------------- TURN client


def turn(a: argparse.Namespace) -> int:
    """Allocate on the TURN server, bind channel 0x4000 to the peer, then relay: RTP that
    the local sender sends to --media-in is wrapped in ChannelData and sent to the server;
    ChannelData from the server is unwrapped and delivered to --deliver (the local
    receiver). Runs for --duration seconds after the allocation."""
    srv = (a.server, a.server_port)
    s = udp_socket(a.local, a.lport)
    s.settimeout(1.0)
    k = 0

    def transact(mtype: int, attrs: list, key: bytes | None) -> tuple[int, dict]:
        nonlocal k
        for _ in range(5):
            tid = tid_for("turn", k)
            k += 1
            s.sendto(stun(mtype, tid, attrs, key=key), srv)
            try:
                data, _ = s.recvfrom(2048)
            except TimeoutError:
                continue
            m = parse_stun(data)
            if m and m[1] == tid:
                return m[0], m[2]
        raise SystemExit(f"turn: no answer to 0x{mtype:04x}")

    req_tr = (A_TRANSPORT, bytes([17, 0, 0, 0]))
    mt, at = transact(ALLOCATE_REQ, [req_tr], None)  # 401 with realm and nonce
    realm, nonce = at[A_REALM], at[A_NONCE]
    key = hashlib.md5(f"{a.user}:{realm.decode()}:{a.password}".encode()).digest()
    cred = [(A_USERNAME, a.user.encode()), (A_REALM, realm), (A_NONCE, nonce)]
    mt, at = transact(ALLOCATE_REQ, [req_tr, *cred], key)
    if mt != ALLOCATE_OK:
        raise SystemExit(f"turn: allocate failed 0x{mt:04x} {at}")
    relayed = unxor_addr(at[A_XOR_RELAYED], tid_for("turn", k - 1))
    chan = 0x4000
    mt, at = transact(CHANNELBIND_REQ, [
        (A_CHANNEL, struct.pack("!HH", chan, 0)),
        (A_XOR_PEER, xor_addr(a.peer, a.peer_port, tid_for("turn", k))), *cred], key)
    if mt != CHANNELBIND_OK:
        raise SystemExit(f"turn: channel bind failed 0x{mt:04x} {at}")
    print(f"turn: relayed address {relayed[0]}:{relayed[1]}, channel 0x{chan:04x}",
          flush=True)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write(f"{relayed[0]} {relayed[1]}\n")
    mi_ip, mi_port = a.media_in.rsplit(":", 1)
    li = udp_socket(mi_ip, int(mi_port))
    dv_ip, dv_port = a.deliver.rsplit(":", 1)
    out = socket.socket(family(dv_ip), socket.SOCK_DGRAM)
    end = time.time() + a.duration
    s.setblocking(False)
    li.setblocking(False)
    while time.time() < end:
        r, _, _ = select.select([s, li], [], [], 0.2)
        if li in r:
            data = li.recv(4096)
            s.sendto(struct.pack("!HH", chan, len(data)) + data, srv)
        if s in r:
            data = s.recv(4096)
            if len(data) >= 4 and 0x40 <= data[0] <= 0x4F:
                n = struct.unpack_from("!H", data, 2)[0]
                out.sendto(data[4 : 4 + n], (dv_ip, int(dv_port)))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--local", required=True)
        q.add_argument("--lport", type=int, required=True)
        q.add_argument("--remote")
        q.add_argument("--rport", type=int)
        q.add_argument("--start", type=float, default=0.0)
        q.add_argument("--duration", type=float, default=10.0)
        q.add_argument("--seed", type=int, default=1)

    q = sub.add_parser("consent")
    common(q)
    q.add_argument("--side", choices=["a", "b"], required=True)
    q.add_argument("--period", type=float, default=2.5)
    q.add_argument("--answer-delay", type=float, default=0.0015)
    q.add_argument("--requests-only", action="store_true")
    q = sub.add_parser("dtmf")
    common(q)
    q.add_argument("--ssrc", type=lambda x: int(x, 0), required=True)
    q.add_argument("--seq", type=int, default=3000)
    q = sub.add_parser("heartbeat")
    common(q)
    q.add_argument("--period", type=float, default=1.0)
    q.add_argument("--offset", type=float, default=0.0)
    q = sub.add_parser("rtcp-bye")
    common(q)
    q.add_argument("--ssrc", type=lambda x: int(x, 0), required=True)
    q = sub.add_parser("turn")
    common(q)
    q.add_argument("--server", required=True)
    q.add_argument("--server-port", type=int, default=3478)
    q.add_argument("--user", default="lab")
    q.add_argument("--password", default="labpass")
    q.add_argument("--peer", required=True)
    q.add_argument("--peer-port", type=int, required=True)
    q.add_argument("--media-in", required=True, help="ip:port the local RTP sender sends to")
    q.add_argument("--deliver", required=True, help="ip:port of the local RTP receiver")
    q.add_argument("--ready", help="file to write the relayed address to")
    a = p.parse_args()
    if a.start == 0.0:
        a.start = time.time()
    return {"consent": consent, "dtmf": dtmf, "heartbeat": heartbeat, "rtcp-bye": rtcp_bye,
            "turn": turn}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
