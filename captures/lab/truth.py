"""Ground truth for a lab scenario, from the sender-side and receiver-side captures.

Both captures were taken on the same kernel (different network namespaces), so their
timestamps share one clock: one-way delay and the send time of a lost packet are exact.
Stdlib only (plain struct parsing), so it runs with any python3 >= 3.10.

    python3 truth.py --scenario loss5 --dir captures/lab --params P.json --events E.jsonl

Writes <dir>/<scenario>.truth.json; see captures/lab/README.md for the schema.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import struct
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

SCHEMA = "anl-lab-truth/1"
CUTOFF_MIN_S = 1.0  # a trailing loss run lasting at least this long is reported as a cut-off


# ---------------------------------------------------------------- pcap reading


def read_pcap(path: Path) -> list[tuple[float, bytes]]:
    data = path.read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"{path}: linktype {linktype}, expected 1 (Ethernet)")
    div = 1e9 if nano else 1e6
    out = []
    off = 24
    hdr = struct.Struct(endian + "IIII")
    while off + 16 <= len(data):
        sec, frac, incl, _orig = hdr.unpack_from(data, off)
        off += 16
        out.append((sec + frac / div, data[off : off + incl]))
        off += incl
    return out


def parse_rtp(frame: bytes) -> dict | None:
    """Ethernet/IPv4/UDP/RTPv2 -> fields, or None."""
    eth_type = struct.unpack_from("!H", frame, 12)[0]
    off = 14
    if eth_type == 0x8100:
        eth_type = struct.unpack_from("!H", frame, 16)[0]
        off = 18
    if eth_type != 0x0800 or len(frame) < off + 20:
        return None
    ihl = (frame[off] & 0x0F) * 4
    if frame[off + 9] != 17:
        return None
    ip_len = struct.unpack_from("!H", frame, off + 2)[0]
    src = socket.inet_ntoa(frame[off + 12 : off + 16])
    dst = socket.inet_ntoa(frame[off + 16 : off + 20])
    u = off + ihl
    if len(frame) < u + 8 + 12:
        return None
    sport, dport, ulen = struct.unpack_from("!HHH", frame, u)
    r = u + 8
    b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", frame, r)
    if b0 >> 6 != 2:
        return None
    return {
        "src": src, "sport": sport, "dst": dst, "dport": dport,
        "ssrc": ssrc, "pt": b1 & 0x7F, "marker": b1 >> 7, "seq": seq, "ts": ts,
        "ip_len": ip_len, "frame_len": len(frame), "payload_len": ulen - 8 - 12,
    }


# ---------------------------------------------------------------- tshark text


def parse_tshark_rtp(path: Path) -> list[dict]:
    rows = []
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        tok = line.split()
        if len(tok) < 17 or not tok[6].lower().startswith("0x"):
            continue
        try:
            rows.append({
                "start": float(tok[0]), "end": float(tok[1]),
                "src": tok[2], "sport": int(tok[3]), "dst": tok[4], "dport": int(tok[5]),
                "ssrc": int(tok[6], 16), "payload": tok[7], "packets": int(tok[8]),
                "lost": int(tok[9]), "lost_pct": float(tok[10].strip("()%")),
                "min_delta_ms": float(tok[11]), "mean_delta_ms": float(tok[12]),
                "max_delta_ms": float(tok[13]), "min_jitter_ms": float(tok[14]),
                "mean_jitter_ms": float(tok[15]), "max_jitter_ms": float(tok[16]),
                "problems": len(tok) > 17 and tok[17] == "X",
            })
        except ValueError:
            continue
    return rows


# ---------------------------------------------------------------- truth


def runs(sorted_idx: list[int]) -> list[tuple[int, int]]:
    """[(first_index, length)] of consecutive integers."""
    out: list[tuple[int, int]] = []
    for i in sorted_idx:
        if out and out[-1][0] + out[-1][1] == i:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[k]


def stream_truth(
    direction: str, key: tuple, sent_pk: list[dict], recv_pk: list[dict],
    sent_file: str, recv_file: str, recv_t0: float, media_t0: float | None,
) -> dict:
    src, sport, dst, dport = key
    ssrcs = Counter(p["ssrc"] for p in sent_pk)
    ssrc = ssrcs.most_common(1)[0][0]
    sent = [p for p in sent_pk if p["ssrc"] == ssrc]
    recv = [p for p in recv_pk if p["ssrc"] == ssrc]
    if len(sent) >= 0x8000:
        raise ValueError("stream too long for exact seq matching")
    by_seq = {p["seq"]: i for i, p in enumerate(sent)}
    if len(by_seq) != len(sent):
        raise ValueError(f"{direction}: duplicate sequence numbers on the sender side")

    idx_recv: list[int] = []
    unknown = 0
    for p in recv:
        i = by_seq.get(p["seq"])
        if i is None:
            unknown += 1
        else:
            idx_recv.append(i)
    got = set(idx_recv)
    duplicates = len(idx_recv) - len(got)
    reordered = sum(1 for a, b in pairwise(idx_recv) if b < a)
    lost_idx = [i for i in range(len(sent)) if i not in got]

    def rel(t: float) -> float:
        return round(t - recv_t0, 6)

    lost_runs = []
    for first, n in runs(lost_idx):
        last = first + n - 1
        lost_runs.append({
            "first_seq": sent[first]["seq"], "last_seq": sent[last]["seq"], "count": n,
            "first_index": first,
            "t_first_sent": rel(sent[first]["t"]), "t_last_sent": rel(sent[last]["t"]),
        })

    # what tshark calls lost: span between first and last arrival minus arrivals
    span_lost = (max(got) - min(got) + 1) - len(idx_recv) if got else 0
    leading = min(got) if got else len(sent)
    trailing = (len(sent) - 1 - max(got)) if got else len(sent)

    cutoff = None
    if got and trailing:
        first_missing = max(got) + 1
        last_recv = max((p for p in recv), key=lambda p: p["t"])
        dur = sent[-1]["t"] - sent[first_missing]["t"]
        if dur >= CUTOFF_MIN_S:
            cutoff = {
                "seq": sent[first_missing]["seq"], "index": first_missing,
                "t": rel(sent[first_missing]["t"]),
                "t_media": (
                    round(sent[first_missing]["t"] - media_t0, 6) if media_t0 else None
                ),
                "t_last_received": rel(last_recv["t"]),
                "packets_not_delivered_after": trailing,
                "sender_continued_for_s": round(dur, 6),
            }

    # one-way delay (same kernel clock in both namespaces)
    t_sent = [p["t"] for p in sent]
    delays = [
        (p["t"] - t_sent[by_seq[p["seq"]]]) * 1e3 for p in recv if p["seq"] in by_seq
    ]
    delay = None
    if delays:
        delay = {
            "min": round(min(delays), 3), "median": round(statistics.median(delays), 3),
            "p95": round(pct(delays, 0.95), 3), "max": round(max(delays), 3),
        }

    ts_steps = [
        (b["ts"] - a["ts"]) & 0xFFFFFFFF for a, b in pairwise(sent)
    ]
    ts_step = statistics.median(ts_steps) if ts_steps else None

    # per-second bins relative to the receiving capture's first record
    nbins = int(max(p["t"] for p in sent_pk + recv_pk) - recv_t0) + 1
    sent_ps = [0] * nbins
    recv_ps = [0] * nbins
    recv_bytes_ps = [0] * nbins
    for p in sent:
        b = int(p["t"] - recv_t0)
        if 0 <= b < nbins:
            sent_ps[b] += 1
    for p in recv:
        b = int(p["t"] - recv_t0)
        if 0 <= b < nbins:
            recv_ps[b] += 1
            recv_bytes_ps[b] += p["ip_len"]

    return {
        "direction": direction,
        "src": src, "sport": sport, "dst": dst, "dport": dport,
        "ssrc": ssrc, "ssrc_hex": f"0x{ssrc:08X}",
        "payload_type": sent[0]["pt"], "clock_rate": 48000,
        "rtp_ts_step": ts_step, "frame_ms": ts_step / 48 if ts_step else None,
        "sent_in": sent_file, "received_in": recv_file,
        "time_origin": f"first record of {recv_file}",
        "t_first_sent": rel(sent[0]["t"]), "t_last_sent": rel(sent[-1]["t"]),
        "t_first_received": rel(recv[0]["t"]) if recv else None,
        "t_last_received": rel(recv[-1]["t"]) if recv else None,
        "first_seq": sent[0]["seq"], "last_seq": sent[-1]["seq"],
        "seq_wraps": any(y["seq"] < x["seq"] for x, y in pairwise(sent)),
        "sent": len(sent), "received": len(idx_recv), "lost": len(lost_idx),
        "loss_pct": round(100.0 * len(lost_idx) / len(sent), 3),
        "lost_seq": [sent[i]["seq"] for i in lost_idx],
        "lost_runs": lost_runs,
        "lost_run_length_histogram": dict(
            sorted(Counter(r["count"] for r in lost_runs).items())
        ),
        "leading_lost": leading, "trailing_lost": trailing,
        "lost_within_received_span": span_lost,
        "duplicates": duplicates, "reordered": reordered, "unknown_at_receiver": unknown,
        "cutoff": cutoff,
        "one_way_delay_ms": delay,
        "sent_bytes_ip": sum(p["ip_len"] for p in sent),
        "received_bytes_ip": sum(p["ip_len"] for p in recv),
        "mean_payload_bytes": round(statistics.mean(p["payload_len"] for p in sent), 2),
        "per_second": {"sent": sent_ps, "received": recv_ps, "received_ip_bytes": recv_bytes_ps},
    }


def counter_from(text: str, pattern: str) -> int | None:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--params", type=Path)
    ap.add_argument("--events", type=Path)
    ap.add_argument("--nft-counter", type=Path)
    ap.add_argument("--tc-stats", type=Path)
    ap.add_argument(
        "--check", action="store_true",
        help="recompute from the committed pcaps/tshark texts, using the params, events and "
        "middlebox counters stored in the existing truth file; exit 1 if anything differs",
    )
    args = ap.parse_args()

    s = args.scenario
    out = args.dir / f"{s}.truth.json"
    old = None
    nft_text = tc_text = None
    if args.check:
        old = json.loads(out.read_text())
        params = old["params"]
        events = [{k: e[k] for k in ("t", "event", "detail")} for e in old["events"]]
        mb = old["middlebox"]
        if mb.get("nft_dropped_packets") is not None:
            nft_text = f"packets {mb['nft_dropped_packets']}"
        tc_text = mb.get("tc_qdisc_stats")
    else:
        if args.params is None:
            ap.error("--params is required unless --check")
        params = json.loads(args.params.read_text())
        events = []
        if args.events and args.events.exists():
            events = [json.loads(x) for x in args.events.read_text().splitlines() if x.strip()]
        if args.nft_counter and args.nft_counter.exists():
            nft_text = args.nft_counter.read_text()
        if args.tc_stats and args.tc_stats.exists():
            tc_text = args.tc_stats.read_text()
    if "hosts" in params:  # scenarios.py (schema 2): streams by host and SSRC
        return main_v2(args, params, events, nft_text, tc_text, old, out)
    ep = params["endpoints"]
    a = (ep["a"]["ip"], ep["a"]["rtp_port"])
    b = (ep["b"]["ip"], ep["b"]["rtp_port"])
    files = {"sender": f"{s}-sender.pcap", "receiver": f"{s}-receiver.pcap"}

    caps = {}
    for side, name in files.items():
        recs = read_pcap(args.dir / name)
        rtp = []
        for t, fr in recs:
            p = parse_rtp(fr)
            if p is not None:
                p["t"] = t
                rtp.append(p)
        caps[side] = {"records": recs, "rtp": rtp}

    media_t0 = next((e["t"] for e in events if e["event"] == "t0"), None)

    def flow(side: str, src: tuple, dst: tuple) -> list[dict]:
        return [
            p for p in caps[side]["rtp"]
            if (p["src"], p["sport"], p["dst"], p["dport"]) == (*src, *dst)
        ]

    t0 = {side: c["records"][0][0] for side, c in caps.items()}
    streams = [
        stream_truth(
            "a_to_b", (*a, *b), flow("sender", a, b), flow("receiver", a, b),
            files["sender"], files["receiver"], t0["receiver"], media_t0,
        ),
        stream_truth(
            "b_to_a", (*b, *a), flow("receiver", b, a), flow("sender", b, a),
            files["receiver"], files["sender"], t0["sender"], media_t0,
        ),
    ]
    imp = params["impairment"]
    for st in streams:
        st["impaired"] = imp.get("kind") != "none" and imp.get("direction") == st["direction"]

    for e in events:
        e["t_receiver"] = round(e["t"] - t0["receiver"], 6)
        e["t_media"] = round(e["t"] - media_t0, 6) if media_t0 else None

    tshark = {
        side: parse_tshark_rtp(args.dir / f"{s}.{side}.tshark-rtp.txt")
        for side in ("sender", "receiver")
    }
    noheur_path = args.dir / f"{s}.receiver.tshark-rtp-noheur.txt"
    if noheur_path.exists():
        tshark["receiver_noheur"] = parse_tshark_rtp(noheur_path)

    def find(rows: list[dict], st: dict) -> dict | None:
        for r in rows:
            if (r["src"], r["sport"], r["dst"], r["dport"], r["ssrc"]) == (
                st["src"], st["sport"], st["dst"], st["dport"], st["ssrc"]
            ):
                return r
        return None

    checks: dict[str, object] = {}
    for st in streams:
        recv_side = "receiver" if st["received_in"] == files["receiver"] else "sender"
        send_side = "sender" if recv_side == "receiver" else "receiver"
        d = st["direction"]
        r = find(tshark[recv_side], st)
        rs = find(tshark[send_side], st)
        checks[f"{d}.tshark_found_in_receiving_capture"] = r is not None
        checks[f"{d}.tshark_found_in_sending_capture"] = rs is not None
        if r is not None:
            checks[f"{d}.tshark_packets_equal_received"] = r["packets"] == st["received"]
            checks[f"{d}.tshark_lost_equals_lost_within_span"] = (
                r["lost"] == st["lost_within_received_span"]
            )
            checks[f"{d}.tshark_lost_equals_truth_lost"] = r["lost"] == st["lost"]
            st["tshark_receiving_capture"] = r
        if rs is not None:
            checks[f"{d}.tshark_sending_capture_packets_equal_sent"] = rs["packets"] == st["sent"]
        if "receiver_noheur" in tshark:
            rn = find(tshark["receiver_noheur"], st)
            if recv_side == "receiver":
                checks[f"{d}.tshark_noheur_decodes_via_sdp"] = (
                    rn is not None and rn["packets"] == st["received"]
                )

    middlebox: dict[str, object] = {}
    ab = streams[0]
    if nft_text is not None:
        n = counter_from(nft_text, r"packets (\d+)")
        middlebox["nft_dropped_packets"] = n
        if imp["kind"] in ("random_loss", "cutoff", "periodic_drop"):
            checks["a_to_b.nft_dropped_equals_lost"] = n == ab["lost"]
    if tc_text is not None:
        txt = tc_text
        middlebox["tc_qdisc_stats"] = txt.strip()
        tbf = txt[txt.find("qdisc tbf") :] if "qdisc tbf" in txt else ""
        n = counter_from(tbf, r"dropped (\d+)")
        middlebox["tc_dropped_packets"] = n
        if imp["kind"] == "rate_cap":
            checks["a_to_b.tc_dropped_equals_lost"] = n == ab["lost"]

    truth = {
        "schema": SCHEMA,
        "scenario": s,
        "generated_by": "captures/lab/record.sh",
        "files": {
            **files,
            "sender_tshark": f"{s}.sender.tshark-rtp.txt",
            "receiver_tshark": f"{s}.receiver.tshark-rtp.txt",
            **({"receiver_tshark_noheur": noheur_path.name} if noheur_path.exists() else {}),
        },
        "params": params,
        "captures": {
            side: {
                "file": files[side],
                "namespace": ep["a" if side == "sender" else "b"]["namespace"],
                "interface": ep["a" if side == "sender" else "b"]["interface"],
                "records": len(c["records"]),
                "rtp_packets": len(c["rtp"]),
                "first_record_epoch": c["records"][0][0],
                "last_record_epoch": c["records"][-1][0],
            }
            for side, c in caps.items()
        },
        "events": events,
        "middlebox": middlebox,
        "streams": streams,
        "tshark": tshark,
        "checks": checks,
    }
    done = _write_or_check(truth, old, out, files)
    if done is not None:
        return done

    for st in streams:
        r = st.get("tshark_receiving_capture") or {}
        co = st["cutoff"]
        print(
            f"  {s} {st['direction']}: sent {st['sent']} received {st['received']} "
            f"lost {st['lost']} ({st['loss_pct']}%) runs {len(st['lost_runs'])} "
            f"span-lost {st['lost_within_received_span']} | tshark pkts {r.get('packets')} "
            f"lost {r.get('lost')}"
            + (f" | cutoff at {co['t']:.3f}s seq {co['seq']}" if co else "")
            + (f" | delay ms {st['one_way_delay_ms']}" if st["impaired"] else "")
        )
    bad = [k for k, v in checks.items() if v is False and not k.endswith("equals_truth_lost")]
    for k in bad:
        print(f"  CHECK FAILED: {k}", file=sys.stderr)
    return 1 if bad else 0


# ---------------------------------------------------------------- schema 2 (scenarios.py)
#
# The extended scenarios move media between 5-tuples (asymmetric ports, a path switch, a
# TURN relay, IPv4 and IPv6), change SSRC mid-call or carry no media at all. A packet's
# direction is therefore decided by *who sent it* (its source address belongs to host A
# or host B, `params["hosts"]`), and a stream is one SSRC of one direction, matched
# between the two captures by (SSRC, sequence number) whatever 5-tuple carried it.

SCHEMA2 = "anl-lab-truth/2"


def _write_or_check(truth: dict, old: dict | None, out: Path, files: dict) -> int | None:
    """With an earlier truth file (``old``), compare and return the exit status; else write
    ``out`` and return ``None`` (carry on and print the summary)."""
    if old is not None:
        new = json.loads(json.dumps(truth))
        diff = [k for k in set(new) | set(old) if new.get(k) != old.get(k)]
        if diff:
            print(f"{out}: differs from a recomputation in {sorted(diff)}", file=sys.stderr)
            return 1
        print(f"{out}: consistent with {files['sender']} and {files['receiver']}")
        return 0
    out.write_text(json.dumps(truth, indent=1) + "\n")
    return None


def parse_udp(frame: bytes) -> dict | None:
    """Ethernet/IPv4-or-IPv6/UDP -> addresses, ports, payload."""
    if len(frame) < 14:
        return None
    eth_type = struct.unpack_from("!H", frame, 12)[0]
    off = 14
    if eth_type == 0x8100:
        eth_type = struct.unpack_from("!H", frame, 16)[0]
        off = 18
    if eth_type == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 0x0F) * 4
        if frame[off + 9] != 17:
            return None
        ip_len = struct.unpack_from("!H", frame, off + 2)[0]
        src = socket.inet_ntoa(frame[off + 12 : off + 16])
        dst = socket.inet_ntoa(frame[off + 16 : off + 20])
        u = off + ihl
    elif eth_type == 0x86DD and len(frame) >= off + 40:
        if frame[off + 6] != 17:  # no extension headers in the lab
            return None
        ip_len = 40 + struct.unpack_from("!H", frame, off + 4)[0]
        src = socket.inet_ntop(socket.AF_INET6, frame[off + 8 : off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, frame[off + 24 : off + 40])
        u = off + 40
    else:
        return None
    if len(frame) < u + 8:
        return None
    sport, dport, ulen = struct.unpack_from("!HHH", frame, u)
    return {"src": src, "sport": sport, "dst": dst, "dport": dport, "ip_len": ip_len,
            "frame_len": len(frame), "payload": frame[u + 8 : u + ulen]}


def rtp_of(payload: bytes) -> tuple[dict, int] | None:
    """RTP header fields (not RTCP, not STUN) and the framing: 0 = plain, 4 = inside a
    TURN ChannelData message (channel 0x4000-0x4FFF, RFC 8656 §12.4)."""
    off = 0
    if len(payload) >= 4 and 0x40 <= payload[0] <= 0x4F:
        n = struct.unpack_from("!H", payload, 2)[0]
        if n <= len(payload) - 4:
            off = 4
    if len(payload) < off + 12 or payload[off] >> 6 != 2:
        return None
    b1 = payload[off + 1]
    if 200 <= b1 <= 204 or 72 <= (b1 & 0x7F) <= 76:  # RTCP (muxed)
        return None
    _b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", payload, off)
    return {"ssrc": ssrc, "pt": b1 & 0x7F, "marker": b1 >> 7, "seq": seq, "ts": ts,
            "payload_len": len(payload) - off - 12}, off


def main_v2(args, params: dict, events: list, nft_text, tc_text, old, out: Path) -> int:
    s = args.scenario
    files = {"sender": f"{s}-sender.pcap", "receiver": f"{s}-receiver.pcap"}
    hosts = {k: set(v) for k, v in params["hosts"].items()}
    skip_ports = set(params.get("non_media_ports", []))
    caps: dict[str, dict] = {}
    for side, name in files.items():
        recs = read_pcap(args.dir / name)
        local = "a" if side == "sender" else "b"
        rtp = []
        kinds: Counter = Counter()
        for t, fr in recs:
            u = parse_udp(fr)
            if u is None:
                kinds["non_udp"] += 1
                continue
            if u["sport"] in skip_ports or u["dport"] in skip_ports:
                kinds["signalling_or_control"] += 1
                continue
            r = rtp_of(u["payload"])
            if r is None:
                pl = u["payload"]
                kinds["stun" if len(pl) >= 20 and pl[4:8] == b"\x21\x12\xa4\x42"
                      else "rtcp" if len(pl) >= 8 and pl[0] >> 6 == 2 else "other_udp"] += 1
                continue
            p, framing = r
            kinds["rtp_channeldata" if framing else "rtp"] += 1
            if u["src"] in hosts[local]:
                d = "a_to_b" if local == "a" else "b_to_a"
            elif u["dst"] in hosts[local]:
                d = "b_to_a" if local == "a" else "a_to_b"
            else:
                continue
            p.update({k: u[k] for k in ("src", "sport", "dst", "dport", "ip_len", "frame_len")})
            p.update({"t": t, "direction": d, "channeldata": bool(framing)})
            rtp.append(p)
        caps[side] = {"records": recs, "rtp": rtp, "kinds": dict(sorted(kinds.items()))}

    t0 = {side: c["records"][0][0] for side, c in caps.items()}
    media_t0 = next((e["t"] for e in events if e["event"] == "t0"), None)
    imp = params["impairment"]
    impaired_dirs = set(imp.get("directions", [imp["direction"]] if "direction" in imp else []))
    streams = []
    for d in ("a_to_b", "b_to_a"):
        send_side, recv_side = ("sender", "receiver") if d == "a_to_b" else ("receiver", "sender")
        sent_all = [p for p in caps[send_side]["rtp"] if p["direction"] == d]
        recv_all = [p for p in caps[recv_side]["rtp"] if p["direction"] == d]
        for ssrc in dict.fromkeys(p["ssrc"] for p in sent_all):
            sp = [p for p in sent_all if p["ssrc"] == ssrc]
            rp = [p for p in recv_all if p["ssrc"] == ssrc]
            st = stream_truth(d, (sp[0]["src"], sp[0]["sport"], sp[0]["dst"], sp[0]["dport"]),
                              sp, rp, files[send_side], files[recv_side], t0[recv_side],
                              media_t0)
            tuples_r = list(dict.fromkeys((p["src"], p["sport"], p["dst"], p["dport"])
                                          for p in rp))
            tuples_s = list(dict.fromkeys((p["src"], p["sport"], p["dst"], p["dport"])
                                          for p in sp))
            if tuples_r:  # identity as the receiving capture shows it
                st.update(dict(zip(("src", "sport", "dst", "dport"), tuples_r[0], strict=False)))
            st["tuples_received"] = [list(x) for x in tuples_r]
            st["tuples_sent"] = [list(x) for x in tuples_s]
            st["payload_types"] = sorted({p["pt"] for p in sp})
            st["channeldata_sent"] = sum(p["channeldata"] for p in sp)
            st["channeldata_received"] = sum(p["channeldata"] for p in rp)
            st["impaired"] = d in impaired_dirs
            streams.append(st)

    for e in events:
        e["t_receiver"] = round(e["t"] - t0["receiver"], 6)
        e["t_media"] = round(e["t"] - media_t0, 6) if media_t0 else None

    tshark = {side: parse_tshark_rtp(args.dir / f"{s}.{side}.tshark-rtp.txt")
              for side in ("sender", "receiver")}
    checks: dict[str, object] = {}
    for st in streams:
        key = f"{st['direction']}.{st['ssrc_hex']}"
        checks[f"{key}.no_duplicates_or_unknown"] = (
            st["duplicates"] == 0 and st["unknown_at_receiver"] == 0)
        recv_side = "receiver" if st["received_in"] == files["receiver"] else "sender"
        rows = [r for r in tshark[recv_side] if r["ssrc"] == st["ssrc"]
                and [r["src"], r["sport"], r["dst"], r["dport"]] in st["tuples_received"]]
        if rows and len(st["tuples_received"]) == 1:
            checks[f"{key}.tshark_packets_equal_received"] = (
                sum(r["packets"] for r in rows) == st["received"])
            st["tshark_receiving_capture"] = rows[0]

    middlebox: dict[str, object] = {}
    lost_impaired = sum(st["lost"] for st in streams if st["impaired"])
    lost_all = sum(st["lost"] for st in streams)
    if nft_text is not None:
        n = counter_from(nft_text, r"packets (\d+)")
        middlebox["nft_dropped_packets"] = n
        if imp.get("counter_counts") == "media":
            checks["nft_dropped_equals_lost"] = n == lost_impaired
    if tc_text is not None:
        middlebox["tc_qdisc_stats"] = tc_text.strip()
        tbf = tc_text[tc_text.find("qdisc tbf"):] if "qdisc tbf" in tc_text else ""
        n = counter_from(tbf, r"dropped (\d+)")
        middlebox["tc_dropped_packets"] = n
        if imp.get("kind") == "rate_cap":
            checks["tc_dropped_equals_lost"] = n == lost_impaired
    checks["unimpaired_directions_lossless"] = all(
        st["lost"] == 0 for st in streams if not st["impaired"])
    if imp.get("kind") == "none":
        checks["no_loss_at_all"] = lost_all == 0

    truth = {
        "schema": SCHEMA2,
        "scenario": s,
        "variant": "plain",
        "generated_by": "captures/lab/scenarios.py",
        "files": {**files, "sender_tshark": f"{s}.sender.tshark-rtp.txt",
                  "receiver_tshark": f"{s}.receiver.tshark-rtp.txt"},
        "params": params,
        "captures": {
            side: {
                "file": files[side],
                "host": "a" if side == "sender" else "b",
                "records": len(c["records"]),
                "rtp_packets": len(c["rtp"]),
                "udp_kinds": c["kinds"],
                "first_record_epoch": c["records"][0][0],
                "last_record_epoch": c["records"][-1][0],
                "duration_s": round(c["records"][-1][0] - c["records"][0][0], 6),
            }
            for side, c in caps.items()
        },
        "events": events,
        "middlebox": middlebox,
        "streams": streams,
        "tshark": tshark,
        "checks": checks,
    }
    done = _write_or_check(truth, old, out, files)
    if done is not None:
        return done
    for st in streams:
        co = st["cutoff"]
        print(f"  {s} {st['direction']} {st['ssrc_hex']} pt {st['payload_types']}: "
              f"sent {st['sent']} received {st['received']} lost {st['lost']} "
              f"({st['loss_pct']}%) runs {len(st['lost_runs'])}"
              + (f" | cutoff at {co['t']:.3f}s" if co else "")
              + (f" | delay ms {st['one_way_delay_ms']}" if st["impaired"] else ""))
    bad = [k for k, v in checks.items() if v is False]
    for k in bad:
        print(f"  CHECK FAILED: {k}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
