"""The typed estimate of each detector: one frozen dataclass per detector, read by attribute.

Each ``to_dict`` writes the keys of the ``analyzer.analysis/1`` schema, in its order: the
fields in declaration order, those with ``LAST`` metadata at the end, and none that
:meth:`~analyzer.detectors.result.Estimate.omitted` names (``OMIT_IF_NONE`` fields that
are ``None``, and a few left out on a condition said on the class).

The engine places a finding at the stream's one onset: :func:`at_onset` sets ``onset_s``,
``after_packets``, ``after_bytes`` and ``after_call_s`` on the estimate of the detection
the finding came from (:class:`StreamEstimate` or :class:`CutoffEstimate`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from analyzer.detectors.result import LAST, OMIT_IF_NONE, Estimate

if TYPE_CHECKING:
    from analyzer.detectors.stats import WeheComparison

__all__ = ["BlockedEstimate", "BurstEstimate", "CutoffEstimate", "Estimate", "JitterEstimate",
           "LossEstimate", "MetallicEstimate", "OnsetEstimate", "PeriodicEstimate",
           "RateCapEstimate", "SetupTarget", "ShiftEstimate", "SignalChange",
           "StreamEstimate", "at_onset"]


def _optional() -> Any:
    return field(default=None, metadata=OMIT_IF_NONE)


def _last() -> Any:
    return field(default=None, metadata=LAST)


@dataclass(frozen=True, kw_only=True)
class StreamEstimate(Estimate):
    """The estimate of a per-stream finding: the stream's onset, set by the engine on a
    finding (left out of the JSON until then)."""

    onset_s: float | None = _last()
    after_packets: int | None = _last()
    after_bytes: int | None = _last()
    after_call_s: float | None = _last()

    def start_s(self) -> float | None:
        """Where the estimate places the start of what was found."""
        return self.onset_s


@dataclass(frozen=True, kw_only=True)
class LossEstimate(StreamEstimate):
    """Loss above the baseline: ``tail_loss_fraction`` from ``from_s`` on."""

    effect_unit: str
    confidence_level: float
    loss_fraction: float
    lost: int
    expected: int
    from_s: float
    tail_loss_fraction: float
    null_rate: float
    reference_loss_fraction: float | None
    dispersion: float
    candidates: int
    runs: int
    run_length_min: int
    run_length_p90: int
    run_length_max: int
    source: str

    def start_s(self) -> float | None:
        return self.onset_s if self.onset_s is not None else self.from_s


@dataclass(frozen=True, kw_only=True)
class BurstEstimate(StreamEstimate):
    """Loss runs longer than independent loss gives (Gilbert against Bernoulli)."""

    effect_unit: str
    confidence_level: float
    statistic: float
    pvalue: float
    p_loss: float
    p_loss_after_received: float
    p_loss_after_lost: float
    mean_run: float
    bernoulli_mean_run: float
    ratio_to_bernoulli: float
    runs: int
    max_run: int
    #: Runs by length in packets, ``"1"``..``"9"`` and ``"10+"``.
    run_histogram: Mapping[str, int]


@dataclass(frozen=True, kw_only=True)
class PeriodicEstimate(StreamEstimate):
    """Drops recurring every ``period_s`` for ``drop_s``."""

    effect_unit: str
    confidence_level: float
    period_s: float
    harmonics: int
    permutation_pvalue: float | None
    rayleigh_z: float
    runs: int
    drop_s: float
    share_of_period: float
    loss_in_window: float
    concentration: float
    cycles: int
    phase_s: float | None
    first_drop_s: float

    def start_s(self) -> float | None:
        return self.onset_s if self.onset_s is not None else self.first_drop_s


@dataclass(frozen=True, kw_only=True)
class RateCapEstimate(StreamEstimate):
    """A delivered rate flattened at ``rate_bps`` (IP layer) from ``since_s``; ``mode``
    policing, shaping or undetermined. Without a delay measure (``mode`` undetermined)
    the JSON has no ``queue_delay_p95_s``, ``queue_delay_pvalue``,
    ``queue_delay_threshold_s``; ``mode_note`` says why when it can."""

    effect_unit: str
    confidence_level: float
    rate_bps: float
    rate_p90_bps: float
    offered_bps: float
    rate_before_bps: float | None
    cap_fraction_of_offered: float | None
    loss_fraction: float
    windows: int
    since_s: float
    loss_run_p90_s: float
    mode: str
    queue_delay_s: float | None = None
    mode_note: str | None = _optional()
    queue_delay_p95_s: float | None = None
    queue_delay_pvalue: float | None = None
    queue_delay_threshold_s: float | None = None

    def omitted(self) -> set[str]:
        out = super().omitted()
        if self.mode == "undetermined":
            out |= {"queue_delay_p95_s", "queue_delay_pvalue", "queue_delay_threshold_s"}
        return out

    def start_s(self) -> float | None:
        return self.onset_s if self.onset_s is not None else self.since_s


@dataclass(frozen=True, kw_only=True)
class JitterEstimate(StreamEstimate):
    """Delay variation beyond the baseline; ``queueing`` ``None`` when the delay is not
    measurable (then the JSON has no ``delay_rise_pvalue``)."""

    effect_unit: str
    confidence_level: float
    pvalue_basis: str
    jitter_s: float
    reference_jitter_s: float
    ratio: float
    mann_whitney_pvalue: float
    wehe: WeheComparison
    windows: int
    queueing: bool | None = None
    delay_rise_s: float | None = None
    delay_rise_pvalue: float | None = None

    def omitted(self) -> set[str]:
        out = super().omitted()
        if self.queueing is None:
            out.add("delay_rise_pvalue")
        return out


@dataclass(frozen=True, kw_only=True)
class MetallicEstimate(StreamEstimate):
    """Concealment after the jitter buffer: the metallic-sound risk ``level`` (low, medium,
    high)."""

    effect_unit: str
    level: str
    concealed_fraction: float
    audible_events_per_min: float
    audible_events: int
    max_concealment_s: float
    late_discards: int
    buffer: str
    since_s: float | None

    def start_s(self) -> float | None:
        return self.onset_s if self.onset_s is not None else self.since_s


@dataclass(frozen=True, kw_only=True)
class CutoffEstimate(Estimate):
    """One direction stopped at ``at_s`` while the call went on to ``continued_until_s``;
    ``after_*`` count what passed before (the engine recounts them on the flow and adds
    ``after_call_s``)."""

    effect_unit: str
    at_s: float
    onset_s: float
    after_s: float
    after_packets: int
    after_bytes: int
    continued_until_s: float
    missing_packets: int
    basis: str
    after_call_s: float | None = _optional()

    def start_s(self) -> float | None:
        return self.onset_s


@dataclass(frozen=True, kw_only=True)
class SignalChange(Estimate):
    """The change point of one onset signal (loss, jitter, delay, bit rate); a loss change
    also has its first lost slot (``first_effect_s``) and the loss before it
    (``earliest_s``)."""

    onset_s: float
    first_effect_s: float | None = _optional()
    earliest_s: float | None = _optional()
    statistic: float
    pvalue: float
    before: float
    after: float


@dataclass(frozen=True, kw_only=True)
class OnsetEstimate(Estimate):
    """When the stream got worse: ``onset_s`` from ``signal`` (``None``, and only
    ``signals`` and ``level`` in the JSON, when no signal counts). ``after_*`` count what
    passed before the onset; the engine recounts packets and bytes on the flow, keeping
    the stream's count in ``after_stream_packets``."""

    effect_unit: str | None = None
    onset_s: float | None = None
    signal: str | None = None
    first_effect_s: float | None = None
    earliest_s: float | None = None
    before: float | None = None
    after: float | None = None
    after_s: float | None = None
    after_packets: int | None = None
    after_bytes: int | None = None
    confirm_pvalue: float | None = None
    #: Every scanned signal's change, by signal name.
    signals: Mapping[str, SignalChange] = field(default_factory=dict)
    #: The scan p-value a signal must beat to count.
    level: float
    after_stream_packets: int | None = _optional()
    after_call_s: float | None = _optional()

    def items(self) -> Iterator[tuple[str, Any]]:
        if self.onset_s is None:  # the schema's order for a stream without an onset
            return iter((("signals", self.signals), ("onset_s", None), ("level", self.level)))
        return super().items()

    def start_s(self) -> float | None:
        return self.onset_s


@dataclass(frozen=True, kw_only=True)
class SetupTarget(Estimate):
    """One destination of setup requests (STUN, Telegram reflector hellos)."""

    src: str
    sport: int
    dst: str
    dport: int
    kind: str
    requests: int
    answers: int
    first_s: float
    last_s: float
    span_s: float
    interval_s: float | None
    interval_cv: float | None
    icmp_unreachable: int


@dataclass(frozen=True, kw_only=True)
class BlockedEstimate(Estimate):
    """Setup requests per destination and whether two-way media came up (``effect_unit``
    only when some destination went unanswered)."""

    effect_unit: str | None = _optional()
    targets: tuple[SetupTarget, ...]
    media_established: bool
    unanswered_targets: int
    answered_targets: int


@dataclass(frozen=True, kw_only=True)
class ShiftEstimate(Estimate):
    """Distribution shift of a windowed metric against the baseline's (Wehe + rank)."""

    effect_unit: str
    confidence_level: float
    decision: str
    area: float
    mann_whitney_pvalue: float
    median: float
    reference_median: float
    windows: int
    reference_windows: int


def at_onset(e: Estimate, *, onset_s: float, after_packets: int, after_bytes: int,
             after_call_s: float) -> Estimate:
    """``e`` placed at the stream's onset (a finding's estimate)."""
    if not isinstance(e, StreamEstimate | CutoffEstimate):
        raise TypeError(f"{type(e).__name__} is not the estimate of a stream finding")
    return replace(e, onset_s=onset_s, after_packets=after_packets, after_bytes=after_bytes,
                   after_call_s=after_call_s)
