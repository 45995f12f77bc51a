"""Jitter of media without sequence numbers, read from the count of packets in flight.

RTP's jitter metric, the mean ``|D|`` of consecutive packets (RFC 3550), needs the send
order. Media without RTP has only arrival times and an inferred send-slot grid
(:mod:`analyzer.detectors.slots`); once the delay variation nears half the packet time
``c`` packets overtake each other and the send order is lost. Any statistic of
consecutive *arrivals* then levels off (sorted arrivals of a lattice jittered far beyond
its spacing look like a Poisson process: their spacing no longer grows with the jitter).

What keeps the scale is a count. Let ``S(t)`` be the number of grid slots (send times)
up to ``t`` and ``N(t)`` the number of arrivals up to ``t``; ``B(t) = S(t) - N(t)`` is the
number of packets in flight beyond the path's typical delay. It needs no pairing of
packets with slots - only the two sets of times - so reordering does not touch it. With
independent delays of distribution ``F``, each slot ``k`` contributes an independent
indicator to ``B(t)``, so

    Var(B(t) | phase of t) = sum_k F_k (1 - F_k),   averaged over the phase:
    E_t Var(B(t) | phase) = (1/c) * integral F(x) (1 - F(x)) dx = E|X - X'| / (2c),

``X, X'`` two independent delays. ``E|X - X'|`` is exactly the mean ``|D|`` that RTP
timestamps show for independent delays, in every regime (a few ms on a quiet path, or
delays of several packet times). The conditional variance is read by folding ``B`` on
the packet time: within a window of ``P`` periods, ``m(phi)`` is the mean of ``B`` at
phase ``phi`` over the periods, and

    J = 2c * mean over phi of [ sum_p (B_p(phi) - m(phi))^2 / (P - 1) ]
      = 2 * sum_p integral (B_p - m)^2 dphi / (P - 1).

Folding removes the periodic part of ``B`` (a constant offset of the path's delay
against the grid's phase, which makes ``B`` 1 for part of every period without any
jitter). Everything is computed exactly from the event times (``B`` is piecewise
constant), with no sampling.

Periods without a speech slot and without an arrival (silence, a lost slot) are left out;
comfort-noise packets, sent off the speech grid, are left out together with their slot
(both or neither: ``B`` stays balanced). A delay that drifts slowly within a window (a
queue filling) also spreads ``B``: the statistic reads it as jitter, as queueing delay is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class InflightJitter:
    """Per window and per packet: the in-flight dispersion ``J`` in seconds (the mean
    ``|D|`` RTP timestamps would show for independent delays)."""

    window_s: np.ndarray  # per window (NaN: fewer than 2 active periods)
    packet_s: np.ndarray  # per packet: the value of the period it arrived in (NaN: none)
    periods: np.ndarray  # active periods per window


def _square_integrals(group: np.ndarray, base: np.ndarray, phase: np.ndarray,
                      weight: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Per group ``g``: the integral over ``[0, length_g)`` of ``(base_g + sum of the
    weights of g's events with phase <= phi)^2 d phi``."""
    n = base.size
    total = base.astype(np.float64) ** 2 * length
    if group.size == 0:
        return total
    order = np.lexsort((phase, group))
    g, ph, w = group[order], phase[order], weight[order].astype(np.float64)
    first = np.r_[True, g[1:] != g[:-1]]
    last = np.r_[g[1:] != g[:-1], True]
    cs = np.cumsum(w)
    starts = np.flatnonzero(first)
    before = np.repeat(cs[starts] - w[starts], np.diff(np.r_[starts, g.size]))
    value = base[g] + (cs - before)
    end = np.where(last, length[g], np.r_[ph[1:], 0.0])
    total += np.bincount(g, weights=value ** 2 * (end - ph), minlength=n)
    # the stretch before a group's first event carries its base, not the whole length
    total[g[first]] -= base[g[first]] ** 2 * (length[g[first]] - ph[first])
    return total


def inflight_jitter(arrival_s: np.ndarray, sender_s: np.ndarray,
                    segments: Sequence[tuple[float, float]], *, origin_s: float,
                    window_s: float, n_windows: int,
                    exclude: np.ndarray | None = None) -> InflightJitter:
    """The in-flight dispersion ``J`` per window and per packet (see the module docstring).

    ``arrival_s`` / ``sender_s``: per packet, its arrival and its grid send time
    (:class:`~analyzer.detectors.slots.Slots`); ``segments``: ``(first arrival, packet
    time)`` of each packet-time segment; windows ``[origin_s + i window_s, ...)``, ``i <
    n_windows``; ``exclude``: packets left out with their slot (duplicates, comfort
    noise).
    """
    t = np.asarray(arrival_s, dtype=np.float64)
    g = np.asarray(sender_s, dtype=np.float64)
    keep = np.isfinite(t) & np.isfinite(g)
    if exclude is not None:
        keep &= ~np.asarray(exclude, dtype=bool)
    nan_w = np.full(n_windows, np.nan)
    nan_p = np.full(t.size, np.nan)
    empty = InflightJitter(nan_w, nan_p, np.zeros(n_windows, dtype=np.int64))
    segs = [(float(s), float(c)) for s, c in segments if np.isfinite(c) and c > 0]
    if np.count_nonzero(keep) < 2 or not segs:
        return empty
    idx = np.flatnonzero(keep)
    tk, gk = t[idx], g[idx]
    seg_start = np.asarray([s for s, _ in segs])
    seg_of = np.clip(np.searchsorted(seg_start, tk, side="right") - 1, 0, len(segs) - 1)

    # the periods: per segment a lattice of its packet time with its slots mid-period
    lo = [float(gk[seg_of == s].min()) - c / 2 if (seg_of == s).any() else np.nan
          for s, (_, c) in enumerate(segs)]
    horizon = float(max(tk.max(), gk.max()))
    starts, lengths, seg_ids = [], [], []
    for s, (_, c) in enumerate(segs):
        if not np.isfinite(lo[s]):
            continue
        nxt = [v for v in lo[s + 1:] if np.isfinite(v)]
        if nxt:
            count = int(np.floor((nxt[0] - lo[s]) / c + 1e-9))
        else:
            count = int(np.floor((horizon - lo[s]) / c)) + 1
        if count <= 0:
            continue
        starts.append(lo[s] + c * np.arange(count))
        lengths.append(np.full(count, c))
        seg_ids.append(np.full(count, s, dtype=np.int64))
    if not starts:
        return empty
    tau = np.concatenate(starts)
    ell = np.concatenate(lengths)
    pseg = np.concatenate(seg_ids)
    if np.any(np.diff(tau) <= 0):  # segments out of order: keep the first lattice's runs
        ok = np.r_[True, np.diff(tau) > 0]
        tau, ell, pseg = tau[ok], ell[ok], pseg[ok]

    ts, gs = np.sort(tk), np.sort(gk)
    base = (np.searchsorted(gs, tau, side="left") -
            np.searchsorted(ts, tau, side="left")).astype(np.float64)
    # events: slots +1, arrivals -1, each in the period holding it (if a full one does)
    ev_t = np.concatenate((gk, tk))
    ev_w = np.concatenate((np.ones(gk.size), -np.ones(tk.size)))
    q = np.searchsorted(tau, ev_t, side="right") - 1
    inside = (q >= 0)
    inside[inside] &= ev_t[inside] < tau[q[inside]] + ell[q[inside]]
    q, ph, w = q[inside], ev_t[inside] - tau[q[inside]], ev_w[inside]
    active = np.bincount(q, minlength=tau.size) > 0
    per_period = _square_integrals(q, base, ph, w, ell)

    # fold groups: the active periods of one segment within one window
    win = np.clip(np.floor((tau - origin_s) / window_s).astype(np.int64), 0, n_windows - 1)
    key = win * len(segs) + pseg
    ukey, grp = np.unique(key[active], return_inverse=True)
    if ukey.size == 0:
        return empty
    pgrp = np.full(tau.size, -1, dtype=np.int64)
    pgrp[active] = grp
    n_per = np.bincount(grp, minlength=ukey.size)
    g_base = np.bincount(grp, weights=base[active], minlength=ukey.size)
    g_len = np.zeros(ukey.size)
    g_len[grp] = ell[active]
    eg = pgrp[q]
    fold = _square_integrals(eg, g_base, ph, w, g_len)
    v = np.bincount(grp, weights=per_period[active], minlength=ukey.size) - fold / n_per
    dof = n_per - 1
    gwin = ukey // len(segs)
    num = np.bincount(gwin, weights=np.where(dof > 0, v, 0.0), minlength=n_windows)
    den = np.bincount(gwin, weights=np.maximum(dof, 0), minlength=n_windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_window = np.where(den > 0, 2.0 * num / den, np.nan)
        # per period: its share of the fold variance (they add up to the group's), scaled
        # like the window value, for locating a change within a window
        share = per_period - fold[np.maximum(pgrp, 0)] / np.maximum(n_per, 1)[
            np.maximum(pgrp, 0)] ** 2
        scale = np.where(dof > 0, 2.0 * n_per / np.maximum(dof, 1), np.nan)
        period_value = np.where(active, share * scale[np.maximum(pgrp, 0)], np.nan)
    periods = np.bincount(gwin, weights=n_per, minlength=n_windows).astype(np.int64)
    # per packet: the period its arrival falls in
    pk = np.searchsorted(tau, tk, side="right") - 1
    okp = (pk >= 0) & (tk < tau[np.maximum(pk, 0)] + ell[np.maximum(pk, 0)])
    packet = nan_p.copy()
    packet[idx[okp]] = period_value[pk[okp]]
    return InflightJitter(per_window, packet, periods)
