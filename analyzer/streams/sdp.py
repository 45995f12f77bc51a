"""SIP messages and their SDP bodies: which address/port carries RTP, and the payload map.

Only what the stream analysis needs: ``c=`` and ``m=`` lines, ``a=rtpmap`` (RFC 4566
§6, RFC 3264), and the SIP method or status (a BYE marks a normal hang-up).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from analyzer.protocol import STATIC_PAYLOAD_TYPES


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
