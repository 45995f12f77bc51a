"""Frame timing of a media stream: the packet interval (ptime), its changes, and silence.

The interval is never assumed (../shared/DOMAIN.md §5: Telegram sent 60 ms frames). For RTP
with a known clock it is the RTP-timestamp step between consecutive sequence numbers (the
median within a packet-time segment), divided by the clock: exact, and immune to arrival
jitter; the dominant interval is that of the segment with most packets. Without RTP
timestamps
it is estimated from arrival times: the mode of the inter-arrival times when it agrees with
the typical packet rate, else the rate itself, snapped to a common packet time.

Silence is told apart from loss (DOMAIN.md §4: "codec rate changes and silence suppression
lower the packet rate with no sequence gaps"):

* discontinuous transmission (DTX): a step to the next sequence number whose RTP timestamp
  jumps by more than the frames it could hold (RFC 3551 §4.1: the timestamp keeps running
  through silence, the sequence number does not);
* comfort noise: payload type 13/19 (RFC 3389), or a tiny packet (``cn_max_bytes``) next
  to a silence step, such as an Opus DTX frame or WhatsApp's ~25-byte comfort noise (tiny
  packets at the regular cadence are speech of a low-rate codec);
* a change of packet time mid-call (20 -> 60 ms) starts a new :class:`FrameSegment`.

None of these ever counts as loss: loss comes from sequence numbers only
(:mod:`analyzer.metrics.losspattern`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analyzer.metrics.seqmath import merge_intervals, sorted_quantiles, true_runs
from analyzer.protocol import CN_PAYLOAD_TYPES  # RFC 3551: 13 CN, 19 the old CN

#: A UDP payload this small (RTP header included) is comfort noise / a DTX frame, not speech.
CN_MAX_BYTES = 30
#: Packet times (s) an arrival-based estimate snaps to when within ``SNAP_TOLERANCE``.
COMMON_FRAME_INTERVALS_S = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12)
SNAP_TOLERANCE = 0.1
#: A packet time must hold for this many consecutive steps to open a new segment.
MIN_SEGMENT_STEPS = 10
#: Inter-arrival times outside this range say nothing about the frame interval.
MIN_STEP_S = 0.002
MAX_STEP_S = 0.3
#: Arrival-based: the mode must lie within this fraction of the rate-based interval.
MODE_RATE_AGREEMENT = 0.25
#: A timestamp step larger than (sequence step + this) frames is silence (DTX).
DTX_EXTRA_FRAMES = 0.5


@dataclass(frozen=True)
class FrameSegment:
    """A stretch of the stream sent with one packet time."""

    start_s: float
    end_s: float
    frame_interval_s: float
    first_packet: int
    packets: int

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": self.start_s, "end_s": self.end_s,
                "frame_interval_ms": self.frame_interval_s * 1000.0,
                "first_packet": self.first_packet, "packets": self.packets}


@dataclass(frozen=True, eq=False)
class FrameTiming:
    """The frame timing of one stream.

    ``interval_s`` (per packet, the interval of its segment), ``comfort_noise`` (per packet)
    and ``dtx_step`` (per inter-arrival step: the sender was silent, not the network) are the
    arrays later metrics use; they are left out of :meth:`to_dict`.
    """

    frame_interval_s: float | None  # the dominant interval; None when it cannot be told
    source: str  # "rtp_timestamp", "arrival" or "none"
    segments: tuple[FrameSegment, ...]
    dtx_start_s: np.ndarray
    dtx_end_s: np.ndarray
    comfort_noise_packets: int
    interval_s: np.ndarray = field(repr=False)
    comfort_noise: np.ndarray = field(repr=False)
    dtx_step: np.ndarray = field(repr=False)

    @property
    def dtx_periods(self) -> int:
        return int(self.dtx_start_s.size)

    @property
    def dtx_total_s(self) -> float:
        return float(np.sum(self.dtx_end_s - self.dtx_start_s))

    @property
    def frame_interval_ms(self) -> float | None:
        return None if self.frame_interval_s is None else self.frame_interval_s * 1000.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame_interval_ms": self.frame_interval_ms,
            "frame_interval_source": self.source,
            "segments": [s.to_dict() for s in self.segments],
            "dtx_periods": self.dtx_periods,
            "dtx_total_s": self.dtx_total_s,
            "comfort_noise_packets": self.comfort_noise_packets,
        }


def comfort_noise_payload(payload_type: np.ndarray | None, n: int) -> np.ndarray:
    """Packets whose RTP payload type says comfort noise (13 or 19)."""
    if payload_type is None:
        return np.zeros(n, dtype=bool)
    return (payload_type == CN_PAYLOAD_TYPES[0]) | (payload_type == CN_PAYLOAD_TYPES[1])


def frame_timing(arrival_s: np.ndarray, size_bytes: np.ndarray, *,
                 seq: np.ndarray | None = None, rtp_ts: np.ndarray | None = None,
                 clock_rate_hz: int | None = None, payload_type: np.ndarray | None = None,
                 cn_max_bytes: int = CN_MAX_BYTES,
                 min_segment_steps: int = MIN_SEGMENT_STEPS) -> FrameTiming:
    """Frame interval, packet-time segments and silence (DTX / comfort noise) of a stream.

    Pass ``seq``, ``rtp_ts`` and ``clock_rate_hz`` for RTP (extended values, capture order);
    without them only arrival times and sizes are used. A tiny packet
    (``<= cn_max_bytes``) counts as comfort noise only next to a silence step: tiny frames
    sent at the regular cadence are speech frames of a low-rate codec.
    """
    t = np.asarray(arrival_s, dtype=np.float64)
    n = t.size
    pt_cn = comfort_noise_payload(payload_type, n)
    tiny = np.asarray(size_bytes) <= cn_max_bytes
    if n < 2:
        return FrameTiming(None, "none", (), np.zeros(0), np.zeros(0), int(pt_cn.sum()),
                           np.full(n, np.nan), pt_cn, np.zeros(0, dtype=bool))
    if seq is not None and rtp_ts is not None and clock_rate_hz:
        res = _rtp_timing(t, seq, rtp_ts, float(clock_rate_hz), pt_cn, tiny,
                          min_segment_steps)
        if res is not None:
            return res
    return _arrival_timing(t, pt_cn, tiny)


def _constant(n: int, value: float) -> np.ndarray:
    """``n`` copies of ``value`` as a read-only view of one number (no per-packet memory)."""
    return np.broadcast_to(np.float64(value), (n,))


def _finish(t: np.ndarray, source: str, segs: tuple[FrameSegment, ...], interval: np.ndarray,
            dtx_step: np.ndarray, pt_cn: np.ndarray, tiny: np.ndarray) -> FrameTiming:
    """Comfort-noise mask, DTX periods (merged time spans) and the result."""
    counts = [s.packets for s in segs]
    dom = segs[int(np.argmax(counts))].frame_interval_s if len(segs) > 1 \
        else segs[0].frame_interval_s
    dominant = dom if math.isfinite(dom) and dom > 0 else None
    if not dtx_step.any() and not pt_cn.any():
        e = np.zeros(0)
        return FrameTiming(dominant, source, segs, e, e, 0, interval, pt_cn, dtx_step)
    near_dtx = np.zeros(t.size, dtype=bool)
    near_dtx[:-1] |= dtx_step
    near_dtx[1:] |= dtx_step
    cn = pt_cn | (tiny & near_dtx)
    st, ln = true_runs(cn)
    nxt = np.minimum(st + ln, t.size - 1)
    ds, de = merge_intervals(np.concatenate((t[:-1][dtx_step], t[st])),
                             np.concatenate((t[1:][dtx_step], t[nxt])))
    return FrameTiming(dominant, source, segs, ds, de, int(cn.sum()), interval, cn, dtx_step)


def _rtp_timing(t: np.ndarray, seq: np.ndarray, ts: np.ndarray, clock: float,
                pt_cn: np.ndarray, tiny: np.ndarray, min_steps: int) -> FrameTiming | None:
    n = t.size
    d_seq = seq[1:] - seq[:-1]
    d_ts = ts[1:] - ts[:-1]
    has_cn = bool(pt_cn.any())
    ok = (d_seq == 1) & (d_ts > 0)
    if has_cn:
        ok &= ~(pt_cn[1:] | pt_cn[:-1])
    steps = d_ts[ok]
    segs: tuple[FrameSegment, ...]
    frame_ts: np.ndarray | float
    if steps.size == 0:
        # comfort noise only, or no clean steps: the most common timestamp step per frame
        fwd = (d_seq >= 1) & (d_ts > 0)
        if not fwd.any():
            return None
        per = np.rint(d_ts[fwd] / d_seq[fwd]).astype(np.int64)
        step_ts = float(_mode(per))
        segs = (FrameSegment(float(t[0]), float(t[-1]), step_ts / clock, 0, n),)
        frame_ts = step_ts
    elif int(steps.min()) == int(steps.max()):  # one packet time throughout (common)
        step_ts = float(steps[0])
        segs = (FrameSegment(float(t[0]), float(t[-1]), step_ts / clock, 0, n),)
        frame_ts = step_ts
    else:
        # packet time per clean step on a 0.1 ms grid (tolerates senders whose timestamps
        # follow a wall clock); a segment is a run of one value lasting >= min_steps steps
        ok_idx = ok.nonzero()[0]
        q = np.rint(steps * (10000.0 / clock)).astype(np.int64)
        segs, frame_ts = _segments(t, ok_idx, q, steps, clock, min_steps)
    # DTX: the timestamp advanced by more frames than sequence numbers were used; and the
    # steps inside a stretch of comfort-noise packets
    per_step = frame_ts if isinstance(frame_ts, float) else frame_ts[:-1]
    dtx_step = (d_seq >= 1) & (d_ts > (d_seq + DTX_EXTRA_FRAMES) * per_step)
    if has_cn:
        dtx_step |= pt_cn[1:] & pt_cn[:-1]
    if isinstance(frame_ts, float):
        interval = _constant(n, frame_ts / clock)
    elif frame_ts.size and frame_ts.strides == (0,):  # one packet time: still one number
        interval = _constant(n, float(frame_ts[0]) / clock)
    else:
        interval = frame_ts / clock
    return _finish(t, "rtp_timestamp", segs, interval, dtx_step, pt_cn, tiny)


def _segments(t: np.ndarray, ok_idx: np.ndarray, q: np.ndarray, raw: np.ndarray, clock: float,
              min_steps: int) -> tuple[tuple[FrameSegment, ...], np.ndarray]:
    """Packet-time segments from the quantised clean steps ``q`` at packets ``ok_idx``."""
    n = t.size
    if int(q.min()) == int(q.max()):  # one packet time, timestamps slightly irregular
        step_ts = float(np.median(raw))
        seg = FrameSegment(float(t[0]), float(t[-1]), step_ts / clock, 0, n)
        return (seg,), _constant(n, step_ts)
    change = np.flatnonzero(q[1:] != q[:-1]) + 1
    run_start = np.concatenate(([0], change))
    run_len = np.diff(np.append(run_start, q.size))
    stable = run_len >= min_steps
    if not stable.any():
        stable_start, stable_q = np.array([0]), np.array([_mode(q)])
    else:
        stable_start, stable_q = run_start[stable], q[run_start[stable]]
        keep = np.ones(stable_q.size, dtype=bool)
        keep[1:] = stable_q[1:] != stable_q[:-1]
        stable_start, stable_q = stable_start[keep], stable_q[keep]
    first_packet = ok_idx[stable_start]
    first_packet[0] = 0
    bounds = np.append(first_packet, n)
    segs = []
    frame_ts = np.empty(n)
    for k in range(stable_q.size):
        a, b = int(bounds[k]), int(bounds[k + 1])
        sel = raw[(q == stable_q[k]) & (ok_idx >= a) & (ok_idx < b)]
        step_ts = float(np.median(sel)) if sel.size else stable_q[k] * clock / 10000.0
        frame_ts[a:b] = step_ts
        segs.append(FrameSegment(float(t[a]), float(t[b - 1]), step_ts / clock, a, b - a))
    return tuple(segs), frame_ts


def _mode(values: np.ndarray) -> int:
    """The most common value of an integer array (the smallest on a tie)."""
    lo = int(values.min())
    if int(values.max()) - lo <= 1 << 20:
        return int(np.argmax(np.bincount(values - lo))) + lo
    vals, counts = np.unique(values, return_counts=True)
    return int(vals[int(np.argmax(counts))])


def _arrival_timing(t: np.ndarray, pt_cn: np.ndarray, tiny: np.ndarray) -> FrameTiming:
    n = t.size
    d = np.diff(t)
    small = tiny | pt_cn
    touches = small[1:] | small[:-1]
    use = ~touches if np.count_nonzero(~touches) >= 5 else np.ones(d.size, dtype=bool)
    interval = estimate_interval_from_arrivals(t, d, use)
    # without timestamps, silence shows only as sparse comfort-noise packets
    dtx_step = touches & (d > 1.5 * interval)
    seg = (FrameSegment(float(t[0]), float(t[-1]), interval, 0, n),)
    return _finish(t, "arrival", seg, _constant(n, interval), dtx_step, pt_cn, tiny)


def estimate_interval_from_arrivals(t: np.ndarray, d: np.ndarray | None = None,
                                    use: np.ndarray | None = None) -> float:
    """The packet interval of a stream known only by arrival times.

    The typical rate (the upper quartile of packets per 1-s window, so silence windows do
    not drag it down and bunched delivery does not push it up) gives one estimate; the
    mode of inter-arrival times (1 ms bins, smoothed over 3 bins) a sharper one, used when
    the two agree within ``MODE_RATE_AGREEMENT``. The result snaps to a common packet time.
    """
    if d is None:
        d = np.diff(t)
    if use is None:
        use = np.ones(d.size, dtype=bool)
    span = float(t[-1] - t[0])
    if span <= 0:
        return float("nan")
    good = d[use & (d >= MIN_STEP_S) & (d <= MAX_STEP_S)]
    if span >= 3.0:
        per_s = np.bincount(((t - t[0])).astype(np.int64))[1:-1]  # drop partial ends
        per_s = np.sort(per_s[per_s > 0])
        rate = float(sorted_quantiles(per_s, (0.75,))[0]) if per_s.size else 0.0
        by_rate = 1.0 / rate if rate > 0 else span / (t.size - 1)
    else:
        by_rate = float(np.mean(good)) if good.size else span / (t.size - 1)
    est = by_rate
    if good.size >= 5:
        hist = np.bincount(np.minimum((good * 1000).astype(np.int64), 300), minlength=301)
        smooth = hist[:-2] + hist[1:-1] + hist[2:]
        centre = int(np.argmax(smooth)) + 1
        near = good[np.abs(good * 1000 - (centre + 0.5)) <= 1.5]
        mode = float(np.mean(near)) if near.size else (centre + 0.5) / 1000
        if abs(mode - by_rate) <= MODE_RATE_AGREEMENT * by_rate:
            est = mode
    return snap_interval(est)


def snap_interval(interval_s: float) -> float:
    """Snap an estimated interval to the nearest common packet time when close to one."""
    if not np.isfinite(interval_s) or interval_s <= 0:
        return interval_s
    common = np.asarray(COMMON_FRAME_INTERVALS_S)
    k = int(np.argmin(np.abs(common - interval_s)))
    if abs(common[k] - interval_s) <= SNAP_TOLERANCE * common[k]:
        return float(common[k])
    return float(interval_s)
