"""SIP messages and their SDP bodies: which address/port carries RTP, and the payload map.

Only what the stream analysis needs: ``c=`` and ``m=`` lines, ``a=rtpmap`` (RFC 4566
§6, RFC 3264), and the SIP method or status (a BYE marks a normal hang-up).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from analyzer.protocol import STATIC_PAYLOAD_TYPES

#: TShark 4.0 does not take a dynamic payload type's clock from the SDP ``rtpmap`` rate: it
#: looks the encoding name up in its own table, matching the table name as a
#: case-insensitive *prefix* in this order (so "AMR-WB" gets AMR's 8000), and uses 0 (no
#: jitter) for names it lacks, "telephone-event" among them. Reproduced for agreement.
TSHARK_MIME_CLOCKS: tuple[tuple[str, int], ...] = (
    ("AMR", 8000), ("AMR-WB", 16000), ("BMPEG", 90000), ("BT656", 90000), ("DV", 90000),
    ("EVRC", 8000), ("EVRC0", 8000), ("EVRC1", 8000), ("EVRCB", 8000), ("EVRCB0", 8000),
    ("EVRCB1", 8000), ("EVRCWB", 16000), ("EVRCWB0", 16000), ("EVRCWB1", 16000),
    ("EVS", 16000), ("G7221", 16000), ("G726-16", 8000), ("G726-24", 8000),
    ("G726-32", 8000), ("G726-40", 8000), ("G729D", 8000), ("G729E", 8000),
    ("GSM-EFR", 8000), ("H263-1998", 90000), ("H263-2000", 90000), ("H264", 90000),
    ("MP1S", 90000), ("MP2P", 90000), ("MP4V-ES", 90000), ("mpa-robust", 90000),
    ("pointer", 90000), ("raw", 90000), ("red", 1000), ("SMV", 8000), ("SMV0", 8000),
    ("t140", 1000), ("G.722.1", 16000), ("VP8", 90000), ("opus", 48000),
)


def tshark_clock_hz(payload_type: int, rtpmap: dict[int, tuple[str, int]]) -> int:
    """The clock rate TShark 4.0 uses for jitter of a payload type (0: it cannot measure)."""
    if payload_type in rtpmap:
        name = rtpmap[payload_type][0].lower()
        for mime, rate in TSHARK_MIME_CLOCKS:
            if name.startswith(mime.lower()):
                return rate
        if payload_type >= 96:
            return 0
    return STATIC_PAYLOAD_TYPES.get(payload_type, ("", 0))[1]


@dataclass(frozen=True)
class SdpMedia:
    """One ``m=`` section: where media is expected and how its payload types map."""

    frame: int  # record number of the SIP message carrying it
    address: str
    port: int
    media: str  # audio, video, image, ...
    proto: str  # RTP/AVP, RTP/SAVPF, udptl, ...
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)

    @property
    def is_rtp(self) -> bool:
        return "RTP" in self.proto.upper()


@dataclass(frozen=True)
class SipMessage:
    frame: int
    ts_ns: int
    method: str  # INVITE, BYE, ... or the status code as text ("200")
    call_id: str | None
    media: tuple[SdpMedia, ...]


def _norm_addr(text: str) -> str | None:
    try:
        a = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return str(a)


def parse_sip(payload: bytes, frame: int, ts_ns: int) -> SipMessage | None:
    """Parse a SIP message; ``None`` when the bytes are not SIP."""
    try:
        text = payload.decode("utf-8", errors="replace")
    except Exception:  # pragma: no cover - decode with replace does not raise
        return None
    head, _, body = text.partition("\r\n\r\n")
    if not body and "\n\n" in text:
        head, _, body = text.partition("\n\n")
    lines = head.splitlines()
    if not lines:
        return None
    first = lines[0].split()
    if not first:
        return None
    if first[0] == "SIP/2.0":
        if len(first) < 2:
            return None
        method = first[1]
    elif len(first) >= 3 and first[2].startswith("SIP/2.0"):
        method = first[0]
    else:
        return None
    call_id = None
    for ln in lines[1:]:
        name, _, val = ln.partition(":")
        if name.strip().lower() in ("call-id", "i"):
            call_id = val.strip()
            break
    return SipMessage(frame=frame, ts_ns=ts_ns, method=method, call_id=call_id,
                      media=tuple(parse_sdp(body, frame)))


def parse_megaco(payload: bytes, frame: int, ts_ns: int) -> SipMessage | None:
    """H.248/MEGACO text messages carry SDP inside ``Local { }``/``Remote { }`` descriptors;
    a media gateway can move an RTP endpoint to T.38 this way (TShark follows it)."""
    text = payload.decode("utf-8", errors="replace")
    if not text.startswith(("MEGACO/", "!/1 ")):
        return None
    sdp_lines = [ln.strip() for ln in text.replace("{", "\n").replace("}", "\n").splitlines()
                 if len(ln.strip()) > 2 and ln.strip()[1] == "=" and ln.strip()[0] in "vcmoast"]
    return SipMessage(frame=frame, ts_ns=ts_ns, method="MEGACO", call_id=None,
                      media=tuple(parse_sdp("\n".join(sdp_lines), frame)))


def parse_sdp(body: str, frame: int = 0) -> list[SdpMedia]:
    """The media sections of an SDP body (RFC 4566)."""
    session_addr: str | None = None
    out: list[SdpMedia] = []
    cur: dict | None = None

    def flush() -> None:
        if cur is not None and cur["port"] > 0 and (cur["addr"] or session_addr):
            out.append(SdpMedia(frame=frame, address=cur["addr"] or session_addr or "",
                                port=cur["port"], media=cur["media"], proto=cur["proto"],
                                rtpmap=cur["map"]))

    for raw in body.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, val = line[0], line[2:]
        if kind == "v":  # a new session description (MEGACO may carry several)
            flush()
            cur, session_addr = None, None
        elif kind == "c":
            parts = val.split()
            addr = _norm_addr(parts[2].split("/")[0]) if len(parts) >= 3 else None
            if cur is None:
                session_addr = addr
            else:
                cur["addr"] = addr
        elif kind == "m":
            flush()
            parts = val.split()
            try:
                port = int(parts[1].split("/")[0])
            except (IndexError, ValueError):
                port = 0
            pts = {}
            for p in parts[3:]:
                if p.isdigit() and int(p) in STATIC_PAYLOAD_TYPES:
                    pts[int(p)] = STATIC_PAYLOAD_TYPES[int(p)]
            cur = {"media": parts[0] if parts else "", "port": port, "addr": None, "map": pts,
                   "proto": parts[2] if len(parts) > 2 else ""}
        elif kind == "a" and cur is not None and val.startswith("rtpmap:"):
            try:
                pt_text, enc = val[7:].split(None, 1)
                name, rate, *_ = [*enc.split("/"), "0"]
                cur["map"][int(pt_text)] = (name, int(rate))
            except ValueError:
                continue
    flush()
    return out
