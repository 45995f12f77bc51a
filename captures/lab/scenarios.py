"""Record the extended lab scenarios (real kernel, both ends captured, exact truth).

    sudo python3 captures/lab/scenarios.py [scenario...]        (default: all of them)
    OUT=/tmp/lab sudo -E python3 captures/lab/scenarios.py asym
    LAB_DEBUG=1 ...   keep the work directory (logs, events, middlebox counters)

Same topology as record.sh (anl-a --- anl-mb bridge --- anl-b, tcpdump on veth-a and
veth-b, impairments in the middlebox between the two capture points), plus a TURN server
namespace (anl-t, coturn) on the bridge for `turn`, IPv6 (fd00::/64) for `ipv6` and
`pathswitch`, and a second address 10.77.0.3 on A. Stdlib only; drives `ip`, `nft`, `tc`,
`tcpdump`, `gst-launch-1.0`, `turnserver` and the helpers sip.py and labnet.py. The truth
(schema anl-lab-truth/2) is written by truth.py from the two captures. See README.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("OUT", HERE))
PY = os.environ.get("PYTHON", sys.executable if sys.version_info >= (3, 10) else "python3")
DEBUG = os.environ.get("LAB_DEBUG") == "1"

NS_A, NS_B, NS_M, NS_T = "anl-a", "anl-b", "anl-mb", "anl-t"
IP_A, IP_A2, IP_B, IP_T = "10.77.0.1", "10.77.0.3", "10.77.0.2", "10.77.0.10"
IP6_A, IP6_B = "fd00::1", "fd00::2"
SSRC_AB, SSRC_BA = 0x0A770001, 0x0B770002
SEQ_AB, SEQ_BA = 65200, 1000
TS_AB, TS_BA = 0x10000000, 0x30000000
HB_PORT_A, HB_PORT_B = 7001, 7002  # control flow (heartbeat)
TURN_PORT, TURN_RELAY_PORT = 3478, 49160

ALL = ["asym", "cutboth", "police16", "police32", "shape24", "periodic2", "turn",
       "frames60dtx", "codecchange", "ipv6", "pathswitch", "dtmf", "hangup", "b2b",
       "stun", "blocked"]

# scenario -> configuration. Ports: (A receives on, A sends from, B receives on, B sends from)
SYM = (5004, 5004, 5006, 5006)
ASYM = (5004, 40006, 5006, 40004)
BASE = {"duration": 15.0, "ports": SYM, "sip": False, "frame_ms": 20, "ab_bitrate": 16000,
        "ab_brtype": "vbr", "ba_bitrate": 16000, "ba_brtype": "vbr", "ipv6": False,
        "tail": 0.7}
CONF: dict[str, dict] = {
    "asym": {"duration": 12.0, "ports": ASYM, "sip": True,
             "desc": "Clean call with asymmetric ports (A sends from 40006 to B:5006, B "
                     "from 40004 to A:5004), SIP/SDP announcing the receive ports."},
    "cutboth": {"ports": ASYM, "sip": True, "cut_at": 8.0, "keepalive": True,
                "desc": "Media dropped in both directions from 8 s after media start while "
                        "SIP OPTIONS (every 1 s) and a UDP control flow (7001<->7002, every "
                        "1 s) between the same hosts go on; asymmetric ports."},
    "police16": {"ab_bitrate": 32000, "ab_brtype": "cbr", "police_kbytes": 2, "onset": 6.0,
                 "desc": "nftables policer 'limit rate over 2 kbytes/second burst 1500 bytes "
                         "drop' (16 kbit/s IP layer) on A->B from 6 s; Opus 32 kbit/s CBR "
                         "(48 kbit/s IP)."},
    "police32": {"ab_bitrate": 32000, "ab_brtype": "cbr", "police_kbytes": 4, "onset": 6.0,
                 "desc": "nftables policer 'limit rate over 4 kbytes/second burst 1500 bytes "
                         "drop' (32 kbit/s IP layer) on A->B from 6 s; Opus 32 kbit/s CBR."},
    "shape24": {"ab_bitrate": 32000, "ab_brtype": "cbr", "tbf_kbit": 24, "onset": 6.0,
                "desc": "tc tbf 24 kbit/s (Ethernet bytes; 21.5 kbit/s IP layer) on A->B "
                        "installed 6 s after media start; Opus 32 kbit/s CBR."},
    "periodic2": {"onset": 3.0, "period": 2.0, "drop_s": 0.4,
                  "desc": "A->B dropped 0.4 s every 2 s from 3 s after media start."},
    "turn": {"duration": 12.0, "turn": True,
             "desc": "Clean call relayed by coturn (ns anl-t, 10.77.0.10): A talks to the "
                     "TURN server in ChannelData (channel 0x4000), B exchanges plain RTP "
                     "with the relayed address 10.77.0.10:49160."},
    "frames60dtx": {"frame_ms": 60, "dtx": True,
                    "desc": "60 ms frames; A->B with DTX (opusenc dtx, rtpopuspay dtx) on a "
                            "tone/silence source (silences 0.8-2.5 s), B->A continuous."},
    "codecchange": {"codec_change_at": 7.0,
                    "desc": "A->B restarts at 7 s with 60 ms frames and PT 96 (same SSRC, "
                            "sequence and timestamp continued); B->A unchanged."},
    "ipv6": {"duration": 12.0, "ipv6": True,
             "desc": "Clean call over IPv6 (fd00::1 <-> fd00::2), symmetric ports."},
    "pathswitch": {"ipv6": True, "switch_at": 6.0, "switch_gap": 2.0,
                   "desc": "Call starts over IPv6; both directions stop at 6 s and resume "
                           "2 s later over IPv4 (10.77.0.1 <-> 10.77.0.2), same SSRCs, "
                           "sequence and timestamp continued."},
    "dtmf": {"duration": 12.0, "sip": True, "dtmf": True,
             "desc": "A->B carries only RFC 4733 telephone-event packets (PT 101, digits of "
                     "100-240 ms at irregular times); B->A is Opus speech. SDP offers PT 101."},
    "hangup": {"duration": 10.0, "sip": True, "tail": 6.0, "hangup": True,
               "desc": "Both senders stop at the same instant after 10 s, RTCP BYE from both "
                       "sides (rtcp-mux), SIP BYE; the capture runs on 6 s."},
    "b2b": {"duration": 7.0, "sip": True, "b2b": True,
            "desc": "Two SIP calls back to back on the same ports: 7 s, BYE, new INVITE "
                    "0.1 s later, 7 s with new SSRCs."},
    "stun": {"duration": 12.0, "stun": True,
             "desc": "Clean call with ICE consent checks (STUN Binding request/success with "
                     "MESSAGE-INTEGRITY and FINGERPRINT) on the media 5-tuple every 2.5 s in "
                     "each direction."},
    "blocked": {"duration": 12.0, "sip": True, "blocked": True,
                "desc": "SIP INVITE/200 OK/ACK succeed, then both sides send STUN Binding "
                        "requests on the media 5-tuple every 0.5 s for 12 s; the middlebox "
                        "drops all of them; no media."},
}


class Lab:
    def __init__(self, name: str, work: Path) -> None:
        self.name = name
        self.c = {**BASE, **CONF[name]}
        self.work = work
        self.events = work / f"{name}.events.jsonl"
        self.events.write_text("")
        self.procs: list[subprocess.Popen] = []
        self.nss = [NS_A, NS_B, NS_M] + ([NS_T] if self.c.get("turn") else [])

    # ------------------------------------------------------------ plumbing

    def event(self, name: str, detail: str = "") -> None:
        with self.events.open("a") as f:
            f.write(json.dumps({"t": time.time(), "event": name, "detail": detail}) + "\n")

    @staticmethod
    def run(*cmd: str, check: bool = True, input: str | None = None) -> str:
        r = subprocess.run(cmd, check=False, capture_output=True, text=True, input=input)
        if check and r.returncode:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
        return r.stdout

    def nx(self, ns: str, *cmd: str, check: bool = True, input: str | None = None) -> str:
        return self.run("ip", "netns", "exec", ns, *cmd, check=check, input=input)

    def spawn(self, ns: str, *cmd: str, log: str | None = None) -> subprocess.Popen:
        out = open(self.work / log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (the child keeps it)
        p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=out,
                             stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
        self.procs.append(p)
        return p

    @staticmethod
    def sleep_until(t: float) -> None:
        d = t - time.time()
        if d > 0:
            time.sleep(d)

    def nft(self, *args: str) -> None:
        self.nx(NS_M, "nft", *args)

    # ------------------------------------------------------------ topology

    @staticmethod
    def teardown() -> None:
        for ns in (NS_A, NS_B, NS_M, NS_T):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                                  text=True).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGTERM)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def setup(self) -> None:
        self.teardown()
        v6 = self.c["ipv6"]
        for ns in self.nss:
            self.run("ip", "netns", "add", ns)
            on = v6 and ns in (NS_A, NS_B)
            sysctl = [f"net.ipv6.conf.all.disable_ipv6={0 if on else 1}",
                      f"net.ipv6.conf.default.disable_ipv6={0 if on else 1}"]
            if on:  # no DAD, no router solicitations: only the call and neighbour discovery
                for k in ("all", "default"):
                    sysctl += [f"net.ipv6.conf.{k}.accept_dad=0",
                               f"net.ipv6.conf.{k}.dad_transmits=0",
                               f"net.ipv6.conf.{k}.router_solicitations=0",
                               f"net.ipv6.conf.{k}.accept_ra=0"]
            self.nx(ns, "sysctl", "-qw", *sysctl)
            self.run("ip", "-n", ns, "link", "set", "lo", "up")
        self.run("ip", "link", "add", "veth-a", "netns", NS_A, "type", "veth", "peer", "name",
                 "mb-a", "netns", NS_M)
        self.run("ip", "link", "add", "veth-b", "netns", NS_B, "type", "veth", "peer", "name",
                 "mb-b", "netns", NS_M)
        m = ["ip", "-n", NS_M]
        self.run(*m, "link", "add", "br0", "type", "bridge", "stp_state", "0",
                 "forward_delay", "0", "mcast_snooping", "0")
        self.run(*m, "link", "set", "br0", "multicast", "off")
        ports = ["mb-a", "mb-b"]
        if self.c.get("turn"):
            self.run("ip", "link", "add", "veth-t", "netns", NS_T, "type", "veth", "peer",
                     "name", "mb-t", "netns", NS_M)
            ports.append("mb-t")
        for p in ports:
            self.run(*m, "link", "set", p, "master", "br0")
            self.run(*m, "link", "set", p, "up")
        self.run(*m, "link", "set", "br0", "up")
        if v6:  # addresses without the kernel's own link-local traffic
            for ns, dev in ((NS_A, "veth-a"), (NS_B, "veth-b")):
                self.run("ip", "-n", ns, "link", "set", dev, "addrgenmode", "none")
        self.run("ip", "-n", NS_A, "addr", "add", f"{IP_A}/24", "dev", "veth-a")
        self.run("ip", "-n", NS_B, "addr", "add", f"{IP_B}/24", "dev", "veth-b")
        if self.name == "pathswitch" or v6:
            self.run("ip", "-n", NS_A, "addr", "add", f"{IP6_A}/64", "dev", "veth-a",
                     "nodad")
            self.run("ip", "-n", NS_B, "addr", "add", f"{IP6_B}/64", "dev", "veth-b",
                     "nodad")
        self.run("ip", "-n", NS_A, "link", "set", "veth-a", "up")
        self.run("ip", "-n", NS_B, "link", "set", "veth-b", "up")
        if self.c.get("turn"):
            self.run("ip", "-n", NS_T, "addr", "add", f"{IP_T}/24", "dev", "veth-t")
            self.run("ip", "-n", NS_T, "link", "set", "veth-t", "up")
        if v6:  # static neighbours: no neighbour solicitations in the captures
            mac = {ns: json.loads(self.run("ip", "-j", "-n", ns, "link", "show", dev))[0]
                   ["address"] for ns, dev in ((NS_A, "veth-a"), (NS_B, "veth-b"))}
            self.run("ip", "-n", NS_A, "-6", "neigh", "add", IP6_B, "lladdr", mac[NS_B],
                     "dev", "veth-a", "nud", "permanent")
            self.run("ip", "-n", NS_B, "-6", "neigh", "add", IP6_A, "lladdr", mac[NS_A],
                     "dev", "veth-b", "nud", "permanent")
        self.nx(NS_M, "nft", "-f", "-", input="""
table bridge anl {
  counter dropped { }
  chain impair { }
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump impair
  }
}
""")

    # ------------------------------------------------------------ media

    def gst_sender(self, ns: str, *, src: str, sport: int, dst: str, dport: int, ssrc: int,
                   seq: int, ts: int, seconds: float, freq: int, bitrate: int, brtype: str,
                   frame_ms: int, pt: int = 111, dtx: bool = False,
                   wav: Path | None = None) -> subprocess.Popen:
        if wav is not None:
            source = ["filesrc", f"location={wav}", "!", "wavparse", "!", "audioconvert"]
        else:
            source = ["audiotestsrc", "is-live=true", "wave=sine", f"freq={freq}",
                      "volume=0.5", "samplesperbuffer=960",
                      f"num-buffers={round(seconds * 50)}", "!",
                      "audio/x-raw,rate=48000,channels=1", "!", "audioconvert"]
        enc = ["opusenc", f"frame-size={frame_ms}", f"bitrate={bitrate}",
               f"bitrate-type={brtype}"] + (["dtx=true"] if dtx else [])
        pay = ["rtpopuspay", f"pt={pt}", f"ssrc={ssrc}", f"seqnum-offset={seq}",
               f"timestamp-offset={ts}"] + (["dtx=true"] if dtx else [])
        sink = ["udpsink", f"host={dst}", f"port={dport}"]
        if src:
            sink += [f"bind-address={src}", f"bind-port={sport}"]
        if wav is not None:
            sink.append("sync=true")
        return self.spawn(ns, "gst-launch-1.0", "-q", *source, "!", *enc, "!", *pay, "!",
                          *sink, log=f"gst-{ns}-{ssrc:x}-{seq}.log")

    @staticmethod
    def packets(seconds: float, frame_ms: int) -> int:
        """RTP packets a gst_sender of `seconds` emits (opusenc adds one frame at EOS)."""
        return round(seconds * 1000 / frame_ms) + 1

    def receivers(self) -> None:
        pa, _, pb, _ = self.c["ports"]
        addr = ["address=::"] if self.c["ipv6"] or self.name == "pathswitch" else []
        self.spawn(NS_A, "gst-launch-1.0", "-q", "udpsrc", *addr, f"port={pa}", "!",
                   "fakesink")
        self.spawn(NS_B, "gst-launch-1.0", "-q", "udpsrc", *addr, f"port={pb}", "!",
                   "fakesink")

    def sip(self, *args: str, ns: str = NS_A) -> None:
        self.nx(ns, PY, str(HERE / "sip.py"), *args)

    def sip_uas(self) -> subprocess.Popen:
        _, _, pb, _ = self.c["ports"]
        p = self.spawn(NS_B, PY, str(HERE / "sip.py"), "uas", "--local", IP_B, "--rtp-port",
                       str(pb), *(["--dtmf"] if self.c.get("dtmf") else []), log="uas.log")
        time.sleep(0.3)
        return p

    def sip_invite(self) -> None:
        pa = self.c["ports"][0]
        self.sip("invite", "--local", IP_A, "--remote", IP_B, "--rtp-port", str(pa),
                 "--state", str(self.work / "sip.state"),
                 *(["--dtmf"] if self.c.get("dtmf") else []))
        self.event("sip_established")

    def sip_bye(self, uas: subprocess.Popen) -> None:
        self.sip("bye", "--state", str(self.work / "sip.state"))
        uas.wait(timeout=5)
        self.event("sip_bye")

    def labnet(self, ns: str, *args: str, log: str | None = None) -> subprocess.Popen:
        return self.spawn(ns, PY, str(HERE / "labnet.py"), *args, log=log)

    # ------------------------------------------------------------ impairments

    def match(self, d: str) -> str:
        pa, sa, pb, sb = self.c["ports"]
        if d == "a_to_b":
            return f"ip saddr {IP_A} ip daddr {IP_B} udp sport {sa} udp dport {pb}"
        return f"ip saddr {IP_B} ip daddr {IP_A} udp sport {sb} udp dport {pa}"

    def drop_on(self, dirs: tuple[str, ...] = ("a_to_b",)) -> None:
        for d in dirs:
            self.nft("add", "rule", "bridge", "anl", "impair", *self.match(d).split(),
                     "counter", "name", "dropped", "drop")
        self.event("drop_on", "; ".join(self.match(d) for d in dirs))

    def drop_off(self) -> None:
        self.nft("flush", "chain", "bridge", "anl", "impair")
        self.event("drop_off")

    def htb_classifier(self) -> None:
        """htb root on mb-b used only as a classifier: A->B media to 1:10, rest to 1:20."""
        tc = ["ip", "netns", "exec", NS_M, "tc"]
        _pa, _sa, pb, _sb = self.c["ports"]
        self.run(*tc, "qdisc", "add", "dev", "mb-b", "root", "handle", "1:", "htb",
                 "default", "20")
        for cl in ("1:10", "1:20"):
            self.run(*tc, "class", "add", "dev", "mb-b", "parent", "1:", "classid", cl, "htb",
                     "rate", "1gbit", "quantum", "1514")
        self.run(*tc, "filter", "add", "dev", "mb-b", "parent", "1:", "protocol", "ip", "prio",
                 "1", "u32", "match", "ip", "src", f"{IP_A}/32", "match", "ip", "dst",
                 f"{IP_B}/32", "match", "ip", "dport", str(pb), "0xffff", "flowid", "1:10")

    # ------------------------------------------------------------ one scenario

    def impairment_json(self) -> dict:
        c = self.c
        if "cut_at" in c:
            return {"kind": "cutoff", "directions": ["a_to_b", "b_to_a"],
                    "cutoff_after_s": c["cut_at"], "relative_to": "media start (t0 event)",
                    "where": f"{NS_M} nft bridge forward", "counter_counts": "media",
                    "nft_rules": [f"{self.match(d)} drop" for d in ("a_to_b", "b_to_a")]}
        if "police_kbytes" in c:
            k = c["police_kbytes"]
            return {"kind": "police", "direction": "a_to_b", "onset_s": c["onset"],
                    "relative_to": "media start (t0 event)", "rate_bytes_per_s": k * 1000,
                    "rate_bps_ip": k * 8000, "burst_bytes": 1500, "counter_counts": "media",
                    "where": f"{NS_M} nft bridge forward (counts IP bytes)",
                    "nft_rule": f"{self.match('a_to_b')} limit rate over {k} kbytes/second "
                                "burst 1500 bytes drop"}
        if "tbf_kbit" in c:
            k = c["tbf_kbit"]
            return {"kind": "rate_cap", "direction": "a_to_b", "qdisc": "tbf",
                    "onset_s": c["onset"], "relative_to": "media start (t0 event)",
                    "rate_bps": k * 1000, "rate_bps_ip": round(k * 1000 * 120 / 134),
                    "burst_bytes": 1000, "latency_ms": 100,
                    "accounting": "Ethernet frame bytes: 134 B frame = 120 B IP packet",
                    "where": f"{NS_M} tc on mb-b egress, A->B media only (htb+u32 classifier)",
                    "tc": f"tc qdisc replace dev mb-b parent 1:10 handle 10: tbf rate {k}kbit "
                          "burst 1000 latency 100ms"}
        if "period" in c:
            return {"kind": "periodic_drop", "direction": "a_to_b", "period_s": c["period"],
                    "drop_s": c["drop_s"], "first_drop_at_s": c["onset"],
                    "relative_to": "media start (t0 event)", "counter_counts": "media",
                    "where": f"{NS_M} nft bridge forward",
                    "nft_rule": f"{self.match('a_to_b')} drop"}
        if c.get("blocked"):
            return {"kind": "blocked_setup", "directions": ["a_to_b", "b_to_a"],
                    "where": f"{NS_M} nft bridge forward", "counter_counts": "stun",
                    "nft_rules": [f"{self.match(d)} drop" for d in ("a_to_b", "b_to_a")]}
        return {"kind": "none"}

    def record(self) -> bool:
        c, s, w = self.c, self.name, self.work
        print(f"== {s}: {c['desc']}", flush=True)
        self.setup()
        pa, sa, pb, sb = c["ports"]
        if c.get("blocked"):
            for d in ("a_to_b", "b_to_a"):
                self.nft("add", "rule", "bridge", "anl", "impair", *self.match(d).split(),
                         "counter", "name", "dropped", "drop")
            self.event("drop_on", "media 5-tuple, both directions")
        if "tbf_kbit" in c:
            self.htb_classifier()
        turnd = None
        if c.get("turn"):
            turnd = self.spawn(NS_T, "turnserver", "-n", "--log-file=stdout",
                               f"--listening-ip={IP_T}", f"--relay-ip={IP_T}",
                               f"--listening-port={TURN_PORT}",
                               f"--min-port={TURN_RELAY_PORT}",
                               f"--max-port={TURN_RELAY_PORT}", "--lt-cred-mech",
                               "--user=lab:labpass", "--realm=anl.lab", "--no-tls",
                               "--no-dtls", "--no-cli", "--no-stun-backward-compatibility",
                               "--allowed-peer-ip=10.77.0.0-10.77.0.255",
                               "--no-software-attribute", log="turnserver.log")
            time.sleep(1.0)

        pcap_a, pcap_b = w / f"{s}-sender.pcap", w / f"{s}-receiver.pcap"
        tds = [self.spawn(ns, "tcpdump", "-i", dev, "--immediate-mode", "-U", "-w", str(f),
                          log=f"tcpdump-{ns}.log")
               for ns, dev, f in ((NS_A, "veth-a", pcap_a), (NS_B, "veth-b", pcap_b))]
        for _ in range(50):
            if all("listening" in (w / f"tcpdump-{ns}.log").read_text()
                   for ns in (NS_A, NS_B)):
                break
            time.sleep(0.1)
        time.sleep(0.3)
        self.receivers()
        uas = None
        if c["sip"]:
            uas = self.sip_uas()
            self.sip_invite()
        time.sleep(0.5)

        relay = None
        if c.get("turn"):
            ready = w / "turn.ready"
            self.labnet(NS_A, "turn", "--local", IP_A, "--lport", "40000", "--server", IP_T,
                        "--peer", IP_B, "--peer-port", str(pb), "--media-in",
                        "127.0.0.1:40006", "--deliver", f"127.0.0.1:{pa}", "--duration",
                        str(c["duration"] + 2), "--ready", str(ready), log="turnclient.log")
            for _ in range(50):
                if ready.exists() and ready.read_text().strip():
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("TURN allocation failed (see turnclient.log)")
            rip, rport = ready.read_text().split()
            relay = (rip, int(rport))
            self.event("turn_allocated", f"relayed {rip}:{rport} channel 0x4000")
            time.sleep(0.3)

        t0 = time.time()
        self.event("t0", "media start")
        D = c["duration"]
        fm = c["frame_ms"]
        common_ab = dict(freq=440, bitrate=c["ab_bitrate"], brtype=c["ab_brtype"])
        common_ba = dict(freq=660, bitrate=c["ba_bitrate"], brtype=c["ba_brtype"])
        senders: list[subprocess.Popen] = []
        helpers: list[subprocess.Popen] = []
        media = {"a_to_b": [], "b_to_a": []}

        v6 = c["ipv6"] and "switch_at" not in c
        ip_a, ip_b = (IP6_A, IP6_B) if v6 else (IP_A, IP_B)

        def ab(**kw):  # A -> B segment
            kw = {**dict(src=ip_a, sport=sa, dst=ip_b, dport=pb, ssrc=SSRC_AB, seq=SEQ_AB,
                         ts=TS_AB, seconds=D, frame_ms=fm), **common_ab, **kw}
            senders.append(self.gst_sender(NS_A, **kw))
            media["a_to_b"].append({k: v for k, v in kw.items() if k != "wav"}
                                   | ({"source": "wav tone/silence"} if kw.get("wav") else {}))

        def ba(**kw):
            kw = {**dict(src=ip_b, sport=sb, dst=ip_a, dport=pa, ssrc=SSRC_BA, seq=SEQ_BA,
                         ts=TS_BA, seconds=D, frame_ms=fm), **common_ba, **kw}
            senders.append(self.gst_sender(NS_B, **kw))
            media["b_to_a"].append(kw)

        if c.get("blocked"):
            for side, ns, src, sp, dst, dp in (("a", NS_A, IP_A, sa, IP_B, pb),
                                               ("b", NS_B, IP_B, sb, IP_A, pa)):
                helpers.append(self.labnet(ns, "consent", "--side", side, "--local", src,
                                           "--lport", str(sp), "--remote", dst, "--rport",
                                           str(dp), "--start", f"{t0:.6f}", "--duration",
                                           str(D), "--period", "0.5", "--requests-only"))
        elif c.get("turn"):
            ba(src=IP_B, sport=sb, dst=relay[0], dport=relay[1])
            ab(src="", sport=0, dst="127.0.0.1", dport=40006)
        elif c.get("dtmf"):
            ba()
            helpers.append(self.labnet(NS_A, "dtmf", "--local", IP_A, "--lport", str(sa),
                                       "--remote", IP_B, "--rport", str(pb), "--ssrc",
                                       hex(SSRC_AB), "--seq", str(SEQ_AB), "--start",
                                       f"{t0:.6f}", "--duration", str(D), "--seed", "4733"))
            media["a_to_b"].append({"kind": "rfc4733", "pt": 101, "ssrc": SSRC_AB,
                                    "seq": SEQ_AB, "clock": 48000, "seed": 4733})
        elif c.get("dtx"):
            wav = w / "tone_silence.wav"
            write_tone_silence(wav, D)
            ba()
            ab(wav=wav, dtx=True, brtype="vbr")
        elif "switch_at" in c:
            t1, gap = c["switch_at"], c["switch_gap"]
            ba(src=IP6_B, dst=IP6_A, seconds=t1)
            ab(src=IP6_A, dst=IP6_B, seconds=t1)
        elif "codec_change_at" in c:
            ba()
            ab(seconds=c["codec_change_at"])
        else:
            ba()
            ab()
        if c.get("keepalive"):
            helpers.append(self.labnet(NS_A, "heartbeat", "--local", IP_A, "--lport",
                                       str(HB_PORT_A), "--remote", IP_B, "--rport",
                                       str(HB_PORT_B), "--start", f"{t0:.6f}", "--duration",
                                       str(D + 0.5), "--offset", "0.25", "--seed", "1"))
            helpers.append(self.labnet(NS_B, "heartbeat", "--local", IP_B, "--lport",
                                       str(HB_PORT_B), "--remote", IP_A, "--rport",
                                       str(HB_PORT_A), "--start", f"{t0:.6f}", "--duration",
                                       str(D + 0.5), "--offset", "0.75", "--seed", "2"))
            helpers.append(self.spawn(NS_A, PY, str(HERE / "sip.py"), "options", "--state",
                                      str(w / "sip.state"), "--period", "1", "--duration",
                                      str(D + 0.5)))
        if c.get("stun"):
            for side, ns, src, sp, dst, dp in (("a", NS_A, IP_A, sa, IP_B, pb),
                                               ("b", NS_B, IP_B, sb, IP_A, pa)):
                helpers.append(self.labnet(ns, "consent", "--side", side, "--local", src,
                                           "--lport", str(sp), "--remote", dst, "--rport",
                                           str(dp), "--start", f"{t0 + 1.0:.6f}",
                                           "--duration", str(D - 1.5), "--period", "2.5"))

        # scheduled impairments and mid-call changes
        at = lambda x: t0 + x  # noqa: E731
        if "cut_at" in c:
            self.sleep_until(at(c["cut_at"]))
            self.drop_on(("a_to_b", "b_to_a"))
        elif "police_kbytes" in c:
            self.sleep_until(at(c["onset"]))
            k = c["police_kbytes"]
            self.nft("add", "rule", "bridge", "anl", "impair", *self.match("a_to_b").split(),
                     "limit", "rate", "over", f"{k}", "kbytes/second", "burst", "1500",
                     "bytes", "counter", "name", "dropped", "drop")
            self.event("police_on", f"limit rate over {k} kbytes/second burst 1500 bytes")
        elif "tbf_kbit" in c:
            self.sleep_until(at(c["onset"]))
            self.run("ip", "netns", "exec", NS_M, "tc", "qdisc", "replace", "dev", "mb-b",
                     "parent", "1:10", "handle", "10:", "tbf", "rate", f"{c['tbf_kbit']}kbit",
                     "burst", "1000", "latency", "100ms")
            self.event("tbf_on", f"rate {c['tbf_kbit']}kbit burst 1000 latency 100ms")
        elif "period" in c:
            st = c["onset"]
            while st + c["drop_s"] <= D - 1:
                self.sleep_until(at(st))
                self.drop_on()
                self.sleep_until(at(st + c["drop_s"]))
                self.drop_off()
                st += c["period"]
        elif "switch_at" in c:
            t1, gap = c["switch_at"], c["switch_gap"]
            for p in senders:
                p.wait()
            self.event("path_down", "IPv6 senders ended")
            self.sleep_until(at(t1 + gap))
            self.event("path_up", "IPv4 senders start")
            n = self.packets(t1, fm)
            off = round((t1 + gap) * 48000)
            ba(src=IP_B, dst=IP_A, seconds=D - t1 - gap, seq=SEQ_BA + n,
               ts=(TS_BA + off) & 0xFFFFFFFF)
            ab(src=IP_A, dst=IP_B, seconds=D - t1 - gap, seq=(SEQ_AB + n) & 0xFFFF,
               ts=(TS_AB + off) & 0xFFFFFFFF)
        elif "codec_change_at" in c:
            t1 = c["codec_change_at"]
            senders[-1].wait()
            self.event("codec_change", "A->B sender restarted: 60 ms frames, PT 96")
            n = self.packets(t1, fm)
            off = round((t1 + 0.02) * 48000)
            ab(seconds=D - t1, seq=(SEQ_AB + n) & 0xFFFF, ts=(TS_AB + off) & 0xFFFFFFFF,
               frame_ms=60, pt=96)

        for p in senders:
            if p.wait() != 0:
                raise RuntimeError(f"{s}: a sender failed ({p.args})")
        for p in helpers:
            p.wait()
        self.event("media_end")
        if c.get("hangup"):
            for ns, src, sp, dst, dp, ssrc in ((NS_A, IP_A, sa, IP_B, pb, SSRC_AB),
                                               (NS_B, IP_B, sb, IP_A, pa, SSRC_BA)):
                self.labnet(ns, "rtcp-bye", "--local", src, "--lport", str(sp), "--remote",
                            dst, "--rport", str(dp), "--ssrc", hex(ssrc)).wait()
            self.event("rtcp_bye", "both sides")
        if uas is not None:
            self.sip_bye(uas)
        if c.get("b2b"):  # the second call: new dialog, new SSRCs, same ports
            time.sleep(0.1)
            uas = self.sip_uas()
            self.sip_invite()
            time.sleep(0.3)
            self.event("t0_call2", "media start of the second call")
            senders = []
            ba(ssrc=SSRC_BA + 0x10, seq=20000, ts=0x50000000)
            ab(ssrc=SSRC_AB + 0x10, seq=30000, ts=0x60000000)
            for p in senders:
                p.wait()
            self.event("media_end")
            self.sip_bye(uas)
        time.sleep(c["tail"])
        for p in self.procs:
            if p not in tds and p.poll() is None:
                p.terminate()
        time.sleep(0.2)
        for p in tds:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=10)
        for ns in (NS_A, NS_B):
            log = (w / f"tcpdump-{ns}.log").read_text()
            self.event("tcpdump_stats", f"{ns}: " + ", ".join(
                x for x in log.splitlines() if "packets" in x))
            cap = [int(x.split()[0]) for x in log.splitlines() if "packets captured" in x]
            filt = [int(x.split()[0]) for x in log.splitlines() if "received by filter" in x]
            if not cap or cap != filt:
                raise RuntimeError(f"{s}: tcpdump {ns} missed packets ({cap}/{filt})")
        (w / f"{s}.nft-counter.txt").write_text(
            self.nx(NS_M, "nft", "list", "counter", "bridge", "anl", "dropped", check=False))
        tcs = self.nx(NS_M, "tc", "-s", "qdisc", "show", "dev", "mb-b", check=False)
        if "tbf_kbit" in c:
            (w / f"{s}.tc-stats.txt").write_text(tcs)
        if turnd is not None:
            turnd.terminate()
        self.teardown()

        OUT.mkdir(parents=True, exist_ok=True)
        for side, f in (("sender", pcap_a), ("receiver", pcap_b)):
            dst = OUT / f"{s}-{side}.pcap"
            shutil.copy(f, dst)
            dst.chmod(0o644)
            txt = self.run("tshark", "-r", str(dst), "-q", "-o", "rtp.heuristic_rtp:TRUE",
                           "-z", "rtp,streams", check=False)
            (OUT / f"{s}.{side}.tshark-rtp.txt").write_text(txt)
        params = {
            "scenario": s, "description": c["desc"], "duration_s": D,
            "frame_ms": c["frame_ms"], "sdp": c["sip"],
            "impairment": self.impairment_json(),
            "hosts": {"a": [IP_A, IP_A2, IP6_A], "b": [IP_B, IP6_B]},
            "non_media_ports": [5060, HB_PORT_A, HB_PORT_B],
            "endpoints": {
                "a": {"namespace": NS_A, "interface": "veth-a", "ip": IP_A,
                      "ipv6": IP6_A if c["ipv6"] else None, "rtp_port": pa, "send_port": sa},
                "b": {"namespace": NS_B, "interface": "veth-b", "ip": IP_B,
                      "ipv6": IP6_B if c["ipv6"] else None, "rtp_port": pb, "send_port": sb},
                "middlebox": {"namespace": NS_M, "bridge": "br0"},
                **({"turn": {"namespace": NS_T, "ip": IP_T, "port": TURN_PORT,
                             "relay_port": TURN_RELAY_PORT, "software": "coturn",
                             "client": "labnet.py turn (A, port 40000)"}}
                   if c.get("turn") else {}),
            },
            "media": media,
            "config": {k: v for k, v in c.items() if k != "desc"},
        }
        pj = w / f"{s}.params.json"
        pj.write_text(json.dumps(params, indent=1, default=str))
        args = [PY, str(HERE / "truth.py"), "--scenario", s, "--dir", str(OUT), "--params",
                str(pj), "--events", str(self.events), "--nft-counter",
                str(w / f"{s}.nft-counter.txt")]
        if (w / f"{s}.tc-stats.txt").exists():
            args += ["--tc-stats", str(w / f"{s}.tc-stats.txt")]
        return subprocess.run(args).returncode == 0


def write_tone_silence(path: Path, seconds: float) -> None:
    """48 kHz mono: a 440 Hz tone and digital silence alternating (fixed pattern), the
    source of the DTX scenario."""
    import math
    pattern = [(1.5, True), (1.2, False), (2.0, True), (2.5, False), (1.0, True),
               (0.8, False), (2.2, True), (1.8, False)]
    frames = bytearray()
    t = 0.0
    i = 0
    while t < seconds:
        dur, on = pattern[i % len(pattern)]
        dur = min(dur, seconds - t)
        n = round(dur * 48000)
        for k in range(n):
            v = int(12000 * math.sin(2 * math.pi * 440 * k / 48000)) if on else 0
            frames += v.to_bytes(2, "little", signed=True)
        t += dur
        i += 1
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(48000)
        f.writeframes(bytes(frames))


def main() -> int:
    if os.geteuid() != 0:
        print("scenarios.py: must run as root (network namespaces)", file=sys.stderr)
        return 2
    names = sys.argv[1:] or ALL
    bad = [n for n in names if n not in CONF]
    if bad:
        print(f"unknown scenario(s) {bad}; known: {ALL}", file=sys.stderr)
        return 2
    failed = []
    for n in names:
        work = Path(tempfile.mkdtemp(prefix=f"anl-lab-{n}."))
        lab = Lab(n, work)
        try:
            if not lab.record():
                failed.append(n)
        except Exception as e:
            print(f"  {n}: FAILED: {e}", file=sys.stderr)
            failed.append(n)
        finally:
            for p in lab.procs:
                if p.poll() is None:
                    p.kill()
            Lab.teardown()
            if DEBUG or n in failed:
                print(f"  work files in {work}", file=sys.stderr)
            else:
                shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"scenarios.py: failed: {failed}", file=sys.stderr)
        return 1
    print(f"scenarios.py: recorded {names} into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
