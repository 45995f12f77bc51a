"""Impairments of a call: what a network (or a censor) does to one direction's packets.

Two families, all frozen dataclasses with explicit parameters; times are seconds since the
call's time origin, sizes are IP-layer bytes (UDP payload + 28 for IPv4).

*Path* impairments act on the packets of one direction as they pass a point of the path,
in order; each has ``apply(state, rng) -> (state, effect)``. Lossy ones:
:class:`Bernoulli`, :class:`GilbertElliott`, :class:`TokenBucketPolicer`, :class:`Shaper`,
:class:`Cutoff`, :class:`PeriodicDrop`; delaying: :class:`AddedJitter`, :class:`Shaper`;
benign: :class:`HandoverGap`. Most accept ``start_s`` / ``end_s``: only packets reaching
the stage inside ``[start_s, end_s)`` are affected.

*Source* impairments change what the sender sends and are read by the call generator:
:class:`Dtx` and :class:`CodecChange` (benign), :class:`BlockedSetup` (no media at all).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

import numpy as np

from analyzer.errors import UsageError
from analyzer.protocol import NS_PER_S


@dataclass(frozen=True, eq=False)
class PathState:
    """The packets of one direction, in sender order, as they reach a stage of the path."""

    time_ns: np.ndarray  #: int64, when each packet reaches this stage (ns since the origin)
    wire_bytes: np.ndarray  #: int64, IP-layer size
    delivered: np.ndarray  #: bool, not dropped so far


@dataclass(frozen=True)
class ImpairmentEffect:
    """What one impairment did to one direction (part of the ground truth)."""

    label: str
    benign: bool
    params: dict[str, Any]
    onset_s: float | None
    dropped_packets: int = 0
    first_drop_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "benign": self.benign,
            "params": _jsonable(self.params),
            "onset_s": self.onset_s,
            "dropped_packets": self.dropped_packets,
            "first_drop_s": self.first_drop_s,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def _check(ok: bool, owner: object, name: str, why: str) -> None:
    if not ok:
        value = getattr(owner, name)
        raise UsageError(f"{type(owner).__name__}.{name}: {why} (got {value!r})")


def _ns(seconds: float) -> int:
    return round(seconds * NS_PER_S)


class Impairment:
    """Base of every impairment: a ``label`` for the truth and whether it is ``benign``."""

    label: ClassVar[str] = "impairment"
    benign: ClassVar[bool] = False

    def params(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    def effect(self, onset_s: float | None) -> ImpairmentEffect:
        onset = None if onset_s is None else float(onset_s)
        return ImpairmentEffect(self.label, self.benign, self.params(), onset)


class PathImpairment(Impairment):
    """An impairment that drops or delays packets of one direction."""

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        raise NotImplementedError

    def _active(self, state: PathState) -> np.ndarray:
        start_s = getattr(self, "start_s", 0.0)
        end_s = getattr(self, "end_s", None)
        mask = state.delivered & (state.time_ns >= _ns(start_s))
        if end_s is not None:
            mask &= state.time_ns < _ns(end_s)
        return mask

    def _result(self, state: PathState, drop: np.ndarray, onset_s: float | None,
                time_ns: np.ndarray | None = None) -> tuple[PathState, ImpairmentEffect]:
        drop = drop & state.delivered
        dropped = int(drop.sum())
        first = float(state.time_ns[drop].min()) / NS_PER_S if dropped else None
        new = PathState(state.time_ns if time_ns is None else time_ns, state.wire_bytes,
                        state.delivered & ~drop)
        return new, replace(self.effect(onset_s), dropped_packets=dropped, first_drop_s=first)


def _time_order(state: PathState, mask: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(mask)
    return idx[np.argsort(state.time_ns[idx], kind="stable")]


@dataclass(frozen=True)
class Bernoulli(PathImpairment):
    """Each packet is lost independently with probability ``p``."""

    p: float
    start_s: float = 0.0
    end_s: float | None = None
    label: ClassVar[str] = "bernoulli"

    def __post_init__(self) -> None:
        _check(0.0 <= self.p <= 1.0, self, "p", "must lie in [0, 1]")

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        lose = rng.random(state.time_ns.size) < self.p
        return self._result(state, lose & self._active(state), self.start_s)


@dataclass(frozen=True)
class GilbertElliott(PathImpairment):
    """Two-state Markov loss: good -> bad with ``p_gb``, bad -> good with ``p_bg`` per packet.

    Starts in the good state. Mean loss = loss_in_bad * p_gb / (p_gb + p_bg) (+ good-state
    loss); mean bad-state run 1 / p_bg packets.
    """

    p_gb: float
    p_bg: float
    loss_in_bad: float = 1.0
    loss_in_good: float = 0.0
    start_s: float = 0.0
    end_s: float | None = None
    label: ClassVar[str] = "gilbert_elliott"

    def __post_init__(self) -> None:
        for name in ("p_gb", "loss_in_bad", "loss_in_good"):
            _check(0.0 <= getattr(self, name) <= 1.0, self, name, "must lie in [0, 1]")
        _check(0.0 < self.p_bg <= 1.0, self, "p_bg", "must lie in (0, 1]")

    def bad_states(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """The state (True = bad) of ``m`` consecutive packets."""
        if m == 0 or self.p_gb == 0.0:
            return np.zeros(m, dtype=bool)
        cycle = 1.0 / self.p_gb + 1.0 / self.p_bg
        runs: list[np.ndarray] = []
        covered = 0
        while covered < m:
            k = int((m - covered) / cycle) + 16
            pair = np.empty(2 * k, dtype=np.int64)
            pair[0::2] = rng.geometric(self.p_gb, k)
            pair[1::2] = rng.geometric(self.p_bg, k)
            runs.append(pair)
            covered += int(pair.sum())
        lengths = np.concatenate(runs)
        return np.repeat(np.tile(np.array([False, True]), lengths.size // 2), lengths)[:m]

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        order = _time_order(state, self._active(state))
        bad = self.bad_states(order.size, rng)
        p = np.where(bad, self.loss_in_bad, self.loss_in_good)
        drop = np.zeros(state.time_ns.size, dtype=bool)
        drop[order] = rng.random(order.size) < p
        return self._result(state, drop, self.start_s)


@dataclass(frozen=True)
class AddedJitter(PathImpairment):
    """Queueing-like extra delay: exponential with standard deviation ``std_ms`` per packet.

    With ``reorder`` packets are delayed independently (later ones may overtake); without,
    the stage stays first-in first-out (each packet also waits for the one before).
    """

    std_ms: float
    reorder: bool = True
    start_s: float = 0.0
    end_s: float | None = None
    label: ClassVar[str] = "added_jitter"

    def __post_init__(self) -> None:
        _check(self.std_ms >= 0.0, self, "std_ms", "must be non-negative")

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        extra = np.rint(rng.exponential(self.std_ms * 1e6, state.time_ns.size)).astype(np.int64)
        time_ns = state.time_ns + np.where(self._active(state), extra, 0)
        if not self.reorder:
            order = _time_order(state, state.delivered)
            time_ns[order] = np.maximum.accumulate(time_ns[order])
        return self._result(state, np.zeros_like(state.delivered), self.start_s, time_ns)


@dataclass(frozen=True)
class TokenBucketPolicer(PathImpairment):
    """Drops packets that find fewer than their size in tokens; never delays.

    Tokens (bytes) accrue at ``rate_bps / 8`` per second up to ``bucket_bytes``; the bucket
    starts full at ``start_s``.
    """

    rate_bps: float
    bucket_bytes: int
    start_s: float = 0.0
    end_s: float | None = None
    label: ClassVar[str] = "token_bucket_policer"

    def __post_init__(self) -> None:
        _check(self.rate_bps > 0, self, "rate_bps", "must be positive")
        _check(self.bucket_bytes > 0, self, "bucket_bytes", "must be positive")

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        order = _time_order(state, self._active(state))
        bytes_per_ns = self.rate_bps / 8 / NS_PER_S
        bucket = float(self.bucket_bytes)
        tokens, last = bucket, None
        drop_order = np.zeros(order.size, dtype=bool)
        times = state.time_ns[order].tolist()
        sizes = state.wire_bytes[order].tolist()
        for k, (t, size) in enumerate(zip(times, sizes, strict=True)):
            if last is not None:
                tokens = min(bucket, tokens + (t - last) * bytes_per_ns)
            last = t
            if size <= tokens:
                tokens -= size
            else:
                drop_order[k] = True
        drop = np.zeros(state.time_ns.size, dtype=bool)
        drop[order] = drop_order
        return self._result(state, drop, self.start_s)


@dataclass(frozen=True)
class Shaper(PathImpairment):
    """A FIFO link of ``rate_bps`` with a ``queue_bytes`` buffer: delay grows, then tail drop.

    A packet leaves when its last bit is sent; it is dropped when the bytes still waiting
    (including the one being sent) plus its own exceed ``queue_bytes``.
    """

    rate_bps: float
    queue_bytes: int
    start_s: float = 0.0
    end_s: float | None = None
    label: ClassVar[str] = "shaper"

    def __post_init__(self) -> None:
        _check(self.rate_bps > 0, self, "rate_bps", "must be positive")
        _check(self.queue_bytes > 0, self, "queue_bytes", "must be positive")

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        order = _time_order(state, self._active(state))
        ns_per_byte = 8 * NS_PER_S / self.rate_bps
        busy_until = -math.inf
        out = state.time_ns.astype(np.float64)
        out_order = np.empty(order.size, dtype=np.float64)
        drop_order = np.zeros(order.size, dtype=bool)
        times = state.time_ns[order].tolist()
        sizes = state.wire_bytes[order].tolist()
        for k, (t, size) in enumerate(zip(times, sizes, strict=True)):
            backlog = max(0.0, busy_until - t) / ns_per_byte
            if backlog + size > self.queue_bytes:
                drop_order[k] = True
                out_order[k] = t
            else:
                busy_until = max(float(t), busy_until) + size * ns_per_byte
                out_order[k] = busy_until
        out[order] = out_order
        drop = np.zeros(state.time_ns.size, dtype=bool)
        drop[order] = drop_order
        return self._result(state, drop, self.start_s, np.rint(out).astype(np.int64))


@dataclass(frozen=True)
class Cutoff(PathImpairment):
    """The direction stops delivering for good once a threshold is passed (the other goes on).

    Counting from ``start_s``: after ``after_s`` seconds, after ``after_packets`` packets
    or once the next packet would bring the IP bytes past ``after_bytes`` - whichever comes
    first. At least one threshold is required.
    """

    after_s: float | None = None
    after_packets: int | None = None
    after_bytes: int | None = None
    start_s: float = 0.0
    label: ClassVar[str] = "cutoff"

    def __post_init__(self) -> None:
        if self.after_s is None and self.after_packets is None and self.after_bytes is None:
            raise UsageError("Cutoff: give after_s, after_packets or after_bytes")
        for name in ("after_s", "after_packets", "after_bytes"):
            value = getattr(self, name)
            _check(value is None or value >= 0, self, name, "must be non-negative")

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        order = _time_order(state, self._active(state))
        cut = order.size
        if self.after_s is not None:
            limit = _ns(self.start_s + self.after_s)
            cut = min(cut, int(np.searchsorted(state.time_ns[order], limit, side="left")))
        if self.after_packets is not None:
            cut = min(cut, self.after_packets)
        if self.after_bytes is not None:
            total = np.cumsum(state.wire_bytes[order])
            cut = min(cut, int(np.searchsorted(total, self.after_bytes, side="right")))
        drop = np.zeros(state.time_ns.size, dtype=bool)
        drop[order[cut:]] = True
        candidates = [] if self.after_s is None else [self.start_s + self.after_s]
        if cut < order.size:
            candidates.append(float(state.time_ns[order[cut]]) / NS_PER_S)
        onset = min(candidates) if candidates else None
        return self._result(state, drop, onset)


@dataclass(frozen=True)
class PeriodicDrop(PathImpairment):
    """Drops everything in a ``drop_s`` window every ``period_s`` ("intermittent sound").

    Windows start at ``start_s + phase_s + k * period_s`` for every integer k (only the
    part after ``start_s`` counts).
    """

    period_s: float
    drop_s: float
    phase_s: float = 0.0
    start_s: float = 0.0
    end_s: float | None = None
    label: ClassVar[str] = "periodic_drop"

    def __post_init__(self) -> None:
        _check(self.period_s > 0, self, "period_s", "must be positive")
        _check(0 < self.drop_s <= self.period_s, self, "drop_s", "must lie in (0, period_s]")

    def windows(self, until_s: float) -> list[tuple[float, float]]:
        """The drop windows ``(begin_s, end_s)`` between ``start_s`` and ``until_s``."""
        stop = until_s if self.end_s is None else min(until_s, self.end_s)
        first = math.floor(-self.phase_s / self.period_s)
        out: list[tuple[float, float]] = []
        k = first
        while True:
            a = self.start_s + self.phase_s + k * self.period_s
            if a >= stop:
                return out
            b = min(a + self.drop_s, stop)
            if b > self.start_s:
                out.append((max(a, self.start_s), b))
            k += 1

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        rel = state.time_ns - _ns(self.start_s + self.phase_s)
        in_window = np.mod(rel, _ns(self.period_s)) < _ns(self.drop_s)
        return self._result(state, in_window & self._active(state), self.start_s)


@dataclass(frozen=True)
class HandoverGap(PathImpairment):
    """A network handover: every packet reaching the stage in ``[at_s, at_s + gap_s)`` is lost.

    Benign (a confounder). Give it for both directions. With ``new_source_port`` the
    caller's UDP port changes after the gap (NAT rebinding / new interface).
    """

    at_s: float
    gap_s: float = 1.0
    new_source_port: bool = False
    label: ClassVar[str] = "handover_gap"
    benign: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check(self.at_s >= 0, self, "at_s", "must be non-negative")
        _check(self.gap_s > 0, self, "gap_s", "must be positive")

    def apply(self, state: PathState, rng: np.random.Generator
              ) -> tuple[PathState, ImpairmentEffect]:
        t = state.time_ns
        gap = (t >= _ns(self.at_s)) & (t < _ns(self.at_s + self.gap_s))
        return self._result(state, gap, self.at_s)


@dataclass(frozen=True)
class Dtx(Impairment):
    """Silence suppression: the sender sends no frames inside ``silence_windows``.

    Sequence numbers stay contiguous, RTP timestamps jump; every
    ``comfort_noise_interval_s`` of silence (``None``: never) one comfort-noise packet of
    ``comfort_noise_bytes`` codec bytes is sent. The first frame after a silence has the
    RTP marker bit set. Benign.
    """

    silence_windows: tuple[tuple[float, float], ...]
    comfort_noise_interval_s: float | None = 0.4
    comfort_noise_bytes: int = 10
    label: ClassVar[str] = "dtx"
    benign: ClassVar[bool] = True

    def __post_init__(self) -> None:
        windows = tuple((float(a), float(b)) for a, b in self.silence_windows)
        object.__setattr__(self, "silence_windows", windows)
        ok = all(a < b for a, b in windows) and all(
            windows[i][1] <= windows[i + 1][0] for i in range(len(windows) - 1))
        _check(ok, self, "silence_windows", "must be sorted, non-overlapping (begin, end) pairs")
        _check(self.comfort_noise_interval_s is None or self.comfort_noise_interval_s > 0,
               self, "comfort_noise_interval_s", "must be positive or None")
        _check(self.comfort_noise_bytes >= 1, self, "comfort_noise_bytes", "must be >= 1")


@dataclass(frozen=True)
class CodecChange(Impairment):
    """From ``at_s`` the sender uses ``new_frame_interval_ms`` frames (sizes scale). Benign."""

    at_s: float
    new_frame_interval_ms: int
    label: ClassVar[str] = "codec_change"
    benign: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check(self.at_s >= 0, self, "at_s", "must be non-negative")
        _check(self.new_frame_interval_ms in (10, 20, 40, 60, 80, 100, 120), self,
               "new_frame_interval_ms", "must be one of 10, 20, 40, 60, 80, 100, 120")


@dataclass(frozen=True)
class BlockedSetup(Impairment):
    """The call never connects: no media at all, only unanswered setup requests.

    The caller sends a STUN binding request (Telegram framing: a 40-byte reflector hello)
    every ``request_interval_s``; nothing answers, except ICMP port-unreachable messages
    when ``icmp_unreachable`` is set. Applies to the whole call.
    """

    request_interval_s: float = 0.5
    icmp_unreachable: bool = False
    label: ClassVar[str] = "blocked_setup"

    def __post_init__(self) -> None:
        _check(self.request_interval_s > 0, self, "request_interval_s", "must be positive")
