"""Accuracy of the detectors and verdicts on simulated calls with known ground truth.

    python benchmarks/accuracy.py                 # full run (>= 300 impaired, >= 200 clean)
    python benchmarks/accuracy.py --quick         # a third of the cases (CI)
    python benchmarks/accuracy.py --variants opaque,rtp+asym --only clean,policer
    python benchmarks/accuracy.py -o summary.json --jobs 2

Every case is simulated with :func:`analyzer.simulate.scenarios.simulate_to_file` into a
temporary directory, read back with :func:`analyzer.read_capture` and analysed with
:func:`analyzer.verdict.analyze` (no baseline given: the analysis chooses its own). The
cases vary the impairment kind and magnitude, the seed, the packet time (20 / 60 ms),
the impaired direction(s), the onset (10-30 s) and the clean-path jitter (log-uniform
0.5-8 ms, the default profile's range); every case runs in each *variant* (the same seed,
only the framing and port layout differ): WhatsApp-like RTP, Telegram-like reflector
media, plain RTP, RTP with SIP/SDP, opaque media (each datagram a per-flow tag + random
bytes of the RTP call's sizes, no SIP: captures/lab/opaque.py's transform), and plain
RTP, RTP with SDP and opaque media with asymmetric ports (``+asym``: each side sends from
a port other than the one it receives on). Clean and benign calls: clean, DTX, codec
change (20 -> 60 ms), handover (1-2 s gap in both directions, new port).

Printed: per scenario, the share of calls with each pattern (the confusion matrix), the
detection rate with the right pattern (all magnitudes and "moderate" ones: loss >= 3 %,
cap <= 75 % of the stream's rate, added jitter >= 10 ms, period <= 10 s), the false
positive rate on clean and benign calls, and the errors of the estimates (onset against
the impairment's start and its first visible effect, cap, period, cut-off); then per
variant, against the bars (false alarms <= 1 % of clean / benign calls, moderate detection
>= 95 % per scenario, >= 95 % of caps within 15 % and of periods within 10 %): the false
alarm rate, the moderate detection rate per scenario and the estimates' accuracy, with
the scenarios a variant cannot show held out by name and reason (``EXCLUDED``). The JSON
summary holds the same, plus every case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Every case runs in each variant: a framing and a port layout (``+asym``: each side sends
#: from a port other than the one it receives on; with SDP the m= ports are the receive
#: ports). ``opaque``: the rtp call with each datagram a per-flow tag + random bytes.
VARIANTS: dict[str, tuple[str, bool]] = {
    "whatsapp": ("whatsapp", False), "telegram": ("telegram", False), "rtp": ("rtp", False),
    "rtp_sdp": ("rtp_sdp", False), "opaque": ("opaque", False),
    "rtp+asym": ("rtp", True), "rtp_sdp+asym": ("rtp_sdp", True),
    "opaque+asym": ("opaque", True)}
#: Header bytes before the codec frame, per framing (RTP 12, WhatsApp's extension 4 more,
#: Telegram's peer tag and overhead 32; opaque keeps the RTP call's sizes), plus IPv4 + UDP.
HEADER_BYTES = {"whatsapp": 16, "telegram": 32, "rtp": 12, "rtp_sdp": 12, "opaque": 12}
#: The bars a variant must meet (issue 8): false alarms on clean / benign calls, detection
#: of moderate impairments per scenario, and the estimates.
MAX_FALSE_ALARMS = 0.01
MIN_MODERATE_DETECTION = 0.95
CAP_WITHIN, MIN_CAP_WITHIN = 0.15, 0.95
PERIOD_WITHIN, MIN_PERIOD_WITHIN = 0.10, 0.95
#: (variant, scenario) pairs held out of the bars, each with the reason printed beside it
#: (none: every scenario shows in every variant; opaque blocked setups are requests of one
#: size resent on a schedule and never answered, which the detector reads without STUN).
EXCLUDED: dict[tuple[str, str], str] = {}
#: Known limits printed beside a variant's figures (they stay in the bars). None left: jitter
#: of media without RTP is read from the in-flight count (analyzer/detectors/inflight.py),
#: which keeps its scale when packets reorder.
NOTES: dict[tuple[str, str], str] = {}
IP_UDP = 28
#: Patterns a scenario may legitimately show beside its own.
ALLOWED = {
    "bernoulli": {"loss", "metallic_risk"},
    "gilbert": {"loss", "burst_loss", "metallic_risk"},
    "policer": {"rate_cap", "loss", "metallic_risk"},
    "shaper": {"rate_cap", "loss", "metallic_risk", "jitter"},
    "jitter": {"jitter", "metallic_risk"},
    "periodic": {"periodic_drop", "loss", "burst_loss", "metallic_risk"},
    "cutoff": {"cutoff"},
    "blocked": {"blocked_setup"},
}
EXPECTED = {"bernoulli": "loss", "gilbert": "burst_loss", "policer": "rate_cap",
            "shaper": "rate_cap", "jitter": "jitter", "periodic": "periodic_drop",
            "cutoff": "cutoff", "blocked": "blocked_setup"}
BENIGN = ("clean", "dtx", "codec_change", "handover")
PATTERNS = ("loss", "burst_loss", "periodic_drop", "rate_cap", "jitter", "cutoff",
            "blocked_setup", "metallic_risk")


@dataclass
class Case:
    """One simulated call to analyse."""

    ident: str
    kind: str
    variant: str
    seed: int
    params: dict[str, Any]
    moderate: bool
    magnitude: str
    result: dict[str, Any] = field(default_factory=dict)


def stream_rate_bps(framing: str, frame_ms: int) -> float:
    """Mean IP-layer bit rate of one simulated direction (codec bytes 60-120 per 20 ms)."""
    codec = 90.0 * frame_ms / 20.0
    return (codec + HEADER_BYTES[framing] + IP_UDP) * 8 * 1000.0 / frame_ms


def _base(rng: np.random.Generator, k: int, variant: str) -> dict[str, Any]:
    framing, asymmetric = VARIANTS[variant]
    frame = 60 if k % 5 == 4 else 20
    lo, hi = np.log(0.5), np.log(8.0)
    ports = {"asymmetric_ports": True} if asymmetric else {}
    return {"framing": framing, **ports, "frame_interval_ms": frame,
            "jitter_std_ms": round(float(np.exp(rng.uniform(lo, hi))), 2),
            "one_way_delay_ms": round(float(rng.uniform(20, 150)), 1), "duration_s": 60.0}


def build_cases(quick: bool, variants: Sequence[str] = tuple(VARIANTS)) -> list[Case]:
    """Every scenario's cases, each in every variant (the same seed and draws: a variant
    changes only the framing and the port layout)."""
    scale = 3 if quick else 1
    counts = {"bernoulli": 50, "gilbert": 40, "policer": 50, "shaper": 50, "jitter": 40,
              "periodic": 50, "cutoff": 30, "blocked": 12,
              "clean": 100, "dtx": 40, "codec_change": 30, "handover": 40}
    cases: list[Case] = []
    for kind, k, variant in ((kind, k, v) for kind, n in counts.items()
                             for k in range(max(2, n // scale)) for v in variants):
        seed = 50_000 + 1000 * list(counts).index(kind) + k
        rng = np.random.default_rng(seed)
        p = _base(rng, k, variant)
        onset = round(float(rng.uniform(10, 30)), 2)
        direction = "both" if k % 3 else "caller_to_callee"
        moderate, mag = True, ""
        if kind == "bernoulli":
            loss = (0.01, 0.02, 0.03, 0.05, 0.10)[k % 5]
            p.update(p=loss, onset_s=onset, direction=direction)
            moderate, mag = loss >= 0.03, f"p={loss}"
        elif kind == "gilbert":
            p_bg = (0.5, 0.25)[k % 2]
            target = (0.02, 0.05, 0.10)[(k // 2) % 3]
            p_gb = target * p_bg / (1 - target)
            p.update(p_gb=round(p_gb, 5), p_bg=p_bg, onset_s=onset, direction=direction)
            moderate, mag = target >= 0.03, f"loss={target},run={1 / p_bg:.0f}"
        elif kind in ("policer", "shaper"):
            frac = (0.9, 0.75, 0.6, 0.45, 0.3)[k % 5]
            rate = frac * stream_rate_bps(p["framing"], p["frame_interval_ms"])
            if kind == "policer":
                p.update(rate_bps=round(rate), bucket_bytes=(1500, 3000, 6000)[k % 3])
            else:
                p.update(rate_bps=round(rate), queue_bytes=(2000, 6000)[k % 2])
            p.update(onset_s=onset, direction=direction)
            moderate, mag = frac <= 0.75, f"cap={frac:.2f}"
        elif kind == "jitter":
            std = (5.0, 10.0, 20.0, 40.0)[k % 4]
            p.update(std_ms=std, onset_s=onset, direction=direction)
            moderate, mag = std >= 10, f"std={std:g}ms"
        elif kind == "periodic":
            period, drop = ((1.0, 0.2), (2.0, 0.3), (4.0, 1.0), (8.0, 1.0), (10.0, 1.5),
                            (12.0, 2.0))[k % 6]
            # at least five drop windows after the onset: fewer is weak evidence
            p.update(period_s=period, drop_s=drop, phase_s=round(float(rng.uniform(
                0, period)), 2), onset_s=onset, direction=direction,
                duration_s=max(60.0, round(onset + 5.5 * period + 2, 1)))
            moderate, mag = period <= 10, f"period={period:g}"
        elif kind == "cutoff":
            how = k % 3
            if how == 0:
                p.update(after_s=round(float(rng.uniform(10, 40)), 1))
                mag = "after_s"
            per = 20 / p["frame_interval_ms"]  # stop within the call
            if how == 1:
                p.update(after_packets=int(rng.integers(300, 1500) * per))
                mag = "after_packets"
            else:
                p.update(after_bytes=int(rng.integers(30_000, 150_000) * per))
                mag = "after_bytes"
            p.update(direction=("caller_to_callee", "callee_to_caller")[k % 2])
        elif kind == "blocked":
            p = {**{n: v for n, v in p.items() if n in ("framing", "asymmetric_ports")},
                 "duration_s": 20.0, "request_interval_s": (0.5, 1.0)[k % 2],
                 "icmp_unreachable": k % 4 != 3}
            mag = "icmp" if p["icmp_unreachable"] else "silent"
        elif kind == "dtx":
            pass
        elif kind == "codec_change":
            p.update(at_s=round(float(rng.uniform(15, 45)), 1), new_frame_interval_ms=60,
                     frame_interval_ms=20)
        elif kind == "handover":
            p.update(at_s=round(float(rng.uniform(15, 45)), 1),
                     gap_s=round(float(rng.uniform(0.5, 2.0)), 2))
        cases.append(Case(f"{kind}-{k:03d}-{variant}", kind, variant, seed, p, moderate,
                          mag))
    return cases


def _direction_name(src: str | None, sport: int | None, truth: Any) -> str | None:
    """The truth's direction whose sender is ``src:sport`` (or, after a port change, whose
    sender address is ``src``)."""
    for name, d in truth.directions.items():
        if d.src == f"{src}:{sport}":
            return name
    for name, d in truth.directions.items():
        if d.src.rsplit(":", 1)[0] == src:
            return name
    return None


def run_case(case: Case, tmp: str) -> dict[str, Any]:
    from analyzer import read_capture
    from analyzer.simulate.scenarios import simulate_to_file
    from analyzer.verdict import analyze
    path = os.path.join(tmp, f"{case.ident}.pcap")
    t0 = time.perf_counter()
    sim = simulate_to_file(path, kind=case.kind, seed=case.seed, include_packets=False,
                           **case.params)
    t1 = time.perf_counter()
    a = analyze(read_capture(path))
    t2 = time.perf_counter()
    truth = sim.truth
    dirs = {}
    for name, d in truth.directions.items():
        dirs[name] = {"onset_s": d.onset_s, "first_loss_s": d.first_loss_s,
                      "cap_rate_bps": d.cap_rate_bps, "period_s": d.period_s,
                      "cutoff_s": d.cutoff_s, "loss_fraction": d.loss_fraction,
                      "impaired": any(not e.benign for e in d.impairments)}
    findings = []
    for f in a.findings:
        e = f.estimate
        findings.append({
            "pattern": f.pattern, "direction": _direction_name(f.src, f.sport, truth),
            "pvalue": f.pvalue, "score": f.score, "confidence": f.confidence,
            "onset_s": getattr(e, "onset_s", None), "rate_bps": getattr(e, "rate_bps", None),
            "mode": getattr(e, "mode", None), "period_s": getattr(e, "period_s", None),
            "at_s": getattr(e, "at_s", None), "after_packets": getattr(e, "after_packets", None),
            "after_bytes": getattr(e, "after_bytes", None)})
    os.remove(path)
    os.remove(path + ".truth.json")
    return {"verdict": a.verdict, "interference": a.interference,
            "patterns": sorted(set(a.patterns)), "findings": findings,
            "truth": dirs, "blocked": truth.blocked, "sim_s": t1 - t0, "analyze_s": t2 - t1}


def _worker(args: tuple[Case, str]) -> tuple[str, dict[str, Any]]:
    case, tmp = args
    try:
        return case.ident, run_case(case, tmp)
    except Exception as exc:  # a crash is a result too: report it, do not stop the run
        import traceback
        return case.ident, {"error": f"{type(exc).__name__}: {exc}",
                            "traceback": traceback.format_exc()}


def run_all(cases: list[Case], jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        items = [(c, tmp) for c in cases]
        by_id = {c.ident: c for c in cases}
        done = 0
        if jobs > 1:
            import multiprocessing as mp
            with mp.get_context("fork").Pool(jobs) as pool:
                for ident, res in pool.imap_unordered(_worker, items, chunksize=2):
                    by_id[ident].result = res
                    done += 1
                    _progress(done, len(cases))
        else:
            for item in items:
                ident, res = _worker(item)
                by_id[ident].result = res
                done += 1
                _progress(done, len(cases))
    if sys.stderr.isatty():
        sys.stderr.write("\n")


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{done}/{total} calls")
        sys.stderr.flush()


def _errors(values: list[float]) -> dict[str, Any]:
    v = np.abs(np.asarray(values, dtype=np.float64))
    if v.size == 0:
        return {"n": 0}
    return {"n": int(v.size), "median": float(np.median(v)), "p90": float(np.quantile(v, 0.9)),
            "max": float(v.max())}


def evaluate(cases: list[Case], *, per_variant: bool = True) -> dict[str, Any]:
    confusion: dict[str, Counter] = defaultdict(Counter)
    n_kind: Counter = Counter()
    detect = defaultdict(lambda: [0, 0])  # kind -> [right, total]
    detect_mod = defaultdict(lambda: [0, 0])
    by_framing = defaultdict(lambda: [0, 0])  # framing -> moderate [right, total]
    fp_framing = defaultdict(lambda: [0, 0])
    wrong = defaultdict(lambda: [0, 0])
    verdicts: dict[str, Counter] = defaultdict(Counter)
    by_mag: dict[str, Counter] = defaultdict(Counter)
    onset_err, onset_eff_err, onset_within = [], [], []
    within_start, within_effect = [], []
    onset_by_kind = defaultdict(list)
    cap_err, period_err, cut_err, mode_ok = [], [], [], []
    errors = []
    fp = [0, 0]
    timing = []
    for c in cases:
        r = c.result
        if "error" in r:
            errors.append({"case": c.ident, "error": r["error"]})
            continue
        timing.append(r["analyze_s"])
        n_kind[c.kind] += 1
        verdicts[c.kind][r["verdict"]] += 1
        for pat in r["patterns"]:
            confusion[c.kind][pat] += 1
        framing = f"{c.variant}/{c.params.get('frame_interval_ms', 20)}ms"
        if c.kind in BENIGN:
            # a false alarm: a pattern found, or the call made to look deliberate. (A
            # handover whose pauses recur is a damaged call - verdict degraded - with
            # interference none_seen: an ordinary cause, not an alarm.)
            alarm = bool(r["patterns"]) or r["verdict"] == "blocked" or \
                r.get("interference") in ("likely", "possible")
            fp[1] += 1
            fp[0] += alarm
            fp_framing[framing][0] += alarm
            fp_framing[framing][1] += 1
            continue
        exp = EXPECTED[c.kind]
        impaired = {d for d, t in r["truth"].items() if t["impaired"]} or set(r["truth"])
        right = [f for f in r["findings"] if f["pattern"] == exp and (
            f["direction"] in impaired or exp == "blocked_setup")]
        ok = bool(right)
        detect[c.kind][0] += ok
        detect[c.kind][1] += 1
        by_mag[c.kind][(c.magnitude, "hit" if ok else "miss")] += 1
        if c.moderate:
            detect_mod[c.kind][0] += ok
            detect_mod[c.kind][1] += 1
            if c.kind != "blocked":
                by_framing[framing][0] += ok
                by_framing[framing][1] += 1
        bad = set(r["patterns"]) - ALLOWED[c.kind]
        wrong[c.kind][0] += bool(bad)
        wrong[c.kind][1] += 1
        for f in right:
            t = r["truth"].get(f["direction"]) or next(iter(r["truth"].values()))
            if f.get("onset_s") is not None and t["onset_s"] is not None and exp != "cutoff":
                eff = t["first_loss_s"] if t["first_loss_s"] is not None else t["onset_s"]
                onset_err.append(f["onset_s"] - t["onset_s"])
                onset_eff_err.append(f["onset_s"] - eff)
                onset_within.append(abs(f["onset_s"] - t["onset_s"]) <= 1.0 or
                                    abs(f["onset_s"] - eff) <= 1.0)
                within_start.append(abs(f["onset_s"] - t["onset_s"]) <= 1.0)
                onset_by_kind[c.kind].append(onset_within[-1])
                within_effect.append(abs(f["onset_s"] - eff) <= 1.0)
            if exp == "rate_cap" and f.get("rate_bps") and t["cap_rate_bps"]:
                cap_err.append(f["rate_bps"] / t["cap_rate_bps"] - 1)
                if f.get("mode") in ("policing", "shaping"):
                    mode_ok.append(f["mode"] == ("policing" if c.kind == "policer"
                                                 else "shaping"))
            if exp == "periodic_drop" and f.get("period_s") and t["period_s"]:
                period_err.append(f["period_s"] / t["period_s"] - 1)
            if exp == "cutoff" and f.get("at_s") is not None and t["cutoff_s"] is not None:
                cut_err.append(f["at_s"] - t["cutoff_s"])
    out = {
        "calls": sum(n_kind.values()), "per_kind": dict(n_kind),
        "impaired_calls": sum(v for k, v in n_kind.items() if k not in BENIGN),
        "clean_benign_calls": fp[1],
        "false_positive_rate": fp[0] / fp[1] if fp[1] else None,
        "false_positives": fp[0],
        "detection_rate": {k: v[0] / v[1] for k, v in detect.items()},
        "detection_rate_moderate": {k: v[0] / v[1] for k, v in detect_mod.items() if v[1]},
        "moderate_calls": {k: v[1] for k, v in detect_mod.items() if v[1]},
        "wrong_pattern_rate": {k: v[0] / v[1] for k, v in wrong.items()},
        "detection_rate_moderate_by_framing": {k: v[0] / v[1] for k, v in
                                               sorted(by_framing.items())},
        "false_positive_rate_by_framing": {k: v[0] / v[1] for k, v in
                                           sorted(fp_framing.items())},
        "confusion": {k: {p: confusion[k][p] / n_kind[k] for p in PATTERNS}
                      for k in n_kind},
        "verdicts": {k: dict(v) for k, v in verdicts.items()},
        "by_magnitude": {k: {f"{m} {h}": n for (m, h), n in sorted(v.items())}
                         for k, v in by_mag.items()},
        "onset_error_s": _errors(onset_err),
        "onset_error_vs_first_effect_s": _errors(onset_eff_err),
        "onset_within_1s": float(np.mean(onset_within)) if onset_within else None,
        "onset_within_1s_of_start": float(np.mean(within_start)) if within_start else None,
        "onset_within_1s_by_kind": {k: float(np.mean(v)) for k, v in onset_by_kind.items()},
        "onset_within_1s_of_first_effect": float(np.mean(within_effect))
        if within_effect else None,
        "cap_relative_error": _errors(cap_err),
        "cap_within_15pct": float(np.mean(np.abs(cap_err) <= 0.15)) if cap_err else None,
        "policing_vs_shaping_correct": float(np.mean(mode_ok)) if mode_ok else None,
        "period_relative_error": _errors(period_err),
        "period_within_10pct": float(np.mean(np.abs(period_err) <= 0.10))
        if period_err else None,
        "cutoff_time_error_s": _errors(cut_err),
        "analyze_s_median": float(np.median(timing)) if timing else None,
        "errors": errors,
    }
    if per_variant:
        out["per_variant"] = {v: variant_figures(v, evaluate(
            [c for c in cases if c.variant == v], per_variant=False))
            for v in dict.fromkeys(c.variant for c in cases)}
    return out


def variant_figures(variant: str, s: dict[str, Any]) -> dict[str, Any]:
    """One variant's figures against the bars: false alarms, moderate detection per
    scenario (excluded scenarios apart, with their reason), cap and period accuracy."""
    misses = []
    fa = s["false_positive_rate"]
    if fa is not None and fa > MAX_FALSE_ALARMS:
        misses.append(f"false alarms {fa:.1%} > {MAX_FALSE_ALARMS:.0%}")
    excluded = {k: why for (v, k), why in EXCLUDED.items() if v == variant}
    for k, rate in s["detection_rate_moderate"].items():
        if k not in excluded and rate < MIN_MODERATE_DETECTION:
            misses.append(f"{k} moderate detection {rate:.1%} < "
                          f"{MIN_MODERATE_DETECTION:.0%}")
    for name, within, bar in (("cap", "cap_within_15pct", MIN_CAP_WITHIN),
                              ("period", "period_within_10pct", MIN_PERIOD_WITHIN)):
        if s[within] is not None and s[within] < bar:
            misses.append(f"{name} estimates within bound {s[within]:.1%} < {bar:.0%}")
    return {"clean_benign_calls": s["clean_benign_calls"],
            "false_positives": s["false_positives"], "false_positive_rate": fa,
            "detection_rate": s["detection_rate"],
            "detection_rate_moderate": s["detection_rate_moderate"],
            "moderate_calls": s["moderate_calls"],
            "wrong_pattern_rate": s["wrong_pattern_rate"],
            "cap_within_15pct": s["cap_within_15pct"],
            "period_within_10pct": s["period_within_10pct"],
            "excluded": excluded, "misses": misses, "meets_bars": not misses}


def print_report(s: dict[str, Any], out: Any = sys.stdout) -> None:
    w = out.write
    kinds = list(s["confusion"])
    w("confusion matrix: share of calls of each scenario (rows) showing each pattern\n")
    short = {"loss": "loss", "burst_loss": "burst", "periodic_drop": "period",
             "rate_cap": "cap", "jitter": "jitter", "cutoff": "cutoff",
             "blocked_setup": "blocked", "metallic_risk": "metal"}
    w(f"{'scenario':14s}{'n':>5s}" + "".join(f"{short[p]:>9s}" for p in PATTERNS)
      + f"{'flagged':>9s}\n")
    for k in kinds:
        n = s["per_kind"][k]
        v = s["verdicts"][k]
        flagged = (v.get("degraded", 0) + v.get("blocked", 0)) / n
        w(f"{k:14s}{n:5d}" + "".join(f"{s['confusion'][k][p]:9.2f}" for p in PATTERNS)
          + f"{flagged:9.2f}\n")
    w("\ndetection with the right pattern (all magnitudes / moderate) and wrong-pattern rate\n")
    for k, v in s["detection_rate"].items():
        m = s["detection_rate_moderate"].get(k)
        w(f"  {k:12s} {v:6.1%}   moderate {'-' if m is None else f'{m:6.1%}'}   "
          f"wrong pattern {s['wrong_pattern_rate'][k]:6.1%}\n")
    w("  moderate impairments by framing: " + ", ".join(
        f"{k} {v:.1%}" for k, v in s["detection_rate_moderate_by_framing"].items()) + "\n")
    w(f"\nclean and benign calls flagged: {s['false_positives']}/{s['clean_benign_calls']} "
      f"= {s['false_positive_rate']:.2%} (by framing: " + ", ".join(
          f"{k} {v:.1%}" for k, v in s["false_positive_rate_by_framing"].items()) + ")\n")
    w(f"onset error vs impairment start (s): {s['onset_error_s']}\n")
    w(f"onset error vs first visible effect (s): {s['onset_error_vs_first_effect_s']}\n")
    w(f"onset within 1 s: of the start or the first effect {s['onset_within_1s']:.3f}, of "
      f"the start {s['onset_within_1s_of_start']:.3f}, of the first effect "
      f"{s['onset_within_1s_of_first_effect']:.3f}\n")
    w("  by scenario: " + ", ".join(f"{k} {v:.1%}" for k, v in
                                   s["onset_within_1s_by_kind"].items()) + "\n")
    w(f"cap relative error: {s['cap_relative_error']}; within 15 %: {s['cap_within_15pct']}\n")
    w(f"policing/shaping told right: {s['policing_vs_shaping_correct']}\n")
    w(f"period relative error: {s['period_relative_error']}; within 10 %: "
      f"{s['period_within_10pct']}\n")
    w(f"cut-off time error (s): {s['cutoff_time_error_s']}\n")
    w(f"median analysis time per call: {s['analyze_s_median']:.3f} s\n")
    if s.get("per_variant"):
        print_variants(s["per_variant"], out)
    if s["errors"]:
        w(f"ERRORS: {len(s['errors'])}: {s['errors'][:3]}\n")


def print_variants(pv: dict[str, dict[str, Any]], out: Any = sys.stdout) -> None:
    """Per variant: false alarms, moderate detection per scenario, cap and period within
    their bounds, and whether the bars are met (``*`` a miss, ``x`` excluded)."""
    w = out.write
    kinds = list(dict.fromkeys(k for v in pv.values() for k in v["detection_rate_moderate"]))
    w(f"\nper variant (bars: false alarms <= {MAX_FALSE_ALARMS:.0%}, moderate detection >= "
      f"{MIN_MODERATE_DETECTION:.0%} per scenario, cap within {CAP_WITHIN:.0%} and period "
      f"within {PERIOD_WITHIN:.0%} for >= {MIN_CAP_WITHIN:.0%}; * a miss, x excluded)\n")
    w(f"{'variant':14s}{'false alarms':>16s}" + "".join(f"{k[:9]:>10s}" for k in kinds)
      + f"{'cap15':>8s}{'period10':>9s}  bars\n")
    for name, v in pv.items():
        fa = v["false_positive_rate"]
        cell = "-" if fa is None else (f"{v['false_positives']}/{v['clean_benign_calls']} "
                                       f"{fa:.1%}")
        row = f"{name:14s}{cell:>15s}{'*' if fa is not None and fa > MAX_FALSE_ALARMS else ' '}"
        for k in kinds:
            r = v["detection_rate_moderate"].get(k)
            mark = "x" if k in v["excluded"] else (
                "*" if r is not None and r < MIN_MODERATE_DETECTION else " ")
            row += f"{'-' if r is None else f'{r:.0%}':>9s}{mark}"
        for key, bar in (("cap_within_15pct", MIN_CAP_WITHIN),
                         ("period_within_10pct", MIN_PERIOD_WITHIN)):
            x = v[key]
            mark = "*" if x is not None and x < bar else " "
            row += f"{'-' if x is None else f'{x:.0%}':>7s}{mark}"
        w(row + ("  met" if v["meets_bars"] else "  MISSED") + "\n")
    for name, v in pv.items():
        for k, why in v["excluded"].items():
            r = v["detection_rate_moderate"].get(k)
            w(f"  excluded {name}/{k} (moderate detection {'-' if r is None else f'{r:.0%}'}): "
              f"{why}\n")
        for m in v["misses"]:
            w(f"  MISSED {name}: {m}\n")
    by_reason: dict[str, list[str]] = {}
    for (name, k), why in NOTES.items():
        if name in pv:
            by_reason.setdefault(why, []).append(f"{name}/{k}")
    for why, where in by_reason.items():
        w(f"  note on {', '.join(where)}: {why}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Accuracy of analyzer's detectors on "
                                 "simulated calls with ground truth")
    ap.add_argument("--quick", action="store_true", help="a small run (CI)")
    ap.add_argument("-o", "--output", default="reports/accuracy.json",
                    help="JSON summary (default reports/accuracy.json)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--only", help="comma-separated scenario kinds to run")
    ap.add_argument("--variants", help="comma-separated variants to run (default all: "
                    f"{', '.join(VARIANTS)})")
    args = ap.parse_args(argv)
    variants = args.variants.split(",") if args.variants else list(VARIANTS)
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(sorted(unknown))}")
    cases = build_cases(args.quick, variants)
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c.kind in keep]
    t0 = time.perf_counter()
    run_all(cases, args.jobs)
    summary = evaluate(cases)
    summary["wall_s"] = time.perf_counter() - t0
    summary["quick"] = args.quick
    print_report(summary)
    if args.output:
        os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump({"summary": summary, "cases": [
                {"id": c.ident, "kind": c.kind, "variant": c.variant, "seed": c.seed,
                 "params": c.params,
                 "moderate": c.moderate, "magnitude": c.magnitude, **c.result}
                for c in cases]}, fh, indent=1, default=str)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
