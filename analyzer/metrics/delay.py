"""Delay metrics: packet delay variation, inter-arrival times, running jitter, and one-way
delay and exact loss from a sender-side and a receiver-side capture of the same stream.

* PDV per RFC 5481 §4.2: ``transit_i = arrival_i - rtp_ts_i / clock`` and
  ``pdv_i = transit_i - min(transit)``; only packets of the first copy count. Sender and
  capture clocks drift apart slowly; the drift (``clock_skew_ppm``, the slope of the lower
  envelope of transit times) is reported, not removed, so PDV keeps the RFC's meaning.
* RFC 3550 A.8 running jitter ``J += (|D| - J) / 16`` per packet, in seconds, for
  windowed series (``analyzer.streams.rtpstats`` holds the TShark-exact aggregate).
* :func:`pair_captures`: packets of one RTP stream (same SSRC) captured at both ends,
  paired by extended sequence number: one-way delay relative to its minimum (always
  meaningful) and raw (only when the two capture clocks are synchronised), and the exact
  loss - sent, never received.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from analyzer.streams.segments import SEQ_MOD, ema_with_resets

#: Quantiles reported by :class:`Distribution`.
QUANTILES = (0.5, 0.95, 0.99)
#: Skew needs this long a stream, split into this many chunks.
SKEW_MIN_SPAN_S = 10.0
SKEW_CHUNKS = 10


@dataclass(frozen=True)
class Distribution:
    """Summary of a sample of durations (seconds); ``None`` fields when it is empty."""

    count: int
    mean_s: float | None
    std_s: float | None
    min_s: float | None
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    max_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def summarize(values: np.ndarray) -> Distribution:
    """Count, mean, standard deviation, min, median, 95th/99th percentile and max."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    if v.size and not (math.isfinite(v[0]) and math.isfinite(v[-1])):
        v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return Distribution(0, None, None, None, None, None, None, None)
    p50, p95, p99 = _quantiles(v, QUANTILES)
    mean = float(v.sum()) / n
    dev = v - mean
    std = math.sqrt(float(np.dot(dev, dev)) / n)
    return Distribution(n, mean, std, float(v[0]), p50, p95, p99, float(v[-1]))


def _quantiles(v: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Linear-interpolation quantiles of a sorted array, in plain Python (few values)."""
    n = v.size
    out = []
    for q in qs:
        pos = q * (n - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        a = float(v[lo])
        out.append(a + (float(v[hi]) - a) * (pos - lo))
    return out


def interarrival(arrival_s: np.ndarray) -> Distribution:
    """Distribution of the times between consecutive arrivals."""
    t = np.asarray(arrival_s, dtype=np.float64)
    return summarize(np.diff(t) if t.size > 1 else np.zeros(0))


@dataclass(frozen=True, eq=False)
class Pdv:
    """Packet delay variation (RFC 5481) of one stream; ``pdv_s`` per first copy."""

    distribution: Distribution
    clock_skew_ppm: float | None
    pdv_s: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {**self.distribution.to_dict(), "clock_skew_ppm": self.clock_skew_ppm}


def sender_time_s(rtp_ts: np.ndarray, clock_rate_hz: float) -> np.ndarray:
    """RTP timestamps as seconds since the stream's first packet's timestamp."""
    ts = np.asarray(rtp_ts, dtype=np.int64)
    return (ts - ts[0]) / float(clock_rate_hz) if ts.size else np.zeros(0)


def pdv(arrival_s: np.ndarray, rtp_ts: np.ndarray, clock_rate_hz: float, *,
        duplicate: np.ndarray | None = None, sender_s: np.ndarray | None = None) -> Pdv:
    """PDV of an RTP stream: transit minus the minimum transit, per first copy
    (``sender_s``: :func:`sender_time_s` of ``rtp_ts``, when already computed)."""
    t = np.asarray(arrival_s, dtype=np.float64)
    transit = t - (sender_time_s(rtp_ts, clock_rate_hz) if sender_s is None else sender_s)
    if duplicate is not None and bool(duplicate.any()):
        t, transit = t[~duplicate], transit[~duplicate]
    if transit.size == 0:
        return Pdv(summarize(transit), None, transit)
    p = transit - transit.min()
    return Pdv(summarize(p), clock_skew_ppm(t, transit), p)


def clock_skew_ppm(arrival_s: np.ndarray, transit_s: np.ndarray) -> float | None:
    """Slope of the lower envelope of transit time against arrival (ppm): a line through
    the minimum transit of each of ``SKEW_CHUNKS`` equal runs of packets (at the run's mean
    arrival); ``None`` for short streams."""
    n = arrival_s.size
    if n < 2 * SKEW_CHUNKS or float(arrival_s[-1] - arrival_s[0]) < SKEW_MIN_SPAN_S:
        return None
    m = n // SKEW_CHUNKS
    mins = transit_s[:m * SKEW_CHUNKS].reshape(SKEW_CHUNKS, m).min(axis=1)
    x = arrival_s[:m * SKEW_CHUNKS].reshape(SKEW_CHUNKS, m).mean(axis=1)
    x = x - x.mean()
    den = float(np.dot(x, x))
    return float(np.dot(x, mins - mins.mean())) / den * 1e6 if den > 0 else None


def rfc3550_jitter_s(arrival_s: np.ndarray, rtp_ts: np.ndarray, clock_rate_hz: float
                     ) -> np.ndarray:
    """Running interarrival jitter after each packet (RFC 3550 A.8, in seconds; 0 at the
    first packet), over consecutive arrivals."""
    t = np.asarray(arrival_s, dtype=np.float64)
    n = t.size
    if n < 2:
        return np.zeros(n)
    s = sender_time_s(rtp_ts, clock_rate_hz)
    d = np.abs((t[1:] - t[:-1]) - (s[1:] - s[:-1]))
    reset = np.zeros(n - 1, dtype=bool)
    reset[0] = True
    return np.concatenate(([0.0], ema_with_resets(d, reset)))


class SeqColumns(Protocol):
    """Anything with per-packet ``arrival_s`` and extended ``seq`` (a ``Series``)."""

    @property
    def arrival_s(self) -> np.ndarray: ...

    @property
    def seq(self) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class PairedDelay:
    """One stream seen at the sender and the receiver, paired by sequence number.

    ``offset_s`` is the minimum of ``receiver arrival - sender capture time``: the capture
    clock offset plus the smallest network delay (they cannot be told apart without
    synchronised clocks). ``delay_s`` (per matched packet, raw) is meaningful as an
    absolute one-way delay only when ``clocks_synchronised``.
    """

    sent: int  # distinct sequence numbers the sender capture holds in the compared span
    received: int  # of those, how many the receiver capture holds
    lost: int  # sent, never received
    unmatched_received: int  # received with no sent packet (outside the sender capture)
    clocks_synchronised: bool
    offset_s: float | None
    delay_relative: Distribution  # delay minus its minimum
    delay_raw: Distribution | None  # only with synchronised clocks
    seq: np.ndarray = field(repr=False)  # matched sequence numbers
    delay_s: np.ndarray = field(repr=False)  # raw delay of each matched packet
    lost_seq: np.ndarray = field(repr=False)

    @property
    def loss_fraction(self) -> float:
        return self.lost / self.sent if self.sent else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent, "received": self.received, "lost": self.lost,
            "loss_fraction": self.loss_fraction, "unmatched_received": self.unmatched_received,
            "clocks_synchronised": self.clocks_synchronised, "offset_s": self.offset_s,
            "delay_relative": self.delay_relative.to_dict(),
            "delay_raw": None if self.delay_raw is None else self.delay_raw.to_dict(),
        }


def _columns(x: Any) -> SeqColumns:
    return x.series if hasattr(x, "series") else x


def pair_captures(sender: Any, receiver: Any, *, clocks_synchronised: bool = False,
                  receiver_start_s: float | None = None,
                  receiver_end_s: float | None = None) -> PairedDelay:
    """Pair a stream's packets captured at the sender with those captured at the receiver.

    ``sender`` / ``receiver`` are ``Stream`` or ``Series`` objects (anything with
    ``arrival_s`` and extended ``seq``) of the same SSRC. The two captures may unwrap
    sequence numbers from different starting points; they are aligned by whole cycles of
    65536. Loss is counted over the sent packets the receiver capture could have seen:
    by default those between the first and the last sequence number both captures hold;
    with ``receiver_start_s`` / ``receiver_end_s`` (the receiver capture's span, its clock)
    those whose expected arrival (send time + the minimum offset) falls inside it - pass
    them to count losses at the very start or a tail cut-off.
    """
    s_cols, r_cols = _columns(sender), _columns(receiver)
    s_t = np.asarray(s_cols.arrival_s, dtype=np.float64)
    s_q = np.asarray(s_cols.seq, dtype=np.int64)
    r_t = np.asarray(r_cols.arrival_s, dtype=np.float64)
    r_q = np.asarray(r_cols.seq, dtype=np.int64)
    empty = np.zeros(0)
    if s_q.size == 0 or r_q.size == 0:
        return PairedDelay(int(np.unique(s_q).size), 0, 0, int(np.unique(r_q).size),
                           clocks_synchronised, None, summarize(empty), None,
                           np.zeros(0, dtype=np.int64), empty, np.zeros(0, dtype=np.int64))
    cycles = round((float(np.median(s_q)) - float(np.median(r_q))) / SEQ_MOD)
    r_q = r_q + cycles * SEQ_MOD
    su, si = np.unique(s_q, return_index=True)
    ru, ri = np.unique(r_q, return_index=True)
    send_t, recv_t = s_t[si], r_t[ri]
    both, s_pos, r_pos = np.intersect1d(su, ru, assume_unique=True, return_indices=True)
    delay = recv_t[r_pos] - send_t[s_pos]
    offset = float(delay.min()) if delay.size else None
    if offset is None:
        in_span = np.ones(su.size, dtype=bool)
    else:
        expected_at = send_t + offset
        in_span = (su >= both[0]) if receiver_start_s is None \
            else expected_at >= receiver_start_s - 1e-9
        in_span &= (su <= both[-1]) if receiver_end_s is None \
            else expected_at <= receiver_end_s + 1e-9
    got = np.zeros(su.size, dtype=bool)
    got[s_pos] = True
    lost_seq = su[in_span & ~got]
    unmatched = int(ru.size - both.size)
    rel = summarize(delay - offset) if offset is not None else summarize(empty)
    raw = summarize(delay) if clocks_synchronised else None
    return PairedDelay(
        sent=int(np.count_nonzero(in_span)), received=int(np.count_nonzero(in_span & got)),
        lost=int(lost_seq.size), unmatched_received=unmatched,
        clocks_synchronised=clocks_synchronised, offset_s=offset, delay_relative=rel,
        delay_raw=raw, seq=both, delay_s=delay, lost_seq=lost_seq)
