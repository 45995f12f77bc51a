"""Which app carried a call, from evidence rather than the payload type alone.

Each piece of evidence is a :class:`Clue` (an app, a weight, where it came from); a call's
app is the one whose clues weigh most, clearly ahead of the next, else a generic family
(``sip``, ``webrtc``, ``rtp``) or ``None`` (../shared/DOMAIN.md §7). Evidence:

* relay networks and service ports: Meta (WhatsApp, Messenger), Telegram reflectors,
  Microsoft Teams/Skype transport relays (UDP 3478-3481), Zoom (UDP 8801), Discord voice
  servers (UDP 50000-50100), Viber (UDP 7985/7987), Apple FaceTime (17.0.0.0/8);
* STUN attributes of the call's sockets: SOFTWARE strings, Microsoft's MS-ICE attributes;
* names from DNS answers and TLS SNI seen in the same capture, tied to the addresses the
  call talks to;
* RTP conventions: WhatsApp's and Discord's payload type 120, Signal's small SSRCs;
* what the phone said about the flow (PCAPdroid's app label or package):
  :meth:`AppEvidence.add_flow_app` is the entry point for that, and it outweighs the rest.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

APPS = ("whatsapp", "telegram", "signal", "discord", "teams", "skype", "messenger", "zoom",
        "viber", "facetime")
GENERIC = ("webrtc", "sip", "rtp")

#: Published or well-known address blocks of the services' media relays.
NETS: dict[str, tuple[str, ...]] = {
    "telegram": ("91.108.0.0/16", "149.154.160.0/20", "2001:67c:4e8::/48",
                 "2001:b28:f23d::/48"),
    "meta": ("31.13.24.0/21", "31.13.64.0/18", "57.144.0.0/14", "66.220.144.0/20",
             "69.63.176.0/20", "69.171.224.0/19", "102.132.96.0/20", "129.134.0.0/16",
             "157.240.0.0/16", "163.70.128.0/17", "173.252.64.0/18", "179.60.192.0/22",
             "185.60.216.0/22", "204.15.20.0/22", "2a03:2880::/32"),
    "microsoft": ("13.107.64.0/18", "52.112.0.0/14", "52.122.0.0/15", "2603:1063::/38"),
    "zoom": ("3.7.35.0/25", "144.195.0.0/16", "170.114.0.0/16", "206.247.0.0/16",
             "221.122.88.64/27"),
    "discord": ("66.22.192.0/18",),
    "apple": ("17.0.0.0/8",),
}
_NETS = {k: tuple(ipaddress.ip_network(n) for n in v) for k, v in NETS.items()}
#: Names (DNS answers, TLS SNI) -> app, by suffix.
NAME_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("whatsapp.net", "whatsapp"), ("whatsapp.com", "whatsapp"), ("telegram.org", "telegram"),
    ("t.me", "telegram"), ("signal.org", "signal"), ("discord.gg", "discord"),
    ("discord.com", "discord"), ("discord.media", "discord"), ("discordapp.com", "discord"),
    ("discordapp.net", "discord"), ("teams.microsoft.com", "teams"),
    ("teams.live.com", "teams"), ("lync.com", "teams"), ("skype.com", "skype"),
    ("skype.net", "skype"), ("messenger.com", "messenger"), ("zoom.us", "zoom"),
    ("zoom.com", "zoom"), ("zoomgov.com", "zoom"), ("viber.com", "viber"),
    ("facetime.apple.com", "facetime"),
)
#: Android packages and app labels (PCAPdroid) -> app.
PACKAGES: dict[str, str] = {
    "com.whatsapp": "whatsapp", "com.whatsapp.w4b": "whatsapp",
    "org.telegram.messenger": "telegram", "org.telegram.messenger.web": "telegram",
    "org.thunderdog.challegram": "telegram", "org.thoughtcrime.securesms": "signal",
    "com.discord": "discord", "com.microsoft.teams": "teams", "com.skype.raider": "skype",
    "com.facebook.orca": "messenger", "us.zoom.videomeetings": "zoom",
    "com.viber.voip": "viber",
}
#: SOFTWARE attribute substrings -> app.
SOFTWARE: tuple[tuple[str, str], ...] = (
    ("whatsapp", "whatsapp"), ("telegram", "telegram"), ("signal", "signal"),
    ("discord", "discord"), ("teams", "teams"), ("skype", "skype"), ("zoom", "zoom"),
    ("viber", "viber"),
)
#: STUN attributes only Microsoft's MS-ICE/MS-TURN sends (MS-VERSION, MS-SEQUENCE-NUMBER,
#: CANDIDATE-IDENTIFIER, MS-IMPLEMENTATION-VERSION, MS-ALTERNATE-HOST-NAME).
MS_STUN_ATTRS = frozenset((0x8008, 0x8050, 0x8054, 0x8070, 0x8032))
STUN_SOFTWARE = 0x8022
DISCORD_PORTS = range(50000, 50101)
ZOOM_PORTS = range(8801, 8811)
MS_RELAY_PORTS = range(3478, 3482)
VIBER_PORTS = (7985, 7987)
FACETIME_PORTS = range(16384, 16404)
META_RELAY_PORT = 3478
#: A call's app must weigh at least this much and this many times the runner-up.
MIN_WEIGHT = 2.0
MIN_LEAD = 1.5


@dataclass(frozen=True)
class Clue:
    """One piece of evidence: ``weight`` for ``app`` from ``source`` (e.g. ``net``,
    ``port``, ``dns``, ``sni``, ``stun``, ``rtp``, ``phone``), ``detail`` for people."""

    app: str
    weight: float
    source: str
    detail: str

    def __str__(self) -> str:
        return f"{self.app} +{self.weight:g} ({self.source}: {self.detail})"


@lru_cache(maxsize=1 << 16)
def net_of(addr: str) -> str | None:
    """The service network an address belongs to (``meta``, ``telegram``, ...), if any
    (remembered per address: a capture names the same few addresses over and over)."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name, nets in _NETS.items():
        if any(ip in n for n in nets if n.version == ip.version):
            return name
    return None


@lru_cache(maxsize=1 << 16)
def _is_public(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr).is_global
    except ValueError:
        return False


def app_from_name(name: str) -> str | None:
    n = name.lower().rstrip(".")
    for suffix, app in NAME_SUFFIXES:
        if n == suffix or n.endswith("." + suffix):
            return app
    if n.startswith("turn") and n.endswith(".voip.signal.org"):
        return "signal"
    return None


def app_from_package(text: str) -> str | None:
    """The app of an Android package name or visible app label (PCAPdroid), if known."""
    t = text.strip().lower()
    if t in PACKAGES:
        return PACKAGES[t]
    return t if t in APPS else None


@dataclass
class AppEvidence:
    """What a whole capture says about apps: names per address (DNS answers, TLS SNI),
    STUN facts per socket, and app labels per flow from the phone (PCAPdroid)."""

    names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    software: dict[tuple[str, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    ms_stun: set[tuple[str, int]] = field(default_factory=set)
    flow_app: dict[int, str] = field(default_factory=dict)

    def add_name(self, addr: str, name: str) -> None:
        self.names[addr].add(name.lower().rstrip("."))

    def add_flow_app(self, flow: int, label: str | None = None,
                     package: str | None = None) -> None:
        """The phone's word on a flow (PCAPdroid trailer or pcapng comment): the app whose
        label or package it names, when it is one of :data:`APPS`."""
        for text in (package, label):
            app = app_from_package(text) if text else None
            if app:
                self.flow_app[flow] = app
                return

    def add_hint(self, src: str, sport: int, dst: str, dport: int, payload: bytes) -> None:
        """Read one kept payload: a DNS response, a STUN message or a TLS ClientHello."""
        if sport == 53:
            for name, addr in parse_dns_answers(payload):
                self.add_name(addr, name)
        elif payload[:1] == b"\x16":
            sni = parse_sni(payload)
            if sni:
                self.add_name(dst, sni)
        elif payload[:1] in (b"\x00", b"\x01"):
            for at, value in stun_attributes(payload):
                if at == STUN_SOFTWARE:
                    text = value.decode("utf-8", "replace").lower()
                    self.software[(src, sport)].add(text)
                elif at in MS_STUN_ATTRS:
                    self.ms_stun.update(((src, sport), (dst, dport)))


def stun_attributes(msg: bytes) -> Iterable[tuple[int, bytes]]:
    end = min(len(msg), 20 + int.from_bytes(msg[2:4], "big"))
    p = 20
    while p + 4 <= end:
        at = int.from_bytes(msg[p: p + 2], "big")
        ln = int.from_bytes(msg[p + 2: p + 4], "big")
        yield at, msg[p + 4: p + 4 + ln]
        p += 4 + ((ln + 3) & ~3)


def _dns_name(msg: bytes, p: int, depth: int = 0) -> tuple[str, int]:
    labels: list[str] = []
    while p < len(msg) and depth < 16:
        ln = msg[p]
        if ln == 0:
            return ".".join(labels), p + 1
        if ln & 0xC0 == 0xC0:
            if p + 1 >= len(msg):
                break
            name, _ = _dns_name(msg, ((ln & 0x3F) << 8) | msg[p + 1], depth + 1)
            return ".".join([*labels, name] if name else labels), p + 2
        labels.append(msg[p + 1: p + 1 + ln].decode("ascii", "replace"))
        p += 1 + ln
    raise ValueError("bad DNS name")


def parse_dns_answers(msg: bytes) -> list[tuple[str, str]]:
    """(queried name, address) of the A/AAAA answers of a DNS response; CNAME chains are
    followed back to the question's name."""
    try:
        qd, an = int.from_bytes(msg[4:6], "big"), int.from_bytes(msg[6:8], "big")
        p = 12
        qname = ""
        for _ in range(qd):
            qname, p = _dns_name(msg, p)
            p += 4
        out = []
        for _ in range(an):
            _, p = _dns_name(msg, p)
            rtype = int.from_bytes(msg[p: p + 2], "big")
            rdlen = int.from_bytes(msg[p + 8: p + 10], "big")
            rdata = msg[p + 10: p + 10 + rdlen]
            p += 10 + rdlen
            if rtype == 1 and rdlen == 4:
                out.append((qname, str(ipaddress.IPv4Address(rdata))))
            elif rtype == 28 and rdlen == 16:
                out.append((qname, str(ipaddress.IPv6Address(rdata))))
        return out
    except (ValueError, IndexError):
        return []


def parse_sni(rec: bytes) -> str | None:
    """The server name of a TLS ClientHello record (RFC 6066 §3), if it is all there."""
    try:
        p = 5 + 4 + 2 + 32  # record header, handshake header, version, random
        p += 1 + rec[p]  # session id
        p += 2 + int.from_bytes(rec[p: p + 2], "big")  # cipher suites
        p += 1 + rec[p]  # compression methods
        end = p + 2 + int.from_bytes(rec[p: p + 2], "big")
        p += 2
        while p + 4 <= min(end, len(rec)):
            et, ln = int.from_bytes(rec[p: p + 2], "big"), int.from_bytes(rec[p + 2: p + 4],
                                                                           "big")
            if et == 0:
                n = int.from_bytes(rec[p + 7: p + 9], "big")
                return rec[p + 9: p + 9 + n].decode("ascii")
            p += 4 + ln
    except (IndexError, UnicodeDecodeError):
        return None
    return None


@dataclass(frozen=True)
class StreamFacts:
    """What :func:`clues` needs of one stream (or of a companion flow on its socket)."""

    src: str
    sport: int
    dst: str
    dport: int
    flow: int
    kind: str  # rtp, opaque, telegram, stun, ...
    payload_types: tuple[int, ...] = ()
    ssrc: int | None = None
    ice: bool = False  # STUN/DTLS/TURN on the same path


def clues(s: StreamFacts, ev: AppEvidence, *, companion: bool = False) -> list[Clue]:
    """The clues one stream gives (``companion``: a STUN/other flow of the call's socket,
    weighed less, and no payload-type clues)."""
    k = 0.7 if companion else 1.0
    out: list[Clue] = []
    if s.flow in ev.flow_app:
        out.append(Clue(ev.flow_app[s.flow], 10.0, "phone", "app named by the capture"))
    for addr, port, other_port in ((s.src, s.sport, s.dport), (s.dst, s.dport, s.sport)):
        net = net_of(addr)
        if net == "telegram":
            out.append(Clue("telegram", 3 * k, "net", f"{addr} Telegram reflector network"))
        elif net == "meta":
            out.append(Clue("whatsapp", 2 * k, "net", f"{addr} Meta relay network"))
            out.append(Clue("messenger", 1 * k, "net", f"{addr} Meta relay network"))
        elif net == "microsoft" and port in MS_RELAY_PORTS:
            out.append(Clue("teams", 3 * k, "net", f"{addr}:{port} Microsoft transport relay"))
        elif net == "zoom":
            out.append(Clue("zoom", 3 * k, "net", f"{addr} Zoom network"))
        elif net == "discord":
            out.append(Clue("discord", 3 * k, "net", f"{addr} Discord voice network"))
        elif net == "apple" and (port in MS_RELAY_PORTS or port in FACETIME_PORTS):
            out.append(Clue("facetime", 2 * k, "net", f"{addr}:{port} Apple network"))
        if _is_public(addr):
            if port in ZOOM_PORTS:
                out.append(Clue("zoom", 3 * k, "port", f"{addr}:{port} Zoom media port"))
            elif port in DISCORD_PORTS and other_port not in DISCORD_PORTS:
                out.append(Clue("discord", 2 * k, "port", f"{addr}:{port} Discord voice port"))
            elif port in VIBER_PORTS:
                out.append(Clue("viber", 2 * k, "port", f"{addr}:{port} Viber media port"))
        for name in sorted(ev.names.get(addr, ())):
            app = app_from_name(name)
            if app:
                out.append(Clue(app, 3 * k, "dns/sni", f"{addr} is {name}"))
                break
        for text in sorted(ev.software.get((addr, port), ())):
            for needle, app in SOFTWARE:
                if needle in text:
                    out.append(Clue(app, 3 * k, "stun", f"SOFTWARE {text!r}"))
                    break
        if (addr, port) in ev.ms_stun:
            out.append(Clue("skype", 1.5 * k, "stun", f"{addr}:{port} MS-ICE attributes"))
            out.append(Clue("teams", 1.0 * k, "stun", f"{addr}:{port} MS-ICE attributes"))
    if s.kind == "telegram":
        out.append(Clue("telegram", 2 * k, "framing", "Telegram reflector peer tag"))
    if not companion and s.kind == "rtp":
        if s.payload_types and s.payload_types[0] in (120, 121):
            out.append(Clue("whatsapp", 1.0, "rtp", f"payload type {s.payload_types[0]}"))
        if s.ice and s.ssrc is not None and 1000 <= s.ssrc < 10_000:
            out.append(Clue("signal", 2.0, "rtp", f"small SSRC {s.ssrc} on an ICE path"))
    return out


def decide(found: Sequence[Clue]) -> tuple[str | None, tuple[str, ...]]:
    """The app the clues point to (``None`` when none is clearly ahead) and the evidence
    for it, strongest first. A clue repeated (same app, source and detail) counts once."""
    seen: dict[tuple[str, str, str], Clue] = {}
    for c in found:
        key = (c.app, c.source, c.detail)
        if key not in seen or seen[key].weight < c.weight:
            seen[key] = c
    total: dict[str, float] = defaultdict(float)
    for c in seen.values():
        total[c.app] += c.weight
    if not total:
        return None, ()
    ranked = sorted(total.items(), key=lambda kv: -kv[1])
    app, w = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else 0.0
    if w < MIN_WEIGHT or w < MIN_LEAD * runner:
        return None, tuple(str(c) for c in sorted(seen.values(), key=lambda c: -c.weight))
    why = sorted((c for c in seen.values() if c.app == app), key=lambda c: -c.weight)
    return app, tuple(str(c) for c in why)
