"""Sequence numbers for media that has none: send slots inferred from arrival times.

Telegram's reflector traffic and other opaque encrypted media carry no visible sequence
number, but the sender still emits one frame per frame interval ``c`` (../shared/DOMAIN.md
§5). Each packet is put on the slot grid ``t = a + k c``:

1. the phase ``a`` is the circular mean of ``t mod c`` (robust to jitter well below ``c/2``);
2. packet ``i`` takes slot ``k_i = i + m_i``, ``m_i`` the missing slots before it (never
   decreasing): the isotonic fit of ``(t_i - a) / c - i``, rounded (two packets never
   share a slot; a late packet, or a burst of them, keeps its slot instead of pushing the
   grid, so jitter adds no false loss and the grid does not absorb the delay);
3. missing slots between two packets are *silence*, not loss, when either packet is small
   (comfort noise / DTX frame: at most ``max(CN_MAX_BYTES, small_fraction x median
   size)``), and are closed up - like RTP sequence numbers, which do not advance in
   silence;
4. a change of packet time (codec change, 20 -> 60 ms) starts a new grid: a sustained
   change of the median inter-arrival time *and* of the median packet size in the same
   direction (a policer dropping every other packet doubles the spacing but not the size).

The result is a virtual sequence number per packet (:class:`Slots`), fed to
:func:`analyzer.metrics.losspattern.loss_pattern` like a real one, and a nominal sender
time ``a + k c`` for jitter (not for one-way delay: the grid absorbs any constant delay).
A shaper's queue growing by ``D`` seconds shows as ``D / c`` lost slots: a bias toward
loss that the rate-cap detector does not depend on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.metrics.framing import CN_MAX_BYTES, COMMON_FRAME_INTERVALS_S, snap_interval

#: A packet at most this fraction of the stream's median size marks silence around it.
SMALL_FRACTION = 0.5
#: Bins (s) for the packet-time segmentation, and how many bins a new packet time must hold.
SEGMENT_BIN_S = 2.0
SEGMENT_MIN_BINS = 3
#: A packet-time change must change the median packet size by at least this ratio.
SEGMENT_SIZE_RATIO = 1.3
#: The opening cadence: a run of at least this many consecutive speech steps whose mean
#: (over every ``OPENING_MIN_STEPS`` steps of the run) is within ``OPENING_TOLERANCE`` of
#: one common packet time, among the stream's first ``OPENING_STEPS`` steps.
OPENING_MIN_STEPS = 10
OPENING_STEPS = 60
OPENING_TOLERANCE = 0.1


@dataclass(frozen=True, eq=False)
class Slots:
    """Inferred send slots of one stream (arrays per packet, arrival order)."""

    seq: np.ndarray  # int64 virtual sequence numbers, silence closed up
    sender_s: np.ndarray  # nominal send time a + k c (grid time)
    small: np.ndarray = field(repr=False)  # bool, comfort-noise-sized packets
    silent_slots: int = 0
    segments: tuple[tuple[float, float], ...] = ()  # (start_s, frame_interval_s)
    #: the grid fitted to the speech packets alone (NaN for small ones): a comfort-noise
    #: packet or a relay's keep-alive takes a slot of the main grid and shifts the speech
    #: packets after it by one slot, which jitter read from the grid must not see
    speech_sender_s: np.ndarray | None = field(default=None, repr=False)


def small_packets(size_bytes: np.ndarray) -> np.ndarray:
    """Packets small enough to be comfort noise / DTX frames rather than speech."""
    size = np.asarray(size_bytes, dtype=np.float64)
    if size.size == 0:
        return np.zeros(0, dtype=bool)
    limit = max(float(CN_MAX_BYTES), SMALL_FRACTION * float(np.median(size)))
    return size <= limit


def _segments(t: np.ndarray, size: np.ndarray, small: np.ndarray, c0: float
              ) -> list[tuple[int, float]]:
    """``[(first packet index, frame interval)]``: packet-time segments of the stream."""
    n = t.size
    if n < 20 or t[-1] - t[0] < (SEGMENT_MIN_BINS + 1) * SEGMENT_BIN_S:
        return [(0, c0)]
    b = ((t - t[0]) / SEGMENT_BIN_S).astype(np.int64)
    nb = int(b[-1]) + 1
    d = np.diff(t)
    ok = ~small[1:] & ~small[:-1] & (d > 0.002)
    med_iat = np.full(nb, np.nan)
    med_size = np.full(nb, np.nan)
    for k in range(nb):  # nb is small (one per 2 s)
        sel = ok & (b[1:] == k)
        if np.count_nonzero(sel) >= 5:
            med_iat[k] = snap_interval(float(np.median(d[sel])))
            med_size[k] = float(np.median(size[1:][sel]))
    segs = [(0, c0)]
    cur = c0
    k = 0
    while k < nb:
        v = med_iat[k]
        if np.isfinite(v) and abs(v - cur) > 0.25 * cur:
            run = k
            while run < nb and np.isfinite(med_iat[run]) and abs(med_iat[run] - v) <= 0.25 * v:
                run += 1
            if run - k >= SEGMENT_MIN_BINS:
                # the run's typical value (its first bin may straddle the change)
                v = float(np.median(med_iat[k:run]))
                v = snap_interval(v)
                before = med_size[max(0, k - SEGMENT_MIN_BINS):k]
                after = med_size[k:run]
                sb, sa = np.nanmedian(before) if np.isfinite(before).any() else np.nan, \
                    np.nanmedian(after)
                ratio = sa / sb if np.isfinite(sb) and sb > 0 else np.nan
                if np.isfinite(ratio) and ((v > cur and ratio >= SEGMENT_SIZE_RATIO) or
                                           (v < cur and ratio <= 1 / SEGMENT_SIZE_RATIO)):
                    first = _refine_boundary(d, ok, int(np.searchsorted(b, k - 1)),
                                             int(np.searchsorted(b, k + 1)), cur)
                    segs.append((first, float(v)))
                    cur = float(v)
                    k = run
                    continue
        k += 1
    return segs


def _refine_boundary(d: np.ndarray, ok: np.ndarray, lo: int, hi: int, old: float) -> int:
    """First packet of the new packet time: the one after the last speech step in
    ``[lo, hi)`` that still had the old spacing (within 25 %)."""
    idx = np.arange(lo, min(hi, d.size))
    same = ok[idx] & (np.abs(d[idx] - old) <= 0.25 * old)
    if not same.any():
        return lo + 1
    return int(idx[same][-1]) + 2  # d[j] is the step from packet j to j + 1


def _grid(t: np.ndarray, c: float, small: np.ndarray) -> tuple[np.ndarray, float]:
    """Slot numbers (strictly increasing, from 0) and the phase of the grid.

    Packet ``i`` (arrival order) sits in slot ``i + m_i``, ``m_i`` the slots missing
    before it: a non-decreasing count. ``m`` is the isotonic (least-squares
    non-decreasing) fit of ``x_i - i``, ``x_i = (t_i - a) / c`` the arrival in slot units,
    rounded. A packet delayed past half a slot, or a burst of late ones, is pooled with
    the packets after it and keeps its slot (a running maximum would count a lost slot for
    it and push every later packet a slot on); a loss lifts ``x - i`` for good.
    Small (comfort-noise) packets are sent off the speech grid; they take the slot at or
    before them (``floor``), so that one never pushes the next speech frame a slot later.
    """
    ang = 2 * np.pi * np.mod(t[~small] if (~small).any() else t, c) / c
    phase = float(np.angle(np.mean(np.exp(1j * ang))))
    a = phase / (2 * np.pi) * c
    x = (t - a) / c - np.where(small, 0.5, 0.0)
    i = np.arange(t.size)
    if t.size:
        # imported here: only media without sequence numbers needs it, and scipy's
        # import would cost every other analysis a quarter of a second
        from scipy.optimize import isotonic_regression
        missing = np.rint(isotonic_regression(x - i).x).astype(np.int64)
    else:
        missing = np.zeros(0, dtype=np.int64)
    k = i + missing
    base = int(k[0]) if k.size else 0
    return k - base, a + base * c


def estimate_interval(t: np.ndarray, small: np.ndarray) -> float:
    """Packet interval from arrivals.

    Per 2-s bin, the median inter-arrival time of speech packets (refined over the steps
    within 50 % of it) snapped to a common packet time; the interval is the *smallest*
    common packet time that at least ``SEGMENT_MIN_BINS`` bins and a fifth of them agree
    on (else the whole stream's median). Loss, a policer and a shaper's
    queue only ever stretch the spacing, so the sender's cadence is the shortest regular
    one (a stream shaped for half the call would otherwise read 27 ms instead of 20).

    Jitter of half a packet time or more reorders packets and *shortens* the median
    spacing of the sorted arrivals (40 ms of jitter on 60 ms frames: bins read 40-66 ms),
    while the bin's packet rate - its mean speech step, counting every step - stays the
    sender's. So the bins whose median and mean snap to the same packet time (neither
    loss nor reordering) are asked first; only when they agree on none, every bin.
    """
    if t.size < 3:
        return float("nan")
    ts = np.sort(t)
    d = np.diff(ts)
    ok = ~small[1:] & ~small[:-1] & (d >= 0.002) & (d <= 0.3)
    if np.count_nonzero(ok) < 5:
        ok = (d >= 0.002) & (d <= 0.3)
    if not ok.any():
        return float("nan")

    def robust(x: np.ndarray) -> float:
        m = float(np.median(x))
        near = x[(x > 0.5 * m) & (x < 1.5 * m)]
        return snap_interval(float(np.median(near)) if near.size else m)

    whole = robust(d[ok])
    b = ((ts[1:] - ts[0]) / SEGMENT_BIN_S).astype(np.int64)
    # every step between two speech packets, however short: their mean is the bin's
    # packet rate, which reordering cannot change
    steps = ~small[1:] & ~small[:-1] & (d <= 0.3)
    values, counted = [], []
    for k in np.unique(b[ok]):
        sel = ok & (b == k)
        if np.count_nonzero(sel) >= 5:
            values.append(robust(d[sel]))
            counted.append(snap_interval(float(np.mean(d[steps & (b == k)]))))
    if not values:
        return whole
    common = np.asarray(COMMON_FRAME_INTERVALS_S)
    vals = np.round(np.asarray(values), 6)
    is_common = np.isin(vals, np.round(common, 6))
    need = max(SEGMENT_MIN_BINS, int(0.2 * vals.size))

    def shortest(use: np.ndarray) -> float | None:
        v, counts = np.unique(vals[use & is_common], return_counts=True)
        frequent = v[counts >= need]
        return float(frequent.min()) if frequent.size else None

    # bins whose median spacing and packet rate agree (no loss, no reordering) first
    agree = vals == np.round(np.asarray(counted), 6)
    best = shortest(agree)
    if best is None:
        best = shortest(np.ones(vals.size, dtype=bool))
    return best if best is not None else whole


def opening_interval(t: np.ndarray, size: np.ndarray, small: np.ndarray,
                     later_s: float) -> float | None:
    """The sender's cadence read from the stream's opening, when the rest of the stream
    is spaced wider (``later_s``) with packets of the same size.

    A shaper whose bucket is full lets the first packets through at the sender's cadence,
    then spaces them by its rate; a policer or a drop window thins them out. Neither
    changes the packet size, while a codec or packet-time change does (20 -> 60 ms frames
    are about three times larger). So: the first ``OPENING_STEPS`` steps must hold a run
    of consecutive speech steps, every ``OPENING_MIN_STEPS`` of them together spanning
    ``OPENING_MIN_STEPS`` times one common packet time shorter than ``later_s`` by more
    than a quarter (within ``OPENING_TOLERANCE``), and the median size of those packets
    must be within ``SEGMENT_SIZE_RATIO`` of the rest's. ``None`` otherwise.

    Spans, not single steps: the clean path's jitter moves each arrival by a few ms, so
    single steps of a 20 ms stream scatter over 10-30 ms, while ten steps span 200 ms
    give or take the jitter of two arrivals (a network cannot deliver faster than the
    sender sends for long, so a run this regular is the sender's cadence).
    """
    n = min(t.size - 1, OPENING_STEPS)
    w = OPENING_MIN_STEPS
    if n < w or not np.isfinite(later_s):
        return None
    d = np.diff(t[: n + 1])
    speech = ~small[1 : n + 1] & ~small[:n]
    # per window of w consecutive steps: all speech, and their total span
    span = np.convolve(d, np.ones(w), mode="valid")
    all_speech = np.convolve(speech.astype(np.int64), np.ones(w, dtype=np.int64),
                             mode="valid") == w
    for c in COMMON_FRAME_INTERVALS_S:
        if c >= 0.75 * later_s:
            break
        near = all_speech & (np.abs(span - w * c) <= OPENING_TOLERANCE * w * c)
        # the longest run of consecutive windows at c, as steps [end - best, end)
        best, run, end = 0, 0, 0
        for k, ok in enumerate(near):
            run = run + 1 if ok else 0
            if run and run + w - 1 > best:
                best, end = run + w - 1, k + w
        if best < w:
            continue
        first = size[end - best : end + 1]
        rest = size[end + 1 :][~small[end + 1 :]]
        if rest.size < OPENING_MIN_STEPS:
            return None
        ratio = float(np.median(rest)) / max(float(np.median(first)), 1.0)
        if 1 / SEGMENT_SIZE_RATIO < ratio < SEGMENT_SIZE_RATIO:
            return float(c)
        return None
    return None


def infer_slots(arrival_s: np.ndarray, size_bytes: np.ndarray, frame_interval_s: float
                ) -> Slots:
    """Virtual sequence numbers and grid send times of a stream without RTP."""
    t = np.asarray(arrival_s, dtype=np.float64)
    size = np.asarray(size_bytes, dtype=np.float64)
    n = t.size
    small = small_packets(size)
    if n == 0 or not np.isfinite(frame_interval_s) or frame_interval_s <= 0:
        return Slots(np.arange(n, dtype=np.int64), t.copy(), small)
    segs = _segments(t, size, small, float(frame_interval_s))
    bounds = [s for s, _ in segs] + [n]
    k_all = np.empty(n, dtype=np.int64)
    sender = np.empty(n)
    speech = np.full(n, np.nan)
    offset = 0
    for j, (start, c) in enumerate(segs):
        stop = bounds[j + 1]
        k, a = _grid(t[start:stop], c, small[start:stop])
        k_all[start:stop] = k + offset
        sender[start:stop] = a + k * c
        offset = int(k_all[stop - 1]) + 1 if stop > start else offset
        sp = start + np.flatnonzero(~small[start:stop])
        if sp.size:
            ks, as_ = _grid(t[sp], c, np.zeros(sp.size, dtype=bool))
            speech[sp] = as_ + ks * c
    # missing slots next to a small packet are silence: close them up
    step = np.diff(k_all)
    silent_gap = (step > 1) & (small[1:] | small[:-1])
    closed = np.concatenate(([0], np.cumsum(np.where(silent_gap, step - 1, 0))))
    seq = k_all - closed
    return Slots(seq, sender, small, int(closed[-1]) if n else 0,
                 tuple((float(t[s]), float(c)) for s, c in segs), speech)
