"""Named call scenarios with sensible default magnitudes, for the CLI and for lab scripts.

``simulate_to_file("x.pcap", kind="policer", seed=1, rate_bps=24000)`` writes ``x.pcap`` and
``x.pcap.truth.json``. Parameters are either :class:`CallSpec` fields (``duration_s``,
``framing``, ...) or the scenario's own (see :func:`list_scenarios`); string values (from a
command line) are read as JSON when they parse (``"0.1"``, ``"null"``, ``"[[5, 8]]"``) and
kept as strings otherwise. Degradations start at ``onset_s`` (20 s by default) so that a
capture holds a clean "before".
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analyzer.errors import UsageError
from analyzer.simulate.impairments import (
    AddedJitter,
    Bernoulli,
    BlockedSetup,
    CodecChange,
    Cutoff,
    Dtx,
    GilbertElliott,
    HandoverGap,
    Impairment,
    PeriodicDrop,
    Shaper,
    TokenBucketPolicer,
)
from analyzer.simulate.rtpcall import SimulatedCall, simulate_call, write_call
from analyzer.simulate.spec import BOTH, CALLEE_TO_CALLER, CALLER_TO_CALLEE, CallSpec

ImpairmentMap = dict[str, tuple[Impairment, ...]]

#: CallSpec values every scenario starts from (a one-minute WhatsApp-like call).
BASE_SPEC: dict[str, Any] = {"duration_s": 60.0, "framing": "whatsapp"}
DEFAULT_ONSET_S = 20.0


@dataclass(frozen=True)
class Scenario:
    """A named way to impair a call: spec overrides plus a builder of impairments."""

    name: str
    description: str
    build: Callable[..., ImpairmentMap]
    spec_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def parameters(self) -> dict[str, Any]:
        """The scenario's own parameters and their defaults."""
        return {name: p.default for name, p in inspect.signature(self.build).parameters.items()}

    def defaults(self) -> dict[str, Any]:
        """Every default: CallSpec values this scenario uses, then its own parameters."""
        return {**BASE_SPEC, **self.spec_defaults, **self.parameters()}


def _clean() -> ImpairmentMap:
    return {}


def _bernoulli(*, p: float = 0.05, onset_s: float = DEFAULT_ONSET_S,
               direction: str = BOTH) -> ImpairmentMap:
    return {direction: (Bernoulli(p, start_s=onset_s),)}


def _gilbert(*, p_gb: float = 0.02, p_bg: float = 0.25, loss_in_bad: float = 1.0,
             onset_s: float = DEFAULT_ONSET_S, direction: str = BOTH) -> ImpairmentMap:
    return {direction: (GilbertElliott(p_gb, p_bg, loss_in_bad, start_s=onset_s),)}


def _jitter(*, std_ms: float = 30.0, reorder: bool = True, onset_s: float = DEFAULT_ONSET_S,
            direction: str = BOTH) -> ImpairmentMap:
    return {direction: (AddedJitter(std_ms, reorder, start_s=onset_s),)}


def _policer(*, rate_bps: float = 32000.0, bucket_bytes: int = 3000,
             onset_s: float = DEFAULT_ONSET_S, direction: str = BOTH) -> ImpairmentMap:
    return {direction: (TokenBucketPolicer(rate_bps, bucket_bytes, start_s=onset_s),)}


def _shaper(*, rate_bps: float = 40000.0, queue_bytes: int = 6000,
            onset_s: float = DEFAULT_ONSET_S, direction: str = BOTH) -> ImpairmentMap:
    return {direction: (Shaper(rate_bps, queue_bytes, start_s=onset_s),)}


def _cutoff(*, after_s: float | None = None, after_packets: int | None = None,
            after_bytes: int | None = None, onset_s: float = 0.0,
            direction: str = CALLER_TO_CALLEE) -> ImpairmentMap:
    if after_s is None and after_packets is None and after_bytes is None:
        after_s = DEFAULT_ONSET_S
    return {direction: (Cutoff(after_s, after_packets, after_bytes, start_s=onset_s),)}


def _periodic(*, period_s: float = 2.0, drop_s: float = 0.3, phase_s: float = 0.0,
              onset_s: float = DEFAULT_ONSET_S, direction: str = BOTH) -> ImpairmentMap:
    return {direction: (PeriodicDrop(period_s, drop_s, phase_s, start_s=onset_s),)}


def _blocked(*, request_interval_s: float = 0.5, icmp_unreachable: bool = True
             ) -> ImpairmentMap:
    return {BOTH: (BlockedSetup(request_interval_s, icmp_unreachable),)}


def _dtx(*, caller_silence: Sequence[Sequence[float]] = ((8.0, 12.0), (25.0, 29.0),
                                                         (41.0, 47.0)),
         callee_silence: Sequence[Sequence[float]] = ((2.0, 7.0), (15.0, 22.0), (33.0, 39.0),
                                                      (50.0, 55.0)),
         comfort_noise_interval_s: float | None = 0.4) -> ImpairmentMap:
    def windows(w: Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
        return tuple((float(a), float(b)) for a, b in w)

    return {
        CALLER_TO_CALLEE: (Dtx(windows(caller_silence), comfort_noise_interval_s),),
        CALLEE_TO_CALLER: (Dtx(windows(callee_silence), comfort_noise_interval_s),),
    }


def _codec_change(*, at_s: float = 30.0, new_frame_interval_ms: int = 60,
                  direction: str = BOTH) -> ImpairmentMap:
    return {direction: (CodecChange(at_s, new_frame_interval_ms),)}


def _handover(*, at_s: float = 30.0, gap_s: float = 1.0, new_source_port: bool = True
              ) -> ImpairmentMap:
    return {BOTH: (HandoverGap(at_s, gap_s, new_source_port),)}


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("clean", "no impairment: fixed delay and a few ms of jitter", _clean),
    Scenario("bernoulli", "independent random loss from onset_s", _bernoulli),
    Scenario("gilbert", "bursty Gilbert-Elliott loss from onset_s", _gilbert),
    Scenario("jitter", "queueing-like added delay (reorders) from onset_s", _jitter),
    Scenario("policer", "token-bucket policer: drops above rate_bps, no delay", _policer),
    Scenario("shaper", "shaper: queue delay grows to queue_bytes, then tail drop", _shaper),
    Scenario("cutoff", "one direction stops after after_s / after_packets / after_bytes "
             f"(after_s {DEFAULT_ONSET_S:g} when none is given)", _cutoff),
    Scenario("periodic", "drops everything for drop_s every period_s", _periodic),
    Scenario("blocked", "no media: unanswered reflector hellos / STUN every 0.5 s", _blocked,
             {"framing": "telegram", "duration_s": 20.0}),
    Scenario("dtx", "benign: silence suppression with comfort noise", _dtx),
    Scenario("codec_change", "benign: frame length changes mid-call", _codec_change),
    Scenario("handover", "benign: both directions lose 1 s, caller port changes", _handover),
)}


def list_scenarios() -> dict[str, dict[str, Any]]:
    """Name -> ``{"description": ..., "defaults": {...}}`` for every scenario."""
    return {name: {"description": s.description, "defaults": s.defaults()}
            for name, s in SCENARIOS.items()}


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return tuple(_coerce(v) for v in value)
    return value


def build_scenario(kind: str, **params: Any) -> tuple[CallSpec, ImpairmentMap]:
    """The spec and impairments of scenario ``kind`` with ``params`` overriding defaults."""
    scenario = SCENARIOS.get(kind)
    if scenario is None:
        raise UsageError(f"unknown scenario {kind!r}; choose one of {', '.join(SCENARIOS)}")
    spec_fields = {f.name for f in dataclasses.fields(CallSpec)}
    own = scenario.parameters()
    spec_args = {**BASE_SPEC, **scenario.spec_defaults}
    build_args = {}
    for name, value in params.items():
        if name in spec_fields:
            spec_args[name] = _coerce(value)
        elif name in own:
            build_args[name] = _coerce(value)
        else:
            raise UsageError(
                f"scenario {kind!r}: unknown parameter {name!r}; it takes "
                f"{', '.join(own) or 'no parameters of its own'} and CallSpec fields")
    try:
        spec = CallSpec(**spec_args)
        return spec, scenario.build(**build_args)
    except TypeError as exc:
        raise UsageError(f"scenario {kind!r}: {exc}") from exc


def simulate_scenario(kind: str, *, seed: int, **params: Any) -> SimulatedCall:
    """Simulate scenario ``kind`` (see :func:`build_scenario`) with ``seed``."""
    spec, impairments = build_scenario(kind, **params)
    return simulate_call(spec, impairments, seed, scenario=kind)


def simulate_to_file(path: str | os.PathLike[str], *, kind: str, seed: int,
                     include_packets: bool = True, **params: Any) -> SimulatedCall:
    """Simulate scenario ``kind`` and write ``path`` plus ``<path>.truth.json``."""
    sim = simulate_scenario(kind, seed=seed, **params)
    write_call(path, sim, include_packets=include_packets)
    return sim
