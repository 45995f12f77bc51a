"""Run TShark's ``-z rtp,streams`` on the same capture and compare, stream by stream.

TShark is an optional engine: nothing else in the package needs it. Where it is missing
the cross-check says so (a :class:`~analyzer.errors.UsageError`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from analyzer.crosscheck.tshark_text import RefStream, parse_rtp_streams
from analyzer.errors import UsageError
from analyzer.streams.capture import Capture
from analyzer.streams.model import Stream
from analyzer.streams.timeline import Timeline

TOLERANCE_MS = 0.01
START_TOLERANCE_S = 2e-6
TIMEOUT_S = 3600


def tshark_streams(path: str | os.PathLike[str], *, heuristic: bool = True,
                   tshark: str | None = None) -> list[RefStream]:
    """TShark's RTP streams of ``path`` (``-o rtp.heuristic_rtp:TRUE`` when ``heuristic``)."""
    exe = tshark or shutil.which("tshark")
    if not exe:
        raise UsageError("the cross-check needs tshark (Wireshark's command line): install "
                         "it, e.g. apt-get install tshark")
    cmd = [exe, "-n", "-q", "-r", os.fspath(path), "-z", "rtp,streams"]
    if heuristic:
        cmd[1:1] = ["-o", "rtp.heuristic_rtp:TRUE"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                             check=False)
    except subprocess.TimeoutExpired:
        raise UsageError(f"tshark did not finish within {TIMEOUT_S} s") from None
    if res.returncode != 0:
        msg = (res.stderr.strip().splitlines() or ["no message"])[-1]
        raise UsageError(f"tshark failed ({res.returncode}): {msg}")
    return parse_rtp_streams(res.stdout)


@dataclass(frozen=True)
class StreamComparison:
    key: tuple[str, int, str, int, int]
    tshark: RefStream
    ours: dict[str, Any] | None  # our figures, None when we have no such stream
    differences: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        src, sport, dst, dport, ssrc = self.key
        return {"src": src, "sport": sport, "dst": dst, "dport": dport, "ssrc": ssrc,
                "agrees": self.agrees, "differences": list(self.differences),
                "tshark": {k: getattr(self.tshark, k) for k in (
                    "packets", "lost", "max_delta_ms", "mean_jitter_ms", "max_jitter_ms")},
                "ours": self.ours}


@dataclass(frozen=True)
class CrossCheck:
    heuristic: bool
    streams: tuple[StreamComparison, ...]

    @property
    def agreeing(self) -> int:
        return sum(c.agrees for c in self.streams)

    def to_dict(self) -> dict[str, Any]:
        return {"engine": "tshark", "heuristic_rtp": self.heuristic,
                "streams_compared": len(self.streams), "streams_agreeing": self.agreeing,
                "streams": [c.to_dict() for c in self.streams]}


def stream_differences(s: Stream, r: RefStream, timeline: Timeline | None = None
                       ) -> list[str]:
    """How our statistics of ``s`` differ from TShark's row ``r`` (empty: they agree).

    Packets and lost must be equal; max delta and, where TShark knows the clock, mean and
    max jitter within :data:`TOLERANCE_MS`; the start time within 2 µs (TShark prints µs),
    compared on TShark's axis (``timeline``: the capture's, across clock jumps).
    """
    st, diffs = s.stats, []
    if st.packets != r.packets:
        diffs.append(f"packets {st.packets} vs {r.packets}")
    if st.lost != r.lost:
        diffs.append(f"lost {st.lost} vs {r.lost}")
    if abs(st.max_delta_ms - r.max_delta_ms) > TOLERANCE_MS:
        diffs.append(f"max delta {st.max_delta_ms:.3f} vs {r.max_delta_ms:.3f} ms")
    if s.extra.get("jitter_by_tshark"):
        for name in ("mean_jitter_ms", "max_jitter_ms"):
            a, b = getattr(st, name), getattr(r, name)
            if a is None or abs(a - b) > TOLERANCE_MS:
                diffs.append(f"{name} {a} vs {b:.3f}")
    elif r.max_jitter_ms != 0:
        diffs.append("tshark measured jitter but analyzer found no clock tshark knows")
    start = st.start_s if timeline is None else timeline.file_relative_s(st.start_s)
    if abs(start - r.start_s) > START_TOLERANCE_S:
        diffs.append(f"start {start:.6f} vs {r.start_s:.6f} s")
    return diffs


def cross_check(cap: Capture, *, heuristic: bool = True, tshark: str | None = None
                ) -> CrossCheck:
    """Compare our statistics with TShark's on every stream TShark lists: packets and lost
    equal, max delta and (where TShark has the clock) mean/max jitter within 0.01 ms."""
    refs = tshark_streams(cap.path, heuristic=heuristic, tshark=tshark)
    ours = {(s.src, s.sport, s.dst, s.dport, s.ssrc): s for s in cap.streams if s.kind == "rtp"}
    out = []
    for r in refs:
        s = ours.get(r.key)
        diffs: list[str] = []
        mine = None
        if s is None:
            diffs.append("not found as an RTP stream by analyzer" +
                         (" (fewer than 5 packets: treated as noise)" if r.packets < 5 else ""))
        else:
            st = s.stats
            mine = {"packets": st.packets, "lost": st.lost, "max_delta_ms": st.max_delta_ms,
                    "mean_jitter_ms": st.mean_jitter_ms, "max_jitter_ms": st.max_jitter_ms}
            diffs = stream_differences(s, r, cap.timeline)
        out.append(StreamComparison(r.key, r, mine, tuple(diffs)))
    return CrossCheck(heuristic=heuristic, streams=tuple(out))
