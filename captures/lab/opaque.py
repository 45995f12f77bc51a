"""Offline variants of the lab captures (stdlib only, deterministic).

    python3 captures/lab/opaque.py [--out DIR] [--variant opaque|nosip|all] [scenario...]

- ``opaque``: SIP (UDP 5060) frames removed; the UDP payload of every other flow replaced
  by a per-flow 4-byte tag followed by pseudo-random bytes of the same total length. RTP,
  RTCP (muxed), STUN, TURN ChannelData and the control flow all become opaque, as an
  encrypted messenger call looks. The bytes of a packet are a keyed hash of the flow and
  the original payload, so one packet has the same opaque bytes in the sender and the
  receiver capture (the two ends still match packet for packet) and reruns give identical
  files. UDP checksums are recomputed.
- ``nosip``: only the SIP frames removed (scenarios that have SIP).

Writes ``<s>-<variant>-sender.pcap``, ``<s>-<variant>-receiver.pcap`` and
``<s>-<variant>.truth.json`` (schema anl-lab-truth-variant/1: the variant, the transform,
the per-flow tags, the frames removed, and the per-direction counts of the scenario's
truth, which stay valid: packets are neither added nor dropped except SIP). The scenario's
own ``<s>.truth.json`` remains the full truth. Default output: captures/lab/variants/
(not committed: rerun this script, or let benchmarks/lab_verdicts.py do it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIP_PORT = 5060
KEY = b"anl-lab-opaque/1"


def read_pcap(path: Path) -> tuple[bytes, str, list[tuple[bytes, bytes]]]:
    data = path.read_bytes()
    e = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
         b"\xa1\xb2\x3c\x4d": ">"}[data[:4]]
    recs = []
    off = 24
    while off + 16 <= len(data):
        hdr = data[off : off + 16]
        incl = struct.unpack(e + "IIII", hdr)[2]
        recs.append((hdr, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return data[:24], e, recs


def csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def locate_udp(fr: bytes) -> tuple[int, bytes, bytes, int] | None:
    """(offset of the UDP header, src addr, dst addr, IP version) or None."""
    if len(fr) < 14:
        return None
    et = struct.unpack_from("!H", fr, 12)[0]
    off = 14
    if et == 0x8100:
        et, off = struct.unpack_from("!H", fr, 16)[0], 18
    if et == 0x0800 and len(fr) >= off + 20 and fr[off + 9] == 17:
        ihl = (fr[off] & 0x0F) * 4
        if struct.unpack_from("!H", fr, off + 6)[0] & 0x3FFF:  # fragment
            return None
        return off + ihl, fr[off + 12 : off + 16], fr[off + 16 : off + 20], 4
    if et == 0x86DD and len(fr) >= off + 40 and fr[off + 6] == 17:
        return off + 40, fr[off + 8 : off + 24], fr[off + 24 : off + 40], 6
    return None


def stream_bytes(seed: bytes, n: int) -> bytes:
    out = bytearray()
    k = 0
    while len(out) < n:
        out += hashlib.sha256(seed + k.to_bytes(4, "big")).digest()
        k += 1
    return bytes(out[:n])


def transform(scenario: str, variant: str, src: Path, dst: Path) -> dict:
    head, _e, recs = read_pcap(src)
    out = bytearray(head)
    tags: dict[tuple, str] = {}
    removed = changed = 0
    for hdr, fr in recs:
        loc = locate_udp(fr)
        if loc is not None:
            u, sa, da, ver = loc
            sport, dport, ulen = struct.unpack_from("!HHH", fr, u)
            if SIP_PORT in (sport, dport):
                removed += 1
                continue
            if variant == "opaque" and ulen >= 8 and u + ulen <= len(fr):
                flow = sa + da + struct.pack("!HH", sport, dport)
                tag = hashlib.sha256(KEY + scenario.encode() + flow).digest()[:4]
                orig = fr[u + 8 : u + ulen]
                new = (tag + stream_bytes(KEY + flow + orig, max(0, len(orig) - 4)))[: len(orig)]
                pseudo = (sa + da + struct.pack("!BBH", 0, 17, ulen) if ver == 4
                          else sa + da + struct.pack("!IxxxB", ulen, 17))
                udp = struct.pack("!HHHH", sport, dport, ulen, 0) + new
                c = csum(pseudo + udp) or 0xFFFF
                fr = fr[:u] + struct.pack("!HHHH", sport, dport, ulen, c) + new + fr[u + ulen :]
                key = (_addr(sa), sport, _addr(da), dport)
                tags.setdefault(key, tag.hex())
                changed += 1
        out += hdr + fr
    dst.write_bytes(bytes(out))
    return {"frames_in": len(recs), "frames_out": len(recs) - removed,
            "sip_frames_removed": removed, "udp_payloads_replaced": changed,
            "flows": [{"flow": list(k), "tag": v} for k, v in tags.items()]}


def _addr(b: bytes) -> str:
    import ipaddress
    return str(ipaddress.ip_address(b))


def make(scenario: str, variant: str, lab: Path, out: Path) -> Path | None:
    truth = json.loads((lab / f"{scenario}.truth.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    sides = {}
    for side in ("sender", "receiver"):
        sides[side] = transform(scenario, variant, lab / f"{scenario}-{side}.pcap",
                                out / f"{scenario}-{variant}-{side}.pcap")
    if variant == "nosip" and not any(v["sip_frames_removed"] for v in sides.values()):
        for side in sides:
            (out / f"{scenario}-{variant}-{side}.pcap").unlink()
        return None
    vt = {
        "schema": "anl-lab-truth-variant/1",
        "scenario": scenario,
        "variant": variant,
        "base_truth": f"{scenario}.truth.json",
        "generated_by": "captures/lab/opaque.py",
        "transform": ("SIP frames removed; every other UDP payload replaced by a 4-byte "
                      "per-flow tag + keyed pseudo-random bytes of the same length"
                      if variant == "opaque" else "SIP frames removed"),
        "files": {"sender": f"{scenario}-{variant}-sender.pcap",
                  "receiver": f"{scenario}-{variant}-receiver.pcap"},
        "captures": sides,
        "streams": [{k: st[k] for k in ("direction", "ssrc_hex", "src", "sport", "dst",
                                        "dport", "sent", "received", "lost", "loss_pct",
                                        "cutoff")} for st in truth["streams"]],
        "note": "loss per direction from both ends is unchanged (only SIP frames were "
                "removed); RTP fields (SSRC, sequence) are no longer visible in 'opaque'.",
    }
    p = out / f"{scenario}-{variant}.truth.json"
    p.write_text(json.dumps(vt, indent=1) + "\n")
    return p


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--lab", type=Path, default=HERE)
    ap.add_argument("--out", type=Path, default=HERE / "variants")
    ap.add_argument("--variant", choices=["opaque", "nosip", "all"], default="all")
    a = ap.parse_args()
    names = a.scenarios or sorted(p.name[: -len(".truth.json")]
                                  for p in a.lab.glob("*.truth.json"))
    variants = ["opaque", "nosip"] if a.variant == "all" else [a.variant]
    for s in names:
        for v in variants:
            p = make(s, v, a.lab, a.out)
            if p:
                print(f"{s}: {v} -> {p.parent}/{s}-{v}-{{sender,receiver}}.pcap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
