"""TURN over TCP (RFC 5766 §11.5, RFC 6062): ChannelData and STUN messages framed in a TCP
byte stream. Each ChannelData frame becomes a datagram row, so RTP relayed through a TURN
server over TCP is measured like RTP over UDP.

Only TCP flows that look like TURN (a segment starting with a STUN header carrying the
magic cookie, or with a ChannelData header) are reassembled; the rest is ignored. Segments
are taken in capture order: retransmitted bytes are skipped, and after a capture gap the
parser resynchronises on the next segment that starts with a frame header.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.capture.ipudp import TcpSegments
from analyzer.protocol import STUN_MAGIC_COOKIE

STUN_COOKIE = STUN_MAGIC_COOKIE.to_bytes(4, "big")
MAX_FRAME = 65535 + 4
#: A reassembly buffer longer than this is dropped (garbage that never forms a frame).
MAX_PENDING = 1 << 18
#: Segments held while waiting for a missing one before giving up on it.
MAX_AHEAD_SEGMENTS = 64


@dataclass
class _FlowState:
    next_seq: int | None = None
    pending: bytearray = field(default_factory=bytearray)
    pending_frame: int = 0
    pending_ts: int = 0
    #: segments that arrived ahead of a missing one: seq -> (data, frame, ts, is_frame_start)
    ahead: dict[int, tuple[bytes, int, int, bool]] = field(default_factory=dict)


def _looks_like_frame_start(b: bytes) -> bool:
    if len(b) < 4:
        return False
    ch = (b[0] << 8) | b[1]
    if 0x4000 <= ch <= 0x7FFF:
        return True
    return len(b) >= 8 and b[0] & 0xC0 == 0 and b[4:8] == STUN_COOKIE


@dataclass
class TurnTcpRows:
    frame: list[int] = field(default_factory=list)
    ts_ns: list[int] = field(default_factory=list)
    key: list[bytes] = field(default_factory=list)  # src16 + dst16 + sport(2) + dport(2)
    payload: list[bytes] = field(default_factory=list)


class TurnTcpReassembler:
    """Keeps per-flow TCP state across record batches."""

    def __init__(self) -> None:
        self.turn_flows: set[bytes] = set()
        self.states: dict[bytes, _FlowState] = {}

    def feed(self, segs: TcpSegments | None) -> TurnTcpRows:
        out = TurnTcpRows()
        if segs is None or segs.frame.size == 0:
            return out
        f8 = segs.first8
        ch = (f8[:, 0].astype(np.int64) << 8) | f8[:, 1]
        stunlike = ((f8[:, 0] & 0xC0) == 0) & (f8[:, 4:8] == np.frombuffer(STUN_COOKIE,
                                                                           np.uint8)).all(1)
        cand = stunlike | ((ch >= 0x4000) & (ch <= 0x7FFF))
        keys = np.empty((segs.frame.size, 36), dtype=np.uint8)
        keys[:, :16] = segs.src
        keys[:, 16:32] = segs.dst
        keys[:, 32] = segs.sport >> 8
        keys[:, 33] = segs.sport & 0xFF
        keys[:, 34] = segs.dport >> 8
        keys[:, 35] = segs.dport & 0xFF
        for row in np.flatnonzero(stunlike):
            self.turn_flows.add(keys[row].tobytes())
        if not self.turn_flows:
            return out
        buf = segs.buf
        for i in range(segs.frame.size):
            k = keys[i].tobytes()
            if k not in self.turn_flows:
                continue
            st = self.states.setdefault(k, _FlowState())
            seq, n = int(segs.seq[i]), int(segs.length[i])
            data = buf[int(segs.start[i]): int(segs.start[i]) + n].tobytes()
            self._segment(k, st, seq, data, int(segs.frame[i]), int(segs.ts_ns[i]),
                          bool(cand[i]), out)
        return out

    def _segment(self, k: bytes, st: _FlowState, seq: int, data: bytes, frame: int, ts: int,
                 starts_frame: bool, out: TurnTcpRows) -> None:
        if st.next_seq is None:
            if not starts_frame:
                return
            st.next_seq = seq
        gap = (seq - st.next_seq) % (1 << 32)
        if gap >= (1 << 31):  # starts before what we have: a retransmission
            overlap = (st.next_seq - seq) % (1 << 32)
            if overlap >= len(data):
                return
            data, seq = data[overlap:], st.next_seq
        elif gap > 0:  # ahead of a missing segment: hold it, unless too much is held
            st.ahead[seq] = (data, frame, ts, starts_frame)
            if len(st.ahead) <= MAX_AHEAD_SEGMENTS:
                return
            # the missing bytes are not in the capture: resynchronise on held data
            st.pending.clear()
            expected = st.next_seq
            first = min(st.ahead, key=lambda q: (q - expected) % (1 << 32))
            st.next_seq = first
            self._release(k, st, out)
            return
        self._consume(k, st, data, frame, ts, out)
        self._release(k, st, out)

    def _consume(self, k: bytes, st: _FlowState, data: bytes, frame: int, ts: int,
                 out: TurnTcpRows) -> None:
        if not st.pending:
            st.pending_frame, st.pending_ts = frame, ts
        st.pending.extend(data)
        st.next_seq = ((st.next_seq or 0) + len(data)) % (1 << 32)
        self._drain(k, st, frame, ts, out)

    def _release(self, k: bytes, st: _FlowState, out: TurnTcpRows) -> None:
        while st.ahead:
            nxt = st.next_seq
            hit = st.ahead.pop(nxt, None) if nxt is not None else None
            if hit is None:
                # drop held segments that are now entirely behind us
                for q in [q for q in st.ahead
                          if (q - (nxt or 0)) % (1 << 32) >= (1 << 31)]:
                    data, frame, ts, _ = st.ahead.pop(q)
                    overlap = ((nxt or 0) - q) % (1 << 32)
                    if overlap < len(data):
                        self._consume(k, st, data[overlap:], frame, ts, out)
                        break
                else:
                    return
                continue
            data, frame, ts, _ = hit
            self._consume(k, st, data, frame, ts, out)

    def _drain(self, key: bytes, st: _FlowState, frame: int, ts: int, out: TurnTcpRows) -> None:
        p = st.pending
        pos = 0
        while len(p) - pos >= 4:
            ch = (p[pos] << 8) | p[pos + 1]
            ln = (p[pos + 2] << 8) | p[pos + 3]
            if 0x4000 <= ch <= 0x7FFF:
                total = 4 + ln
                padded = (total + 3) & ~3
            elif p[pos] & 0xC0 == 0 and len(p) - pos >= 8 and p[pos + 4: pos + 8] == STUN_COOKIE:
                total = padded = 20 + ln
            else:  # lost framing: drop what we have and wait for a frame start
                pos = len(p)
                break
            if len(p) - pos < total:
                break
            if 0x4000 <= ch <= 0x7FFF or p[pos + 1] in (0x16, 0x17):  # ChannelData, Send/Data
                out.frame.append(frame)
                out.ts_ns.append(ts)
                out.key.append(key)
                out.payload.append(bytes(p[pos: pos + total]))
            pos += min(padded, len(p) - pos)
        del p[:pos]
        if len(p) > MAX_PENDING:
            p.clear()
