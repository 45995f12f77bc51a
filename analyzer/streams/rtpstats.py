"""Per-stream RTP statistics, computed for all streams at once, matching TShark 4.0.17.

TShark's rules (``ui/tap-rtp-analysis.c`` in 4.0; ../shared/DOMAIN.md §2), reproduced here:

* jitter (ms): ``J += (|D| - J) / 16`` with ``D = (R_i - R_prev) - (S_i - S_prev) / clock``,
  ``R_prev`` the previous arrival in the stream (out-of-order packets included) and
  ``S_prev`` the RTP time of the previous packet with a known clock; packets whose RTP time is
  older than the stream's first packet's do not take part;
* max/mean jitter and min/mean/max delta count only *regular* packets: not the first, not
  marker-bit packets, not comfort noise (PT 13/19) and not a packet that follows comfort noise;
* ``lost = (ext_seq(last arrival) - ext_seq(first arrival) + 1) - received``, negative with
  duplicates and blind to a stream that just stops;
* the clock rate comes from the static payload-type table or SDP; without either TShark
  reports jitter 0. We then use the inferred clock and say so (``clock_source``).

Current Wireshark master differs (D against the last in-timestamp-order packet); we follow
4.0.17, the reference the project is tested against. Other definitions (duplicates,
reordered, sequence errors) are our own fields and do not change ``lost``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from analyzer.capture import records as _records
from analyzer.phases import timed
from analyzer.protocol import CN_PAYLOAD_TYPES, STATIC_PAYLOAD_TYPES
from analyzer.streams.segments import (
    SEQ_MOD,
    TS_MOD,
    ema_with_resets,
    first_mask,
    segment_reduce,
    stream_ids,
    unwrap,
)

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


def media_clock_hz(payload_type: int, rtpmap: dict[int, tuple[str, int]]) -> int:
    """The clock this package uses for a payload type: :func:`tshark_clock_hz`, except that
    a static payload type the SDP maps with a rate gets that rate. TShark's name table
    matches by prefix, so "DVI4" would take the 90 kHz of "DV" (digital video) although
    the SDP says DVI4/8000 or DVI4/16000 (RFC 3551 §4.5.1); static types never need the
    name table."""
    if payload_type < 96 and payload_type in rtpmap and rtpmap[payload_type][1] > 0:
        return rtpmap[payload_type][1]
    return tshark_clock_hz(payload_type, rtpmap)


@dataclass(frozen=True)
class StreamStats:
    """TShark-style statistics of one stream (``None`` where not applicable, e.g. no RTP)."""

    packets: int
    lost: int | None
    duplicates: int | None
    reordered: int | None
    sequence_errors: int | None
    min_delta_ms: float
    mean_delta_ms: float
    max_delta_ms: float
    min_jitter_ms: float | None
    mean_jitter_ms: float | None
    max_jitter_ms: float | None
    start_s: float
    end_s: float
    bytes: int
    bitrate_bps: float
    packets_per_s: float
    problems: bool

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def expected(self) -> int | None:
        return None if self.lost is None else self.packets + self.lost

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class RtpColumns:
    """Concatenated per-packet RTP columns of many streams, in capture order per stream."""

    arrival_s: np.ndarray
    seq16: np.ndarray
    ts32: np.ndarray
    marker: np.ndarray
    payload_type: np.ndarray
    clock_hz: np.ndarray  # per packet; 0 where unknown
    size_bytes: np.ndarray
    starts: np.ndarray  # first index of each stream


@dataclass(frozen=True)
class RtpDerived:
    """Unwrapped counters and per-packet jitter, reused by the quality metrics."""

    seq_ext: np.ndarray
    ts_ext: np.ndarray
    jitter_ms: np.ndarray  # running J after each packet (NaN where no clock)
    regular: np.ndarray  # bool: counts in TShark's delta/jitter aggregates


def derive(cols: RtpColumns) -> RtpDerived:
    n = cols.arrival_s.size
    starts = cols.starts
    sid = stream_ids(starts, n)
    first = first_mask(starts, n)
    seq = unwrap(cols.seq16, SEQ_MOD, starts)
    ts = unwrap(cols.ts32, TS_MOD, starts)
    t_ms = cols.arrival_s * 1000.0
    pt = cols.payload_type
    clock = cols.clock_hz.astype(np.float64)
    nominal = np.where(clock > 0, (ts - ts[starts][sid]) / np.where(clock > 0, clock, 1) * 1000,
                       np.nan)
    older = (ts - ts[starts][sid]) < 0
    part = ~first & (clock > 0) & ~older  # packets that update the jitter
    # S_prev: nominal time of the previous packet with a known clock (first packet included)
    has_nom = (clock > 0) & ~older
    idx = np.where(has_nom, np.arange(n), -1)
    prev_idx = np.empty(n, dtype=np.int64)
    if n:
        prev_idx[0] = -1
        prev_idx[1:] = np.maximum.accumulate(idx)[:-1]
    # the previous known-clock packet must lie in the same stream
    prev_ok = (prev_idx >= 0) & (prev_idx >= starts[sid])
    s_prev = np.where(prev_ok, nominal[np.maximum(prev_idx, 0)], np.nan)
    r_prev = np.empty(n)
    if n:
        r_prev[0] = np.nan
        r_prev[1:] = t_ms[:-1]
    d = (t_ms - r_prev) - (nominal - s_prev)
    part &= prev_ok
    p_idx = np.flatnonzero(part)
    jit_p = ema_with_resets(np.abs(d[p_idx]), _resets(p_idx, sid))
    jitter = np.full(n, np.nan)
    jitter[p_idx] = jit_p
    # carry J forward over non-participating packets of the same stream
    carry_idx = np.where(part, np.arange(n), -1)
    carry_idx = np.maximum.accumulate(carry_idx) if n else carry_idx
    same = (carry_idx >= 0) & (carry_idx >= starts[sid])
    jitter = np.where(same, jitter[np.maximum(carry_idx, 0)], np.where(clock > 0, 0.0, np.nan))
    is_cn = np.isin(pt, CN_PAYLOAD_TYPES)
    follow_cn = np.zeros(n, dtype=bool)
    if n:
        follow_cn[1:] = is_cn[:-1]
    follow_cn &= ~first
    regular = ~first & ~cols.marker & ~is_cn & ~follow_cn & ~older
    return RtpDerived(seq_ext=seq, ts_ext=ts, jitter_ms=jitter, regular=regular)


def _resets(p_idx: np.ndarray, sid: np.ndarray) -> np.ndarray:
    s = sid[p_idx]
    r = np.ones(p_idx.size, dtype=bool)
    if p_idx.size > 1:
        r[1:] = s[1:] != s[:-1]
    return r


def tshark_running_mean(x: np.ndarray, mask: np.ndarray, sid: np.ndarray, starts: np.ndarray,
                        m: int) -> np.ndarray:
    """TShark 4.0's running "mean": ``mean = (mean * (k - 1) + x) / k`` at each counted packet,
    ``k`` being the packet's 0-based position in its stream.

    It equals the plain mean only when every packet after the first counts; otherwise
    earlier values weigh more. Evaluated in closed form:
    ``mean = sum_j x_j / k_j * prod_{i > j} (k_i - 1) / k_i`` over the counted packets.
    """
    n = x.size
    if n == 0:
        return np.zeros(m)
    counts = np.diff(np.append(starts, n))
    first = np.zeros(n, dtype=bool)
    first[starts] = True
    counted = mask & ~first
    n_counted = np.add.reduceat(counted, starts)
    # Streams where every packet after the first counts: the formula is the plain mean.
    full = (n_counted == counts - 1) & (counts > 1)
    out = np.where(full, np.add.reduceat(np.where(counted, x, 0.0), starts) /
                   np.maximum(counts - 1, 1), 0.0)
    partial = ~full & (n_counted > 0)
    if not partial.any():
        return out
    keep = counted & partial[sid]
    k = (np.arange(n) - starts[sid]).astype(np.float64)
    idx = np.flatnonzero(keep)
    kk, xs, ss = k[idx], x[idx], sid[idx]
    log_a = np.where(kk > 1, np.log(np.maximum(kk - 1, 1) / kk), 0.0)
    cum = np.cumsum(log_a)
    total = np.bincount(ss, weights=log_a, minlength=m)
    before = np.zeros(m)
    first_in = np.ones(idx.size, dtype=bool)
    first_in[1:] = ss[1:] != ss[:-1]
    before[ss[first_in]] = cum[first_in] - log_a[first_in]
    # log of prod_{i > j} a_i within the stream = (before + total) - cum_j
    weight = np.exp(before[ss] + total[ss] - cum)
    res = np.bincount(ss, weights=xs / kk * weight, minlength=m)
    return np.where(partial, res, out)


def rtp_stats(cols: RtpColumns, derived: RtpDerived | None = None) -> list[StreamStats]:
    """Statistics of every stream in ``cols``."""
    dv = derived or derive(cols)
    n = cols.arrival_s.size
    starts = cols.starts
    m = starts.size
    if m == 0:
        return []
    sid = stream_ids(starts, n)
    ends = np.append(starts[1:], n) - 1
    counts = np.diff(np.append(starts, n))
    seq = dv.seq_ext
    lost = (seq[ends] - seq[starts] + 1) - counts
    # duplicates: the same extended seq seen before in the stream. Only streams whose
    # sequence is not strictly increasing can have any, so only those are sorted.
    dup = np.zeros(n, dtype=bool)
    up = np.ones(n, dtype=bool)
    if n > 1:
        up[1:] = seq[1:] > seq[:-1]
    up[starts] = True
    odd = np.flatnonzero(np.logical_and.reduceat(up, starts) == 0) if n else starts[:0]
    if odd.size:
        rows = np.concatenate([np.arange(starts[i], ends[i] + 1) for i in odd])
        key = sid[rows] * (1 << 40) + (seq[rows] - seq[rows].min())
        order = np.argsort(key, kind="stable")
        sk = key[order]
        dup_sorted = np.zeros(rows.size, dtype=bool)
        dup_sorted[1:] = sk[1:] == sk[:-1]
        dup[rows[order]] = dup_sorted
    # reordered (late): below the highest seq seen before it, not a duplicate
    mono = seq + sid * (1 << 42)
    prev_max = np.empty(n, dtype=np.int64)
    if n:
        prev_max[0] = np.iinfo(np.int64).min
        prev_max[1:] = np.maximum.accumulate(mono)[:-1]
    first = first_mask(starts, n)
    late = ~first & (mono < prev_max) & ~dup
    seq_err = ~first & (mono != prev_max + 1)
    t = cols.arrival_s
    delta = np.zeros(n)
    if n > 1:
        delta[1:] = (t[1:] - t[:-1]) * 1000.0
    reg = dv.regular
    jit = dv.jitter_ms
    jreg = reg & ~np.isnan(jit) & (cols.clock_hz > 0)
    wrong_ts = cols.marker & ~first & (dv.ts_ext <= np.append([0], dv.ts_ext[:-1]))
    problems = segment_reduce(seq_err | wrong_ts, None, starts, "max")
    out = dict(
        duplicates=segment_reduce(dup, None, starts, "sum"),
        late=segment_reduce(late, None, starts, "sum"),
        seq_err=segment_reduce(seq_err, None, starts, "sum"),
        min_d=segment_reduce(delta, reg, starts, "min", empty=-1.0),
        mean_d=tshark_running_mean(delta, reg, sid, starts, m),
        max_d=segment_reduce(delta, reg, starts, "max"),
        min_j=segment_reduce(jit, jreg, starts, "min", empty=-1.0),
        mean_j=tshark_running_mean(jit, jreg, sid, starts, m),
        max_j=segment_reduce(jit, jreg, starts, "max"),
        nbytes=segment_reduce(cols.size_bytes, None, starts, "sum"),
        has_clock=segment_reduce(cols.clock_hz > 0, None, starts, "max"),
    )
    res = []
    for i in range(m):
        a, b = int(starts[i]), int(ends[i])
        dur = float(t[b] - t[a])
        clk = bool(out["has_clock"][i])
        res.append(StreamStats(
            packets=int(counts[i]), lost=int(lost[i]), duplicates=int(out["duplicates"][i]),
            reordered=int(out["late"][i]), sequence_errors=int(out["seq_err"][i]),
            min_delta_ms=float(out["min_d"][i]), mean_delta_ms=float(out["mean_d"][i]),
            max_delta_ms=float(out["max_d"][i]),
            min_jitter_ms=float(out["min_j"][i]) if clk else None,
            mean_jitter_ms=float(out["mean_j"][i]) if clk else None,
            max_jitter_ms=float(out["max_j"][i]) if clk else None,
            start_s=float(t[a]), end_s=float(t[b]), bytes=int(out["nbytes"][i]),
            bitrate_bps=float(out["nbytes"][i] * 8 / dur) if dur > 0 else 0.0,
            packets_per_s=float((counts[i] - 1) / dur) if dur > 0 else 0.0,
            problems=bool(problems[i])))
    return res


def timing_stats(arrival_s: np.ndarray, size_bytes: np.ndarray) -> StreamStats:
    """Timing-only statistics for a stream without RTP headers (opaque media, STUN...)."""
    n = arrival_s.size
    delta = np.diff(arrival_s) * 1000.0 if n > 1 else np.zeros(0)
    dur = float(arrival_s[-1] - arrival_s[0]) if n else 0.0
    nbytes = int(size_bytes.sum())
    return StreamStats(
        packets=int(n), lost=None, duplicates=None, reordered=None, sequence_errors=None,
        min_delta_ms=float(delta.min()) if delta.size else 0.0,
        mean_delta_ms=float(delta.mean()) if delta.size else 0.0,
        max_delta_ms=float(delta.max()) if delta.size else 0.0,
        min_jitter_ms=None, mean_jitter_ms=None, max_jitter_ms=None,
        start_s=float(arrival_s[0]) if n else 0.0, end_s=float(arrival_s[-1]) if n else 0.0,
        bytes=nbytes, bitrate_bps=nbytes * 8 / dur if dur > 0 else 0.0,
        packets_per_s=(n - 1) / dur if dur > 0 else 0.0, problems=False)


#: Streams are analysed in batches of about this many packets, to bound temporary memory.
STATS_BATCH_PACKETS = 1 << 16


@timed("stats")
def rtp_stats_batched(arrival: np.ndarray, seq16: np.ndarray, ts32: np.ndarray,
                      marker: np.ndarray, pt: np.ndarray, clock: np.ndarray, size: np.ndarray,
                      starts: np.ndarray, *, compiled: bool = True
                      ) -> tuple[np.ndarray, np.ndarray, list[StreamStats]]:
    """TShark-style statistics of every stream: in one compiled pass per stream where the
    extension was built (``compiled``), else with numpy a batch of whole streams at a time
    (the reference: both give the same figures, the running values to rounding)."""
    walk = _records._compiled
    if compiled and walk is not None and hasattr(walk, "rtp_stats"):
        return _rtp_stats_compiled(walk, arrival, seq16, ts32, marker, pt, clock, size,
                                   starts)
    n = arrival.size
    seq_ext = np.empty(n, dtype=np.int32)
    ts_ext = np.empty(n, dtype=np.int64)
    stats: list[StreamStats] = []
    ends = np.append(starts[1:], n)
    k = 0
    while k < starts.size:
        a = int(starts[k])
        # take whole streams until the batch is full (at least one stream)
        k_end = int(np.searchsorted(ends, a + STATS_BATCH_PACKETS, side="right"))
        k_end = max(k_end, k + 1)
        b = int(ends[k_end - 1])
        cols = RtpColumns(arrival_s=arrival[a:b], seq16=seq16[a:b], ts32=ts32[a:b],
                          marker=marker[a:b], payload_type=pt[a:b], clock_hz=clock[a:b],
                          size_bytes=size[a:b], starts=starts[k:k_end] - a)
        dv = derive(cols)
        stats.extend(rtp_stats(cols, dv))
        seq_ext[a:b] = dv.seq_ext
        ts_ext[a:b] = dv.ts_ext
        k = k_end
    return seq_ext, ts_ext, stats


def _rtp_stats_compiled(walk: ModuleType, arrival: np.ndarray, seq16: np.ndarray,
                        ts32: np.ndarray, marker: np.ndarray, pt: np.ndarray,
                        clock: np.ndarray, size: np.ndarray, starts: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, list[StreamStats]]:
    n, m = arrival.size, starts.size
    seq_ext = np.empty(n, dtype=np.int32)
    ts_ext = np.empty(n, dtype=np.int64)
    if m == 0:
        return seq_ext, ts_ext, []
    out: tuple[np.ndarray, ...] = (
        *(np.empty(m, np.int64) for _ in range(4)),  # lost, duplicates, late, seq. errors
        *(np.empty(m, np.float64) for _ in range(6)),  # delta and jitter min, mean, max
        np.empty(m, np.int64), np.empty(m, np.uint8), np.empty(m, np.uint8))
    c = np.ascontiguousarray
    walk.rtp_stats(c(arrival, dtype=np.float64), c(seq16, dtype=np.uint16),
                   c(ts32, dtype=np.uint32), c(marker, dtype=np.uint8),
                   c(pt, dtype=np.int16), c(clock, dtype=np.int32), c(size, dtype=np.int32),
                   c(starts, dtype=np.int64), seq_ext, ts_ext, out)
    lost, dup, late, err, min_d, mean_d, max_d, min_j, mean_j, max_j, nbytes, clk, prob = \
        (a.tolist() for a in out)
    ends = np.append(starts[1:], n) - 1
    t_first, t_last = arrival[starts].tolist(), arrival[ends].tolist()
    counts = (ends - starts + 1).tolist()
    stats = []
    for i in range(m):
        dur = t_last[i] - t_first[i]
        has = bool(clk[i])
        stats.append(StreamStats(
            packets=counts[i], lost=lost[i], duplicates=dup[i], reordered=late[i],
            sequence_errors=err[i], min_delta_ms=min_d[i], mean_delta_ms=mean_d[i],
            max_delta_ms=max_d[i], min_jitter_ms=min_j[i] if has else None,
            mean_jitter_ms=mean_j[i] if has else None,
            max_jitter_ms=max_j[i] if has else None, start_s=t_first[i], end_s=t_last[i],
            bytes=nbytes[i], bitrate_bps=nbytes[i] * 8 / dur if dur > 0 else 0.0,
            packets_per_s=(counts[i] - 1) / dur if dur > 0 else 0.0, problems=bool(prob[i])))
    return seq_ext, ts_ext, stats
