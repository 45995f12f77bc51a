"""Write captures/lab/expected.json: the analysis result each lab scenario should get.

    python3 captures/lab/expected.py [--check]

Derived from the truth files (and, for the shaper's delay onset, from the two pcaps), never
from the analyzer. What a scenario *is* (its verdict, the patterns an impairment makes, the
benign confounder kinds) is stated once in SEMANTICS below; the numbers (onset, rate,
period, cut-off time) come from the truth.

Per scenario: ``verdict``; ``patterns`` per direction (the patterns that must be found on
that direction's stream in the analysed capture; ``[]`` = no finding allowed) and
``allowed_extra`` (patterns that may also appear there without being wrong, e.g. ``loss``
next to ``rate_cap`` for a policer); ``rate_bps`` (the IP-layer cap, or null),
``rate_bps_delivered`` (the median delivered IP rate once the cap bites, from the
receiving capture); ``mode`` (policing/shaping); ``period_s``; ``onset_s`` (time of the
first visible effect, seconds from the first record of the analysed capture);
``impairment_start_s`` (when the middlebox rule took effect, or the stream's first
packet for an impairment set up before the media); ``cutoff_at_s`` (last packet received
before a cut); ``benign`` (confounder kinds that
explain a gap/change benignly: handover, dtx, codec_change, hangup, dtmf, ...); ``calls``
(calls in the capture); ``capture`` (which pcap these values describe: ``receiver`` =
B's side, where A -> B arrives; for ``blocked``, both captures show the unanswered
requests); ``sender`` (where the A-side capture shows more, e.g. the B -> A cut of
``cutboth``); ``variants`` (the same expectations hold for these variants; opaque hides
SIP and RTP, so SDP-based pairing and SSRC continuity are gone but loss/timing are not).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import truth as T  # noqa: E402

CLEAN = {"verdict": "clean", "ab": [], "ba": []}
SEMANTICS: dict[str, dict] = {
    "clean": CLEAN,
    "clean60": CLEAN,
    "sdp": CLEAN,
    "asym": {**CLEAN, "note": "asymmetric ports: one call, two one-way 5-tuples"},
    "turn": {**CLEAN, "note": "A's side carries RTP inside TURN ChannelData (A-side capture)"},
    "ipv6": CLEAN,
    "stun": {**CLEAN, "note": "STUN consent checks answered on the media 5-tuple"},
    "loss5": {"verdict": "degraded", "ab": ["loss"], "ba": [], "extra": ["burst_loss"]},
    "cutoff": {"verdict": "degraded", "ab": ["cutoff"], "ba": []},
    "cutboth": {"verdict": "degraded", "ab": ["cutoff"], "ba": [],
                "sender": {"ab": [], "ba": ["cutoff"]},
                "note": "both directions cut at 8 s while SIP OPTIONS and a UDP control flow "
                        "go on; B's capture shows the A->B cut, A's capture the B->A cut"},
    "periodic": {"verdict": "degraded", "ab": ["periodic_drop"], "ba": [],
                 "extra": ["burst_loss", "loss", "metallic_risk"]},
    "periodic2": {"verdict": "degraded", "ab": ["periodic_drop"], "ba": [],
                  "extra": ["burst_loss", "loss", "metallic_risk"]},
    "ratecap": {"verdict": "degraded", "ab": ["rate_cap"], "ba": [], "mode": "shaping",
                "extra": ["loss", "jitter", "burst_loss", "metallic_risk"]},
    "shape24": {"verdict": "degraded", "ab": ["rate_cap"], "ba": [], "mode": "shaping",
                "extra": ["loss", "jitter", "burst_loss", "metallic_risk"]},
    "police16": {"verdict": "degraded", "ab": ["rate_cap"], "ba": [], "mode": "policing",
                 "extra": ["loss", "burst_loss", "metallic_risk"]},
    "police32": {"verdict": "degraded", "ab": ["rate_cap"], "ba": [], "mode": "policing",
                 "extra": ["loss", "burst_loss", "metallic_risk"]},
    "frames60dtx": {**CLEAN, "benign": ["dtx"],
                    "note": "A->B silences of 0.8-2.5 s are DTX, not loss"},
    "codecchange": {**CLEAN, "benign": ["codec_change"],
                    "note": "same SSRC, sequence continued; PT 111/20 ms -> PT 96/60 ms"},
    "pathswitch": {**CLEAN, "benign": ["handover"],
                   "note": "IPv6 -> IPv4 after a 2 s gap in both directions, same SSRCs"},
    "dtmf": {**CLEAN, "benign": ["dtmf"],
             "note": "A->B is RFC 4733 telephone-event only: gaps between digits are not loss"},
    "hangup": {**CLEAN, "benign": ["hangup"],
               "note": "every leg ends at once with RTCP BYE and SIP BYE; 6 s of capture after"},
    "b2b": {**CLEAN, "benign": ["hangup"], "calls": 2,
            "note": "two calls on the same 5-tuples, BYE then INVITE 0.1 s later, new SSRCs"},
    "blocked": {"verdict": "blocked", "ab": [], "ba": [], "capture_patterns": ["blocked_setup"],
                "note": "STUN binding requests every 0.5 s on the media 5-tuple in both "
                        "directions, all dropped; SIP signalling itself succeeded"},
}


def shaper_delay_onset(s: str, truth: dict, threshold_ms: float = 20.0) -> float | None:
    """First arrival (receiver-capture time) of an A->B packet delayed by more than
    `threshold_ms` over the minimum one-way delay (the queue starts to build)."""
    sent, recv = {}, []
    for side in ("sender", "receiver"):
        recs = T.read_pcap(HERE / f"{s}-{side}.pcap")
        for t, fr in recs:
            u = T.parse_udp(fr)
            if u is None:
                continue
            r = T.rtp_of(u["payload"])
            if r is None or r[0]["ssrc"] != truth["streams"][0]["ssrc"]:
                continue
            if side == "sender":
                sent[r[0]["seq"]] = t
            else:
                recv.append((t, t - sent.get(r[0]["seq"], t)))
    t0 = truth["captures"]["receiver"]["first_record_epoch"]
    dmin = min(d for _, d in recv)
    return next((round(t - t0, 3) for t, d in recv if d - dmin > threshold_ms / 1000), None)


def build() -> dict:
    out = {}
    for s, sem in SEMANTICS.items():
        p = HERE / f"{s}.truth.json"
        if not p.exists():
            continue
        truth = json.loads(p.read_text())
        imp = truth["params"]["impairment"]
        by_dir: dict[str, list] = {"a_to_b": [], "b_to_a": []}
        for st in truth["streams"]:
            by_dir[st["direction"]].append(st)
        ab = by_dir["a_to_b"][0] if by_dir["a_to_b"] else None
        onset = rate = delivered = period = cut = start = None
        if ab is not None and sem["verdict"] == "degraded":
            ev = [e for e in truth["events"]
                  if e["event"] in ("drop_on", "police_on", "tbf_on", "loss_on")]
            start = max(ev[0]["t_receiver"], ab["t_first_sent"]) if ev else ab["t_first_sent"]
            start = round(start, 6)
            if ab["lost_runs"]:
                onset = ab["lost_runs"][0]["t_first_sent"]
            if sem.get("mode") == "shaping":
                d = shaper_delay_onset(s, truth)
                onset = d if onset is None or (d is not None and d < onset) else onset
            if sem.get("mode"):
                if imp["kind"] == "police" or "rate_bps_ip" in imp:
                    rate = imp["rate_bps_ip"]
                else:  # ratecap: tbf counts 174-byte Ethernet frames of 160-byte packets
                    rate = round(imp["rate_bps"] * 160 / 174)
                k0 = int(onset) + 2 if onset is not None else 2
                per = ab["per_second"]["received_ip_bytes"][k0:-1]
                delivered = round(statistics.median(per) * 8) if per else None
            if imp["kind"] == "periodic_drop":
                period = imp["period_s"]
            if ab["cutoff"]:
                cut = ab["cutoff"]["t_last_received"]
        e = {
            "verdict": sem["verdict"],
            "patterns": {"a_to_b": sem["ab"], "b_to_a": sem["ba"]},
            "allowed_extra": sem.get("extra", []),
            "capture_patterns": sem.get("capture_patterns", []),
            "rate_bps": rate,
            "rate_bps_delivered": delivered,
            "mode": sem.get("mode"),
            "period_s": period,
            "onset_s": onset,
            "impairment_start_s": start,
            "cutoff_at_s": cut,
            "benign": sem.get("benign", []),
            "calls": sem.get("calls", 0 if sem["verdict"] == "blocked" else 1),
            "capture": "receiver",
            "sip": bool(truth["params"].get("sdp")),
            "variants": ["plain", "opaque"] + (["nosip"] if truth["params"].get("sdp")
                                                 else []),
            "impairment": imp.get("kind"),
            "note": sem.get("note", truth["params"].get("description", "")),
        }
        if "sender" in sem:
            ba = by_dir["b_to_a"][0]
            e["sender"] = {"patterns": {"a_to_b": sem["sender"]["ab"],
                                        "b_to_a": sem["sender"]["ba"]},
                           "onset_s": ba["lost_runs"][0]["t_first_sent"] if ba["lost_runs"]
                           else None,
                           "cutoff_at_s": ba["cutoff"]["t_last_received"] if ba["cutoff"]
                           else None}
        out[s] = e
    return out


def main() -> int:
    path = HERE / "expected.json"
    text = json.dumps(build(), indent=1) + "\n"
    if "--check" in sys.argv:
        ok = path.exists() and path.read_text() == text
        print(f"{path}: {'up to date' if ok else 'STALE (rerun expected.py)'}")
        return 0 if ok else 1
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
