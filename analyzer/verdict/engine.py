"""The analysis: every detector on every media stream, one correction, one verdict.

1. Blocked setup is judged on the whole capture (:class:`BlockedSetupDetector`).
2. Per call: features of its media streams with confounders left out
   (:func:`~analyzer.detectors.callfeatures.call_features`); streams shorter than
   ``min_stream_s`` / ``min_stream_packets``, not speech-like (packet time outside
   5-150 ms) or opaque without being Telegram media (no sequence numbers and no known
   cadence to infer them from) are reported, not tested.
3. Per stream: the onset (change point), the baseline chosen automatically
   (:func:`~analyzer.baseline.choose.choose_reference`), then the pattern detectors (loss,
   burst loss, periodic drops, rate cap, jitter with p-values; cut-off and metallic-sound
   risk with scores) and Wehe-style distribution comparisons of each windowed metric.
4. The p-values of the whole capture are adjusted together (Holm by default,
   :mod:`analyzer.verdict.multitest`). A finding is a detector whose own effect
   thresholds are met and whose adjusted p-value is below ``alpha`` (score detectors: their
   threshold).
   A more specific finding explains a less specific one on the same stream: a rate cap
   hides "burst loss" (its drops are rate-driven), periodic drops hide a "rate cap". A
   metallic-sound risk is reported beside another finding of its stream, never alone: it
   is the audible consequence, measured without a baseline (alone it makes the call
   ``inconclusive``).
5. Verdict per call: ``degraded`` with findings; ``inconclusive`` without, when something
   was suspicious (effect thresholds met, raw p below ``suspicious_alpha``, or a medium
   metallic-sound risk) or nothing could be tested; ``clean`` otherwise. One exception:
   a near-miss *jitter* test whose stream shows no audible consequence (metallic-sound
   risk low, under ``QUIET_CONCEALED`` = 1 % of frames concealed) leaves the call clean
   and is noted in the stream's ``notes`` (:func:`_inaudible_jitter`). The capture:
   ``blocked`` when setup was blocked, else the worst call verdict
   (degraded > inconclusive > clean); ``inconclusive`` without any call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.baseline.choose import DEGRADATION_SIGNALS, choose_reference
from analyzer.baseline.profile import Profile
from analyzer.detectors.base import DetectorSettings
from analyzer.detectors.blocked import BlockedSetupDetector
from analyzer.detectors.burst import BurstLossDetector
from analyzer.detectors.callfeatures import call_features, call_streams, dense
from analyzer.detectors.confounders import Confounder
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.cutoff import CutoffDetector
from analyzer.detectors.estimates import (
    BlockedEstimate,
    CutoffEstimate,
    MetallicEstimate,
    OnsetEstimate,
    RateCapEstimate,
    SetupTarget,
    at_onset,
)
from analyzer.detectors.features import StreamFeatures
from analyzer.detectors.jitter import JitterDetector
from analyzer.detectors.loss import LossDetector
from analyzer.detectors.metallic import MetallicRiskDetector
from analyzer.detectors.onset import OnsetDetector, onset_of
from analyzer.detectors.periodic import PeriodicDropDetector
from analyzer.detectors.ratecap import RateCapDetector
from analyzer.detectors.result import Detection, not_applicable
from analyzer.detectors.shift import distribution_shift
from analyzer.errors import UsageError
from analyzer.limits import reached
from analyzer.metrics.quality import StreamQuality, capture_quality
from analyzer.streams.addresses import is_local
from analyzer.verdict.interference import (
    assess_call,
    damaging,
    inconclusive_reason,
    strongest,
)
from analyzer.verdict.model import (
    Analysis,
    BaselineUse,
    CallReport,
    Finding,
    Onset,
    Source,
    StreamReport,
    utc,
)
from analyzer.verdict.multitest import adjust
from analyzer.verdict.settings import Settings
from analyzer.verdict.words import summary
from analyzer.version import __version__

TOOL_VERSION = __version__

if TYPE_CHECKING:
    from analyzer.streams.capture import Capture
    from analyzer.streams.model import Call, Stream

#: Detectors whose p-values form the family; then the score detectors.
TESTED = ("loss", "burst_loss", "periodic_drop", "rate_cap", "jitter")
SCORED = ("cutoff", "metallic_risk")
SHIFT_METRICS = ("loss", "jitter", "interarrival", "bitrate")
#: A cut-off needs a stream that ran this long first, and the other direction carrying on
#: at this many packets a second right after the stop.
MIN_CUTOFF_STREAM_S = 1.0
MIN_CUTOFF_PACKETS = 50
MIN_CONTINUE_PPS = 5.0
#: A near-miss jitter test with less concealment than this (and a low metallic-sound
#: risk) leaves the call clean, noted on the stream (see :func:`_inaudible_jitter`).
QUIET_CONCEALED = 0.01


#: Told the number of calls analysed so far and the total, after each call.
CallProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Baseline:
    """What the user's baseline gives the analysis."""

    use: BaselineUse
    features: list[StreamFeatures] | None = None
    profile: Profile | None = None
    capture: Capture | None = None
    quality: Mapping[int, StreamQuality] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass
class _Stream:
    f: StreamFeatures
    report: StreamReport
    detections: dict[str, Detection] = field(default_factory=dict)


def _caller(capture: Capture, call: Call) -> str | None:
    """Address of the caller: the sender of the call's first setup request (SIP INVITE,
    STUN binding request, Telegram reflector hello), else the private side of a call
    between a private and a public address; ``None`` when it cannot be told."""
    members = call_streams(capture, call)
    hosts = {s.src for s in members} | {s.dst for s in members}
    best: tuple[float, str] | None = None
    t0 = capture.start_epoch_s
    for m in capture.sip:
        if m.method == "INVITE":
            best = (m.ts_ns / 1e9 - t0, "")
            break
    if best is not None:  # the INVITE's sender: the side whose SIP stream starts first
        sip = [s for s in capture.streams if s.kind == "sip" and s.src in hosts
               and len(s.series)]
        if sip:
            return min(sip, key=lambda s: s.series.arrival_s[0]).src
    for s in members:
        asks = s.extra.get("stun_requests", 0) or s.extra.get("telegram_hellos", 0)
        if asks and len(s.series) and (best is None or s.series.arrival_s[0] < best[0]):
            best = (float(s.series.arrival_s[0]), s.src)
    if best is not None and best[1]:
        return best[1]
    private = {h for h in hosts if is_local(h)}
    return next(iter(private)) if len(private) == 1 and len(hosts) == 2 else None


def _direction(f: StreamFeatures | Stream, caller: str | None) -> str:
    if caller is None:
        return f"{f.src}:{f.sport}→{f.dst}:{f.dport}"
    return "caller→callee" if f.src == caller else "callee→caller"


def _flow_counts(capture: Capture, f: StreamFeatures, t: float) -> tuple[int, int]:
    """Packets and IP-layer bytes of the stream's 5-tuple (every kind) before ``t``."""
    n = b = 0
    for s in capture.streams:
        if (s.src, s.sport, s.dst, s.dport) == (f.src, f.sport, f.dst, f.dport):
            sel = s.series.arrival_s < t
            k = int(sel.sum())
            n += k
            b += int(s.series.size_bytes[sel].astype(np.int64).sum()) + k * f.ip_overhead_bytes
    return n, b


def _reverse_of(f: StreamFeatures, feats: Sequence[StreamFeatures], capture: Capture
                ) -> StreamFeatures | None:
    rev = capture.streams[f.stream].reverse if f.stream is not None else None
    for g in feats:
        if g.stream == rev:
            return g
    opposite = [g for g in feats if g.src == f.dst and g.dst == f.src]
    if not opposite:
        return None
    return max(opposite, key=lambda g: min(g.end_s, f.end_s) - max(g.start_s, f.start_s))


class Analyzer:
    """Runs an analysis with fixed settings (``analyze`` is the one-call form)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.onset = s.make(OnsetDetector)
        self.loss = s.make(LossDetector, min_excess=s.min_excess_loss)
        self.burst = s.make(BurstLossDetector)
        self.periodic = s.make(PeriodicDropDetector)
        self.ratecap = s.make(RateCapDetector)
        self.jitter = s.make(JitterDetector)
        self.metallic = s.make(MetallicRiskDetector)
        self.cutoff = s.make(CutoffDetector)
        self.blocked = s.make(BlockedSetupDetector)
        # the count-based budget of every resampling test (never time: results must not
        # depend on the machine): counts asked for beyond it, by detector
        self.resamples_over: dict[str, dict[str, int]] = {}
        for attr, det in list(vars(self).items()):
            if isinstance(det, DetectorSettings):
                capped, over = det.with_resamples_capped(s.limits.max_resamples)
                setattr(self, attr, capped)
                if over:
                    self.resamples_over[str(getattr(det, "name", attr))] = over

    def run(self, capture: Capture, baseline: Capture | Profile | None = None, *,
            progress: CallProgress | None = None) -> Analysis:
        """The analysis of ``capture``: each stage once, in data-path order."""
        s = self.settings
        quality = self._quality(capture)
        base = self._baseline(baseline)
        blocked = self.blocked.detect(capture, DetectionContext())
        detailed, limit_warnings = self._detailed(capture)
        calls = []
        for k, call in enumerate(capture.calls):
            calls.append(self._call(capture, call, base.features, base.profile, quality,
                                    detailed))
            if progress is not None:
                progress(k + 1, len(capture.calls))
        flat = [st for _, sts, _, _, _ in calls for st in sts]
        adjusted, block_adj = self._adjust(flat, blocked)
        reports: list[CallReport] = []
        findings: list[Finding] = []
        k = 0
        for call, sts, confounders, caller, listed in calls:
            report = self._decide(capture, call, sts, confounders, caller, adjusted, k,
                                  quality, listed)
            k += len(sts)
            reports.append(report)
            findings.extend(report.findings)
        limit_warnings += self._limits_reached(flat)
        warnings = list(capture.warnings) + list(base.warnings) + limit_warnings
        if blocked.detected and block_adj is not None and block_adj < s.alpha:
            findings.insert(0, self._blocked_finding(blocked, block_adj))
            verdict = "blocked"
        elif any(r.verdict == "degraded" for r in reports):
            verdict = "degraded"
        elif not reports or any(r.verdict == "inconclusive" for r in reports):
            verdict = "inconclusive"
            if not reports:
                warnings.append("no call with media found in the capture")
        else:
            verdict = "clean"
        level = strongest(r.interference for r in reports)
        level_reasons = [x for r in reports if r.interference == level
                         for x in r.interference_reasons]
        if verdict == "blocked":
            level = "likely"
            level_reasons = [f"call setup blocked: {findings[0].summary}", *(
                x for r in reports if r.interference == "likely"
                for x in r.interference_reasons)]
        elif not reports:
            level, level_reasons = "unknown", ["no call with media in the capture"]
        used = [st.report.reference.kind for _, sts, _, _, _ in calls for st in sts
                if st.report.reference is not None]
        use = replace(base.use, used={kind: used.count(kind) for kind in dict.fromkeys(used)})
        return Analysis(file=capture.path, duration_s=capture.duration_s, verdict=verdict,
                        interference=level,
                        interference_reasons=tuple(dict.fromkeys(level_reasons)),
                        findings=tuple(findings), calls=tuple(reports),
                        blocked=blocked, baseline=use, settings=s.to_dict(),
                        warnings=tuple(dict.fromkeys(warnings)), source=source_of(capture),
                        tool_version=TOOL_VERSION, capture=capture,
                        baseline_capture=base.capture, quality=quality,
                        baseline_quality=base.quality)

    # -- stages ---------------------------------------------------------------------------

    def _quality(self, capture: Capture) -> dict[int, StreamQuality]:
        """Quality metrics of every media stream, computed here once: the detectors, the
        JSON, the terminal text and the report all read these."""
        lim = self.settings.limits
        return capture_quality(capture.streams, capture.calls,
                               bye_times_s=capture.bye_times_s, window_s=self.settings.window_s,
                               max_windows_floor=lim.max_windows_floor,
                               windows_per_packet=lim.windows_per_packet)

    def _detailed(self, capture: Capture) -> tuple[frozenset[int] | None, list[str]]:
        """The media streams of calls the detectors run on (``None``: every one) and the
        warning when ``max_detailed_streams`` leaves some out: the largest by packets
        are kept (ties: the first), the rest are listed with their statistics only."""
        most = self.settings.limits.max_detailed_streams
        seen = {i for c in capture.calls for i in c.streams}
        cands = sorted((i for i in seen if dense(capture.streams[i])),
                       key=lambda i: (-len(capture.streams[i].series), i))
        if len(cands) <= most:
            return None, []
        left = len(cands) - most
        return frozenset(cands[:most]), [reached(
            "max_detailed_streams", most,
            f"{len(cands)} media streams in calls, the {left} smallest (by packets) listed "
            "without detectors")]

    def _limits_reached(self, flat: Sequence[_Stream]) -> list[str]:
        """Warnings for the bounds the detectors' inputs ran into: windows widened to keep
        a stream within its windows, resampling tests drawn fewer times than asked."""
        s = self.settings
        lim = s.limits
        widened = [(st.f.packets, f"{st.f.label}: {len(st.f.windows)} windows of "
                    f"{st.f.windows.window_s:g} s over {st.f.duration_s:.0f} s")
                   for st in flat if st.report.analysed
                   and st.f.windows.window_s > s.window_s * (1 + 1e-9)]
        out = lim.windows_reached(s.window_s, widened)
        if self.resamples_over and any(st.report.analysed for st in flat):
            asked = ", ".join(f"{det} {k}={v}" for det, over in self.resamples_over.items()
                              for k, v in over.items())
            out.append(reached("max_resamples", lim.max_resamples, (
                f"each resampling test drew at most {lim.max_resamples} (asked for: "
                f"{asked}): coarser p-values and intervals")))
        return out

    def _baseline(self, baseline: Capture | Profile | None) -> _Baseline:
        s = self.settings
        if baseline is None:
            return _Baseline(use=BaselineUse(None, None, None, True, None, {}))
        if isinstance(baseline, Profile):
            return _Baseline(profile=baseline, use=BaselineUse(
                "profile", None, baseline.description or None, True, None, {}))
        quality = self._quality(baseline)
        feats = [f for call in baseline.calls
                 for f in call_features(baseline, call, window_s=s.window_s,
                                        quality=quality,
                                        max_windows_floor=s.limits.max_windows_floor,
                                        windows_per_packet=s.limits.windows_per_packet)[0]
                 if f.speech_like and f.timing_known
                 and f.packets >= s.min_packets(f.frame_interval_s, rtp=f.source == "rtp")]
        why = None if feats else (
            f"the baseline capture {baseline.path} holds no media stream to compare with "
            f"(none of {len(baseline.media_streams)} media streams has "
            f"{s.min_stream_packets}+ packets of speech-like RTP or Telegram media)")
        warnings = () if why is None else (f"{why}; the other direction, the part before "
                                           "an onset or the built-in profile were used",)
        return _Baseline(features=feats or None, capture=baseline, quality=quality,
                         warnings=warnings, use=BaselineUse(
                             "capture", source_of(baseline), None, why is None, why, {}))

    def _adjust(self, flat: Sequence[_Stream], blocked: Detection
                ) -> tuple[dict[tuple[int, str], float], float | None]:
        """Multiple-testing adjustment over every p-value of the capture."""
        family: list[tuple[int, str, float]] = []  # (index in streams list, name, p)
        for i, st in enumerate(flat):
            for name in TESTED:
                d = st.detections.get(name)
                if d is not None and d.pvalue is not None:
                    family.append((i, name, d.pvalue))
        block_p = blocked.pvalue
        ps = [p for _, _, p in family] + ([block_p] if block_p is not None else [])
        adj = adjust(ps, self.settings.correction) if ps else np.zeros(0)
        adjusted = {(i, name): float(a) for (i, name, _), a in zip(family, adj, strict=False)}
        return adjusted, (float(adj[-1]) if block_p is not None else None)

    def _decide(self, capture: Capture, call: Call, sts: Sequence[_Stream],
                confounders: Sequence[Confounder], caller: str | None,
                adjusted: Mapping[tuple[int, str], float], k: int,
                quality: Mapping[int, StreamQuality],
                listed: Sequence[StreamReport] = ()) -> CallReport:
        """Findings, onsets and the verdict of one call (``k``: index of its first stream
        in the capture's family of tests; ``caller``: as :meth:`_call` found it;
        ``listed``: its streams beyond ``max_detailed_streams``, reported untested)."""
        s = self.settings
        call_findings: list[Finding] = []
        suspicious = False
        reports: list[StreamReport] = []
        for j, st in enumerate(sts):
            found: dict[str, tuple[Detection, float | None]] = {}
            notes: list[str] = []
            for name in TESTED + SCORED:
                d = st.detections.get(name)
                if d is None:
                    continue
                p_adj = adjusted.get((k + j, name))
                if d.detected and (name in SCORED or (p_adj is not None and p_adj < s.alpha)):
                    found[name] = (d, p_adj)
                elif _suspicious(name, d, s.suspicious_alpha):
                    quiet = (_inaudible_jitter(name, d, st.detections.get("metallic_risk"))
                             or _scattered_concealment(name, d, st.f))
                    if quiet is None:
                        suspicious = True
                    else:
                        notes.append(quiet)
            for name in _explained(found):
                found.pop(name)
            if set(found) == {"metallic_risk"}:  # a symptom, not evidence on its own
                found.pop("metallic_risk")
                suspicious = True
            onset = self._onset(capture, call, st, found)
            made = [self._finding(call, st, name, d, p_adj, caller, onset)
                    for name, (d, p_adj) in found.items()]
            if "metallic_risk" in found and all(m.confidence == "medium" for m in made
                                                if m.pattern != "metallic_risk"):
                made = [replace(m, confidence="medium") for m in made]
            call_findings.extend(made)
            q = quality.get(st.f.stream) if st.f.stream is not None else None
            reports.append(replace(st.report, stream_onset=onset, quality=q,
                                   notes=(*st.report.notes, *notes)))
        if listed:  # in the call's order of streams, as the tested ones are
            pos = {i: n for n, i in enumerate(call.streams)}
            reports = sorted([*reports, *listed], key=lambda r: pos.get(r.stream, len(pos)))
        analysed = [r for r in reports if r.analysed]
        gaps = damaging(confounders)
        if call_findings or gaps:  # measurably damaged, whatever the cause
            verdict = "degraded"
        elif suspicious or not analysed:
            verdict = "inconclusive"
        else:
            verdict = "clean"
        call_warn = [w for r in reports if r.reference is not None
                     for w in r.reference.warnings]
        if not analysed and listed:
            call_warn.append("no media stream analysed: its streams are beyond limit "
                             f"max_detailed_streams={s.limits.max_detailed_streams}")
        elif not analysed:
            call_warn.append("no media stream long enough to analyse")
        report = CallReport(
            call=call.index, app=call.app, start_s=call.start_s, end_s=call.end_s,
            verdict=verdict, caller=caller, streams=tuple(reports),
            findings=tuple(call_findings), confounders=tuple(confounders),
            warnings=tuple(dict.fromkeys(call_warn)))
        why = inconclusive_reason(report) if verdict == "inconclusive" else None
        level, reasons = assess_call(verdict, call_findings, reports, confounders,
                                     inconclusive_why=why)
        return replace(report, interference=level, interference_reasons=reasons)

    def _onset(self, capture: Capture, call: Call, st: _Stream,
               found: Mapping[str, tuple[Detection, float | None]]) -> Onset | None:
        """The one onset of a stream direction: the change point when the onset detector
        found one (its first visible effect), else the earliest start among the stream's
        findings; ``None`` for a stream without either."""
        d = st.report.onset
        f = st.f
        e = d.estimate if d is not None else None
        if d is not None and d.detected and isinstance(e, OnsetEstimate) \
                and e.onset_s is not None:
            first = e.first_effect_s
            at = float(first if first is not None else e.onset_s)
            lows = [v for v in (e.earliest_s, e.onset_s, at) if v is not None]
            earliest = float(min(lows))
            signal, pvalue = str(e.signal if e.signal is not None else "loss"), d.pvalue
        else:
            starts = [(t, name) for name, (dd, _) in found.items()
                      if (t := _own_start(dd, f)) is not None]
            if not starts:
                return None
            at, signal = min(starts)
            earliest, pvalue = at, None
        n, b = _flow_counts(capture, f, at)
        return Onset(at_s=at, earliest_s=earliest, signal=signal, pvalue=pvalue,
                     after_call_s=at - call.start_s, after_packets=n, after_bytes=b,
                     at_utc=utc(capture.epoch_s(at)))

    # -- per call / per stream --------------------------------------------------------------

    def _call(self, capture: Capture, call: Call, base_feats: list[StreamFeatures] | None,
              profile: Profile | None, quality: Mapping[int, StreamQuality],
              detailed: frozenset[int] | None = None
              ) -> tuple[Call, list[_Stream], list[Confounder], str | None,
                         list[StreamReport]]:
        s = self.settings
        feats, confounders = call_features(
            capture, call, window_s=s.window_s, quality=quality, only=detailed,
            max_windows_floor=s.limits.max_windows_floor,
            windows_per_packet=s.limits.windows_per_packet)
        caller = _caller(capture, call)
        listed = [] if detailed is None else [
            self._listed(capture.streams[i], caller, quality) for i in call.streams
            if i not in detailed and dense(capture.streams[i])]
        tested = {f.stream for f in feats
                  if f.packets >= s.min_packets(f.frame_interval_s, rtp=f.source == "rtp")
                  and f.duration_s >= s.min_stream_s and f.speech_like and f.timing_known}
        onsets = {f.stream: self.onset.detect(f, DetectionContext()) for f in feats
                  if f.stream in tested}
        out: list[_Stream] = []
        for f in feats:
            direction = _direction(f, caller)
            if f.stream not in tested:
                cut = self._cutoff(capture, f, feats, call.start_s)
                if f.not_speech is not None:
                    why = f.not_speech.reason
                    cut = not_applicable("cutoff", f"not speech: {why}",
                                         **self.cutoff.thresholds())
                elif not f.speech_like:
                    why = f"not speech-like (packet time {f.frame_interval_s * 1000:.0f} ms)"
                elif not f.timing_known:
                    why = "traffic of unknown structure (not RTP, not media)"
                else:
                    why = f"too short ({f.packets} packets, {f.duration_s:.1f} s)"
                rep = StreamReport(stream=_index(f), label=f.label, direction=direction,
                                   kind=f.kind, app=f.app, analysed=False, skipped_reason=why,
                                   detections={"cutoff": cut})
                out.append(_Stream(f, rep, {"cutoff": cut}))
                continue
            rev = _reverse_of(f, feats, capture)
            onset = onsets[f.stream]
            kw = {"baseline": base_feats, "reverse": rev, "onset": onset, "profile": profile,
                  "reverse_onset": onsets.get(rev.stream) if rev is not None else None,
                  "min_excess_loss": s.min_excess_loss}
            ref, passed = choose_reference(f, **kw)
            jref = ref if ref.kind != "reverse" else choose_reference(
                f, allow_reverse=False, **kw)[0]
            out.append(self._stream(capture, f, direction, onset, ref, passed, jref,
                                    call.start_s))
            out[-1].detections["cutoff"] = self._cutoff(capture, f, feats, call.start_s)
        # What the later stages read of the features is per window or per slot; the
        # per-packet arrays only the detectors use are let go, so a capture's memory does
        # not hold every call's detector inputs until the last call is done.
        return (call, [replace(st, f=_detected(st.f)) for st in out], confounders, caller,
                listed)

    def _listed(self, stream: Stream, caller: str | None,
                quality: Mapping[int, StreamQuality]) -> StreamReport:
        """The report on a stream beyond ``max_detailed_streams``: its statistics and
        quality figures, no detector run on it."""
        t = stream.series.arrival_s
        most = self.settings.limits.max_detailed_streams
        return StreamReport(
            stream=stream.index, label=stream.label, direction=_direction(stream, caller),
            kind=stream.kind, app=stream.app, analysed=False,
            skipped_reason=f"beyond limit max_detailed_streams={most} (only the {most} "
            "largest media streams are run through the detectors)",
            duration_s=float(t.max() - t.min()) if t.size else 0.0, packets=int(t.size),
            quality=quality.get(stream.index))

    def _cutoff(self, capture: Capture, f: StreamFeatures, feats: Sequence[StreamFeatures],
                call_start: float) -> Detection:
        """Cut-off of ``f``, unless the other direction only outlived it by draining a
        queue: its last packets were sent no later than ``f`` stopped (RTP timestamps)."""
        d = self.cutoff.detect(f, DetectionContext())
        e = d.estimate
        if not d.detected or not isinstance(e, CutoffEstimate):
            return d
        at = float(e.at_s)
        n, b = _flow_counts(capture, f, at + 1e-6)
        d = replace(d, estimate=replace(e, after_packets=n, after_bytes=b,
                                        after_call_s=at - call_start))
        if f.duration_s < MIN_CUTOFF_STREAM_S or f.packets < MIN_CUTOFF_PACKETS:
            return replace(d, detected=False, notes=(*d.notes, (
                f"the stream lasted only {f.duration_s:.1f} s / {f.packets} packets: a "
                "probe or a relay switch, too short to call a cut-off")))
        rev = _reverse_of(f, feats, capture)
        if rev is not None:
            window = self.cutoff.min_missing_s
            after = int(np.count_nonzero((rev.arrival_s > at) & (rev.arrival_s <= at + window)))
            if after < MIN_CONTINUE_PPS * window:
                return replace(d, detected=False, notes=(*d.notes, (
                    f"the other direction did not carry on at once ({after} packets in the "
                    f"{window:.0f} s after the stop)")))
        if rev is None or not rev.delay_measurable:
            return d
        tail = np.argsort(rev.arrival_s)[-10:]
        queued = float(np.nanmedian(rev.delay_s[tail]))
        sent_until = float(rev.arrival_s.max()) - queued
        if np.isfinite(queued) and sent_until - e.at_s < \
                self.cutoff.min_missing_s:
            return replace(d, detected=False, notes=(*d.notes, (
                f"the other direction's last packets waited {queued:.2f} s in a queue: it "
                f"was sent until {sent_until:.1f} s, not after this stream stopped")))
        return d

    def _stream(self, capture: Capture, f: StreamFeatures, direction: str, onset: Detection,
                ref: Any, passed: list[str], jref: Any, call_start: float) -> _Stream:
        oe = onset.estimate
        onset_s = oe.onset_s if onset.detected and isinstance(oe, OnsetEstimate) else None
        if onset_s is not None and isinstance(oe, OnsetEstimate):
            n, b = _flow_counts(capture, f, onset_s)
            oe = replace(oe, after_packets=n, after_bytes=b,
                         after_stream_packets=oe.after_packets,
                         after_call_s=onset_s - call_start)
            onset = replace(onset, estimate=oe)
        d: dict[str, Detection] = {}
        d["loss"] = self.loss.detect(f, DetectionContext(reference=ref))
        d["burst_loss"] = self.burst.detect(f, DetectionContext(reference=ref))
        d["periodic_drop"] = self.periodic.detect(f, DetectionContext(reference=ref))
        since = onset_s if onset_s is not None else None
        d["rate_cap"] = self.ratecap.detect(f, DetectionContext(reference=ref, since_s=since))
        onset = _first_effect(f, onset, d, self.ratecap.min_queue_delay_s)
        # the split a pre-onset baseline was cut at (a change in loss, jitter or delay)
        split = onset_of(onset, DEGRADATION_SIGNALS)
        split_s = split[0] if split is not None else None
        split_p = None
        if jref.kind == "pre_onset" and split is not None and split[1] in ("jitter", "delay") \
                and isinstance(oe, OnsetEstimate):
            split_p = oe.signals[split[1]].pvalue
        d["jitter"] = self.jitter.detect(f, DetectionContext(
            reference=ref, jitter_reference=jref, since_s=since, split_s=split_s,
            split_pvalue=split_p))
        d["metallic_risk"] = self.metallic.detect(f, DetectionContext(reference=ref,
                                                                      since_s=since))
        shifts = {}
        for m in SHIFT_METRICS:
            x = f.windows.metric(m) if ref.kind != "pre_onset" else _after(f, m, split_s)
            shifts[m] = distribution_shift(x, ref.sample(m), metric=m)
        use = f.slot_usable
        rep = StreamReport(
            stream=_index(f), label=f.label, direction=direction, kind=f.kind, app=f.app,
            analysed=True, source=f.source, frame_interval_s=f.frame_interval_s,
            duration_s=f.duration_s, packets=f.packets,
            loss_fraction=float(np.count_nonzero(f.slot_lost & use)) / max(1, int(use.sum())),
            reference=ref, jitter_reference=jref if jref is not ref else None,
            passed_over=tuple(passed), onset=onset, detections=d,
            shifts=shifts)
        return _Stream(f, rep, d)

    def _finding(self, call: Call, st: _Stream, name: str, d: Detection,
                 p_adj: float | None, caller: str | None, onset: Onset | None) -> Finding:
        f = st.f
        e = d.estimate
        start = onset.at_s if onset is not None else _own_start(d, f)
        end = d.evidence[-1][1] if d.evidence else f.end_s
        if isinstance(e, CutoffEstimate):
            end = e.continued_until_s
        if onset is not None:  # the stream's one onset, the same in every finding
            e = at_onset(e, onset_s=onset.at_s, after_packets=onset.after_packets,
                         after_bytes=onset.after_bytes, after_call_s=onset.after_call_s)
        ctx = {k: v.estimate for k, v in st.detections.items()}
        direction = _direction(f, caller)
        if p_adj is not None:
            conf = "high" if p_adj < 1e-4 else "medium"
        elif name == "cutoff":
            conf = "high" if (d.score or 0) >= 10 and isinstance(e, CutoffEstimate) \
                and e.basis == "reverse_media" else "medium"
        else:
            conf = "high" if (d.score or 0) >= 2 else "medium"
        return Finding(
            pattern=name, call=call.index, stream=f.stream, direction=direction, src=f.src,
            sport=f.sport, dst=f.dst, dport=f.dport, start_s=start, end_s=end,
            pvalue=p_adj, raw_pvalue=d.pvalue, score=d.score, effect=d.effect,
            interval=d.interval, estimate=e, confidence=conf,
            summary=summary(name, direction, e, p_adj, effect=d.effect, interval=d.interval,
                            context=ctx, onset_s=None if onset is None else onset.at_s))

    def _blocked_finding(self, d: Detection, p_adj: float) -> Finding:
        e = d.estimate
        targets = e.targets if isinstance(e, BlockedEstimate) else ()
        unanswered = [t for t in targets if t.answers == 0]
        t: SetupTarget | None = max(unanswered, key=lambda x: x.requests, default=None)
        return Finding(
            pattern="blocked_setup", call=None, stream=None, direction=None,
            src=t.src if t else None, sport=t.sport if t else None,
            dst=t.dst if t else None, dport=t.dport if t else None,
            start_s=d.evidence[0][0] if d.evidence else None,
            end_s=d.evidence[-1][1] if d.evidence else None, pvalue=p_adj,
            raw_pvalue=d.pvalue, score=d.score, effect=d.effect, interval=None, estimate=e,
            confidence="high" if p_adj < 1e-4 else "medium",
            summary=summary("blocked_setup", "", e, p_adj))


def _first_effect(f: StreamFeatures, onset: Detection, d: Mapping[str, Detection],
                  queue_s: float) -> Detection:
    """The onset moved back to the first visible effect of a pattern a single change
    point places late: the first recurring drop window of periodic drops (the scan splits
    the call where the loss rate is most different, often a few cycles in), and the
    start of a shaper's queue (the first packet delayed ``queue_s`` over the stream's
    least-delayed one, in the run of delayed packets leading to the first drop)."""
    e = onset.estimate
    if not onset.detected or not isinstance(e, OnsetEstimate) or e.onset_s is None:
        return onset
    at = e.first_effect_s if e.first_effect_s is not None else e.onset_s
    cands = []
    p = d.get("periodic_drop")
    if p is not None and p.detected:
        v = p.estimate.start_s()
        if v is not None and np.isfinite(v):
            cands.append(float(v))
    r = d.get("rate_cap")
    re = r.estimate if r is not None else None
    if r is not None and r.detected and isinstance(re, RateCapEstimate) \
            and re.mode == "shaping" and f.delay_measurable:
        first_loss = float(f.slot_time_s[f.slot_lost].min()) if f.slot_lost.any() else at
        order = np.argsort(f.arrival_s, kind="stable")
        t, dl = f.arrival_s[order], f.delay_s[order]
        k = int(np.searchsorted(t, first_loss))
        calm = np.flatnonzero(np.isfinite(dl[:k]) & (dl[:k] <= queue_s))
        if calm.size and calm[-1] + 1 < k:
            cands.append(float(t[calm[-1] + 1]))
    early = [c for c in cands if c < at]
    if not early:
        return onset
    first = min(early)
    lows = [v for v in (e.earliest_s, first) if v is not None]
    return replace(onset, estimate=replace(e, first_effect_s=first, earliest_s=min(lows)))


def _index(f: StreamFeatures) -> int:
    """The capture's index of a stream the engine analyses (always one of its streams)."""
    if f.stream is None:
        raise ValueError(f"features of {f.label} have no stream index")
    return f.stream


def _own_start(d: Detection, f: StreamFeatures) -> float | None:
    """Where a detection itself places the start of what it found."""
    v = d.estimate.start_s()
    if v is not None:
        return float(v)
    return float(d.evidence[0][0]) if d.evidence else None


def source_of(capture: Capture) -> Source:
    """The record of an input capture (its SHA-256 and size when the reader kept them)."""
    return Source(path=capture.path, format=capture.fmt,
                  size_bytes=capture.file_size_bytes or None,
                  sha256=capture.sha256 or None, packets=capture.packets,
                  duration_s=capture.duration_s, start_epoch_s=capture.start_epoch_s)


def _suspicious(name: str, d: Detection, level: float) -> bool:
    """Effect thresholds met with a raw p-value below ``level``, or a medium risk."""
    if d.detected and d.pvalue is not None and d.pvalue < level:
        return True
    return name == "metallic_risk" and isinstance(d.estimate, MetallicEstimate) \
        and d.estimate.level == "medium"


def _scattered_concealment(name: str, d: Detection, f: StreamFeatures) -> str | None:
    """The note for a medium metallic-sound risk that leaves the call clean, or ``None``.

    A medium risk reached by the concealed share alone - no packet lost, and fewer audible
    patches (runs of concealment of ``audible_run_s`` or more) than the detector's own
    ``medium_events_per_min`` - is single late frames the simulated jitter buffer threw
    away, mostly while it settles in a short call: one concealed frame is inaudible
    (:mod:`analyzer.detectors.metallic`). Noted on the stream; with any loss or audible
    patch, the medium risk still makes the call ``inconclusive``."""
    e = d.estimate
    if name != "metallic_risk" or not isinstance(e, MetallicEstimate) or e.level != "medium":
        return None
    lost = int(np.count_nonzero(f.slot_lost & f.slot_usable))
    events_bound = d.thresholds.get("medium_events_per_min", 2.0)
    if lost or e.audible_events_per_min >= events_bound:
        return None
    return (f"metallic-sound risk medium from {100 * e.concealed_fraction:.1f} % of frames "
            f"concealed with no packet lost and {e.audible_events} audible patch(es): single "
            "late frames a jitter buffer drops, not counted against the call")


def _inaudible_jitter(name: str, d: Detection, risk: Detection | None) -> str | None:
    """The note for a near-miss jitter test that leaves the call clean, or ``None``.

    A jitter rise that fails the multiple-testing correction is only a near miss; when
    the jitter-buffer simulation also shows no audible consequence (metallic-sound risk
    ``low`` and under ``QUIET_CONCEALED`` of the frames concealed), nothing a listener
    could hear and nothing the family of tests confirms is left, so it does not make the
    call ``inconclusive``: it is noted on the stream. Any other near miss (loss, bursts,
    drops, a cap) and any jitter near miss with audible concealment still does.
    """
    if name != "jitter" or risk is None or not isinstance(risk.estimate, MetallicEstimate):
        return None
    e = risk.estimate
    if e.level != "low" or not e.concealed_fraction < QUIET_CONCEALED:
        return None
    p = d.pvalue if d.pvalue is not None else float("nan")
    return (f"jitter came close (raw p = {p:.2g}, not significant after correction) "
            f"but had no audible consequence ({e.concealed_fraction:.1%} of frames concealed, "
            "metallic-sound risk low): the call stays clean")


_NONE = np.zeros(0)
_NONE.flags.writeable = False


def _detected(f: StreamFeatures) -> StreamFeatures:
    """``f`` without the per-packet detector inputs no later stage reads (sender clock,
    IPDV, one-way delay, slot times)."""
    return replace(f, sender_s=_NONE, ipdv_s=_NONE, delay_s=_NONE, slot_time_s=_NONE)


def _explained(found: dict[str, Any]) -> list[str]:
    """Patterns a more specific finding on the same stream explains: a rate cap's evenly
    spread drops are not "bursts"; drop windows that recur are periodic drops, whatever
    the windowed rate looks like when the period matches the window."""
    out = []
    if "rate_cap" in found and "burst_loss" in found and "periodic_drop" not in found:
        out.append("burst_loss")
    if "periodic_drop" in found and "rate_cap" in found:
        out.append("rate_cap")
    return out


def _after(f: StreamFeatures, metric: str, t: float | None) -> np.ndarray:
    w = f.windows
    if t is None:
        return w.metric(metric)
    keep = w.start_s >= t - 1e-9
    sub = {"loss": (w.loss_fraction, w.usable), "jitter": (w.ipdv_s, w.usable),
           "interarrival": (w.iat_p50_s, w.usable_for_rate),
           "bitrate": (w.bitrate_bps, w.usable_for_rate)}[metric]
    v = sub[0][sub[1] & keep]
    return v[np.isfinite(v)]


def analyze(capture: Capture | str | os.PathLike[str], *,
            baseline: Capture | Profile | str | os.PathLike[str] | None = None,
            profile: Profile | str | os.PathLike[str] | None = None,
            settings: Settings | None = None,
            progress: CallProgress | None = None) -> Analysis:
    """Analyse a capture (a path or a :class:`~analyzer.streams.capture.Capture`): the
    one typed :class:`~analyzer.verdict.model.Analysis` every output renders.

    ``baseline``: another capture of the same call without the suspected interference
    (over a VPN, another network, the minutes before; a path or a ``Capture``);
    ``profile``: a profile of clean calls (a path or a
    :class:`~analyzer.baseline.profile.Profile`); give at most one. Without either, each
    stream is compared with the other direction, its own part before an onset, or the
    built-in profile. ``progress(done, total)`` is told after each call.
    """
    from analyzer.streams.capture import Capture, read_capture

    if isinstance(baseline, Profile):  # a profile given as the baseline
        baseline, profile = None, baseline if profile is None else profile
    if baseline is not None and profile is not None:
        raise UsageError("give either a baseline capture or a profile, not both")
    limits = (settings or Settings()).limits
    cap = capture if isinstance(capture, Capture) else read_capture(capture, limits=limits)
    base: Capture | Profile | None = None
    if baseline is not None:
        base = baseline if isinstance(baseline, Capture) else read_capture(baseline,
                                                                           limits=limits)
    elif profile is not None:
        base = profile if isinstance(profile, Profile) else Profile.load(profile)
    return Analyzer(settings).run(cap, base, progress=progress)
