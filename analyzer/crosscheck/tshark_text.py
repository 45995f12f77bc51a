"""Parse TShark ``-z rtp,streams`` text output (live, or as stored beside the public
captures)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROW = re.compile(
    r"^\s*(?P<start>\d+\.\d+)\s+(?P<end>\d+\.\d+)\s+(?P<src>\S+)\s+(?P<sport>\d+)\s+"
    r"(?P<dst>\S+)\s+(?P<dport>\d+)\s+(?P<ssrc>0x[0-9A-Fa-f]+)\s+(?P<payload>.+?)\s+"
    r"(?P<pkts>\d+)\s+(?P<lost>-?\d+)\s+\((?P<lostpct>[-\d.]+)%\)\s+(?P<mind>-?[\d.]+)\s+"
    r"(?P<meand>-?[\d.]+)\s+(?P<maxd>-?[\d.]+)\s+(?P<minj>-?[\d.]+)\s+(?P<meanj>-?[\d.]+)\s+"
    r"(?P<maxj>-?[\d.]+)\s*(?P<problem>X?)\s*$"
)


@dataclass(frozen=True)
class RefStream:
    start_s: float
    end_s: float
    src: str
    sport: int
    dst: str
    dport: int
    ssrc: int
    payload: str
    packets: int
    lost: int
    min_delta_ms: float
    mean_delta_ms: float
    max_delta_ms: float
    min_jitter_ms: float
    mean_jitter_ms: float
    max_jitter_ms: float
    problems: bool

    @property
    def key(self) -> tuple[str, int, str, int, int]:
        return (self.src, self.sport, self.dst, self.dport, self.ssrc)


def parse_rtp_streams(text: str) -> list[RefStream]:
    out = []
    for line in text.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        g = m.groupdict()
        out.append(RefStream(
            float(g["start"]), float(g["end"]), g["src"], int(g["sport"]), g["dst"],
            int(g["dport"]), int(g["ssrc"], 16), g["payload"].strip(), int(g["pkts"]),
            int(g["lost"]), float(g["mind"]), float(g["meand"]), float(g["maxd"]),
            float(g["minj"]), float(g["meanj"]), float(g["maxj"]), g["problem"] == "X"))
    return out


def load_reference(path: Path) -> dict[str, list[RefStream]]:
    """``{"default": [...], "heuristic": [...]}`` from a ``*.tshark-rtp.txt`` file."""
    text = path.read_text()
    parts = re.split(r"^## ", text, flags=re.M)
    res: dict[str, list[RefStream]] = {"default": [], "heuristic": []}
    for p in parts:
        if p.startswith("tshark -r F -q -z rtp,streams"):
            res["default"] = parse_rtp_streams(p)
        elif p.startswith("tshark -r F -q -o rtp.heuristic_rtp:TRUE -z rtp,streams"):
            res["heuristic"] = parse_rtp_streams(p)
    return res
