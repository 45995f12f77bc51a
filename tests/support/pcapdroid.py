"""Turn a plain capture into what PCAPdroid writes on a phone, from its documented layout.

Layout (emanuele-f/PCAPdroid ``app/src/main/jni/core/pcap_dump.h``/``.c``, written here
from the description, not the code):

* pcap with the trailer: link type Ethernet; each record is a fake 14-byte Ethernet header
  (zero MACs, EtherType 0x0800/0x86DD), the IP packet, 0–3 zero bytes so the trailer is
  4-byte aligned, then magic 0x01072021 (BE), UID (int32 BE), 20-byte NUL-padded app name,
  CRC-32 of everything before it in the record (LE). A packet whose trailer does not fit
  the snap length is written as the bare IP packet.
* pcapng: SHB, IDB (raw IP), a custom block 0x00000BAD (PEN 62652, version 1, type 1: UID,
  package name length, app name length, the two names) before a UID's first packet, and
  EPBs with an optional ``epb_flags`` option and an ``opt_comment`` ``u-<uid>``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

TRAILER_MAGIC = 0x01072021
PEN = 62652
ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD

#: (uid, app name, package) of the app a packet is attributed to.
App = tuple[int, str, str]
TELEGRAM: App = (10234, "Telegram", "org.telegram.messenger")
UNKNOWN: App = (-1, "", "")


def udp_is_telegram(ip: bytes) -> App:
    """Attribute every UDP packet to Telegram, everything else to no app."""
    proto = ip[9] if ip[0] >> 4 == 4 else ip[6]
    return TELEGRAM if proto == 17 else UNKNOWN


def ip_packets(path: str | Path) -> list[tuple[int, int, bytes]]:
    """``(seconds, microseconds, IP packet)`` of a little-endian Ethernet pcap (us)."""
    data = Path(path).read_bytes()
    magic, _, _, _, _, _snap, network = struct.unpack_from("<IHHiIII", data, 0)
    assert magic == 0xA1B2C3D4 and network == 1, "a little-endian Ethernet pcap (µs)"
    out, pos = [], 24
    while pos + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16: pos + 16 + incl]
        pos += 16 + incl
        ethertype = struct.unpack_from(">H", frame, 12)[0]
        if ethertype in (ETH_IPV4, ETH_IPV6):
            out.append((sec, usec, frame[14:]))
    return out


def trailer_pcap(src: str | Path, dst: str | Path, *,
                 app_of: Callable[[bytes], App] = udp_is_telegram, snaplen: int = 65535,
                 bad_crc: Callable[[int], bool] = lambda i: False,
                 no_trailer: Callable[[int], bool] = lambda i: False) -> int:
    """Write ``src``'s IP packets to ``dst`` as PCAPdroid does with its trailer on;
    ``bad_crc(i)`` damages the CRC of packet ``i``, ``no_trailer(i)`` writes it bare (as
    PCAPdroid does when the trailer would exceed the snap length). Returns the packets."""
    pkts = ip_packets(src)
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)]
    for i, (sec, usec, ip) in enumerate(pkts):
        if no_trailer(i):
            parts.append(struct.pack("<IIII", sec, usec, len(ip), len(ip)) + ip)
            continue
        uid, name, _pkg = app_of(ip)
        eth = bytes(12) + struct.pack(">H", ETH_IPV4 if ip[0] >> 4 == 4 else ETH_IPV6)
        pad = (-(len(eth) + len(ip))) % 4
        body = eth + ip + bytes(pad) + struct.pack(">Ii", TRAILER_MAGIC, uid) \
            + name.encode()[:19].ljust(20, b"\0")
        crc = zlib.crc32(body)
        if bad_crc(i):
            crc ^= 0xA5A5A5A5
        rec = body + struct.pack("<I", crc)
        parts.append(struct.pack("<IIII", sec, usec, len(rec), len(ip) + len(rec) - len(ip))
                     + rec)
    Path(dst).write_bytes(b"".join(parts))
    return len(pkts)


def _block(btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + bytes(-len(value) % 4)


def pcapng(src: str | Path, dst: str | Path, *,
           app_of: Callable[[bytes], App] = udp_is_telegram, direction: bool = True,
           snaplen: int = 65535) -> int:
    """Write ``src``'s IP packets to ``dst`` as PCAPdroid's pcapng mode does (root mode when
    ``direction``: each packet also carries an ``epb_flags`` option before the comment)."""
    pkts = ip_packets(src)
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                 + _option(4, b"PCAPdroid test") + _option(0, b""))
    idb = _block(1, struct.pack("<HHI", 101, 0, snaplen))
    parts, mapped = [shb, idb], set()
    for i, (sec, usec, ip) in enumerate(pkts):
        uid, name, pkg = app_of(ip)
        if uid not in mapped:
            mapped.add(uid)
            p, a = pkg.encode(), name.encode()
            parts.append(_block(0x00000BAD, struct.pack("<IHBBiBB", PEN, 1, 1, 0, uid, len(p),
                                                        len(a)) + p + a))
        t = sec * 1_000_000 + usec
        opts = _option(2, struct.pack("<I", 1 + i % 2)) if direction else b""
        opts += _option(1, f"u-{uid}".encode()) + _option(0, b"")
        parts.append(_block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(ip),
                                           len(ip)) + ip + bytes(-len(ip) % 4) + opts))
    Path(dst).write_bytes(b"".join(parts))
    return len(pkts)
