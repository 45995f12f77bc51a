"""Verdicts on the real-kernel lab captures against captures/lab/expected.json.

    python benchmarks/lab_verdicts.py                      # every scenario x variant
    python benchmarks/lab_verdicts.py --baseline           # also with the clean baseline
    python benchmarks/lab_verdicts.py police16 shape24 -o results.json

For every scenario of expected.json and each of its variants (``plain``: the recorded pcap,
with SIP where the scenario has it; ``nosip``: SIP removed; ``opaque``: SIP removed and
every UDP payload replaced, see captures/lab/opaque.py, generated into
captures/lab/variants/ when missing) this runs ``analyzer.analyze(receiver pcap)`` and,
with ``--baseline``, ``analyzer.analyze(receiver pcap, baseline=clean receiver pcap of the
same variant)`` (not for ``clean`` itself nor ``blocked``). ``cutboth`` is also analysed
on the A-side (sender) capture, where its B -> A cut is visible.

Columns (PASS / FAIL / ``-`` when the scenario has no such expectation):
verdict; ``a->b`` / ``b->a``: the patterns found on that direction's streams contain the
expected ones and nothing beyond them and ``allowed_extra`` (a clean direction must have
no finding); ``cap``: ``blocked_setup`` found when expected; ``rate``: a rate_cap finding's
``estimate.rate_bps`` within 20 % of the IP-layer cap; ``period``: a periodic_drop
finding's ``estimate.period_s`` within 10 %; ``onset``: the earliest start of the expected
patterns' findings within 0.5 s of the truth's first visible effect (``onset_s``) or of
the impairment's start (``impairment_start_s``); ``benign``: the
expected confounder kinds among the calls' confounders; ``calls``: the number of calls.
A finding's direction: its destination is one of B's addresses -> a->b, of A's -> b->a.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "captures" / "lab"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(LAB))

import opaque  # noqa: E402  (captures/lab/opaque.py)

import analyzer  # noqa: E402

A_HOSTS = {"10.77.0.1", "10.77.0.3", "fd00::1"}
B_HOSTS = {"10.77.0.2", "fd00::2"}
COLS = ("verdict", "a->b", "b->a", "cap", "rate", "period", "onset", "benign", "calls")


def variant_path(s: str, variant: str, side: str, vdir: Path) -> Path:
    if variant == "plain":
        return LAB / f"{s}-{side}.pcap"
    p = vdir / f"{s}-{variant}-{side}.pcap"
    if not p.exists():
        opaque.make(s, variant, LAB, vdir)
    return p


def direction(f: dict) -> str | None:
    if f.get("stream") is None or f["pattern"] == "blocked_setup":  # capture-level
        return None
    if f.get("dst") in B_HOSTS:
        return "a_to_b"
    if f.get("dst") in A_HOSTS:
        return "b_to_a"
    return None


def judge(exp: dict, a, side: str = "receiver") -> dict:
    findings = [f.to_dict() for f in a.findings]
    pats = {"a_to_b": set(), "b_to_a": set()}
    for f in findings:
        d = direction(f)
        if d:
            pats[d].add(f["pattern"])
    exp_p = exp["sender"]["patterns"] if side == "sender" else exp["patterns"]
    extra = set(exp["allowed_extra"])
    r: dict[str, str] = {}
    r["verdict"] = "PASS" if a.verdict == exp["verdict"] else "FAIL"
    for col, d in (("a->b", "a_to_b"), ("b->a", "b_to_a")):
        want = set(exp_p[d])
        ok = want <= pats[d] and pats[d] <= want | (extra if want else set())
        r[col] = "PASS" if ok else "FAIL"
    got_cap = {f["pattern"] for f in findings if direction(f) is None}
    r["cap"] = ("-" if not exp["capture_patterns"] else
                "PASS" if set(exp["capture_patterns"]) <= got_cap | set(a.patterns) else "FAIL")
    main_dir = next((d for d in ("a_to_b", "b_to_a") if exp_p[d]), None)
    mine = [f for f in findings if main_dir and direction(f) == main_dir]
    got_rate = next((f["estimate"].get("rate_bps") for f in mine
                     if f["pattern"] == "rate_cap"), None)
    got_period = next((f["estimate"].get("period_s") for f in mine
                       if f["pattern"] == "periodic_drop"), None)
    if exp["rate_bps"] and side == "receiver":
        r["rate"] = ("PASS" if got_rate and abs(got_rate / exp["rate_bps"] - 1) <= 0.2
                     else "FAIL")
    else:
        r["rate"] = "-"
    if exp["period_s"] and side == "receiver":
        r["period"] = ("PASS" if got_period and abs(got_period / exp["period_s"] - 1) <= 0.1
                       else "FAIL")
    else:
        r["period"] = "-"
    want_onset = exp["sender"]["onset_s"] if side == "sender" else exp["onset_s"]
    starts = [f["start_s"] for f in mine if f["pattern"] in exp_p.get(main_dir or "", [])
              and f["start_s"] is not None]
    got_onset = min(starts) if starts else None
    alt = None if side == "sender" else exp.get("impairment_start_s")
    if want_onset is not None:
        r["onset"] = ("PASS" if got_onset is not None and min(
            abs(got_onset - x) for x in (want_onset, alt) if x is not None) <= 0.5
            else "FAIL")
    else:
        r["onset"] = "-"
    kinds = {c.kind for call in a.calls for c in call.confounders}
    r["benign"] = ("-" if not exp["benign"] else
                   "PASS" if set(exp["benign"]) <= kinds else "FAIL")
    r["calls"] = "PASS" if len(a.calls) == exp["calls"] else "FAIL"
    got = {"verdict": a.verdict, "a_to_b": sorted(pats["a_to_b"]),
           "b_to_a": sorted(pats["b_to_a"]), "capture": sorted(got_cap),
           "rate_bps": got_rate, "period_s": got_period, "onset_s": got_onset,
           "benign": sorted(kinds), "calls": len(a.calls)}
    return {"cols": r, "got": got}


def fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    if isinstance(x, (list, set, tuple)):
        return ",".join(map(str, x)) or "{}"
    return str(x)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--baseline", action="store_true",
                    help="also analyse with the clean scenario's receiver pcap as baseline")
    ap.add_argument("--variants", default="plain,nosip,opaque")
    ap.add_argument("--variants-dir", type=Path, default=LAB / "variants")
    ap.add_argument("-o", "--output", type=Path, help="write every row as JSON")
    args = ap.parse_args()
    expected = json.loads((LAB / "expected.json").read_text())
    names = args.scenarios or list(expected)
    want_v = args.variants.split(",")
    rows = []
    for s in names:
        exp = expected[s]
        for v in [x for x in exp["variants"] if x in want_v]:
            runs = [("receiver", None)]
            if "sender" in exp:
                runs.append(("sender", None))
            if args.baseline and s not in ("clean", "blocked"):
                runs.append(("receiver", "clean"))
            for side, base in runs:
                path = variant_path(s, v, side, args.variants_dir)
                bpath = (variant_path(base, v if v in expected[base]["variants"] else "plain",
                                      "receiver", args.variants_dir) if base else None)
                t = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        a = analyzer.analyze(path, baseline=bpath)
                        res = judge(exp, a, side)
                    except Exception as e:
                        res = {"cols": {c: "FAIL" for c in COLS},
                               "got": {"error": f"{type(e).__name__}: {e}"}}
                label = s + (" [A-side]" if side == "sender" else "") + (
                    " +base" if base else "")
                rows.append({"scenario": s, "label": label, "variant": v, "side": side,
                             "baseline": base, "expected": exp, **res,
                             "seconds": round(time.perf_counter() - t, 2)})
                g = res["got"]
                print(f"{label:24} {v:7} " + " ".join(
                    f"{c}={res['cols'][c]}" for c in COLS if res["cols"][c] != "-")
                    + f"  | got {g.get('verdict', g.get('error'))} "
                    f"ab={fmt(g.get('a_to_b'))} ba={fmt(g.get('b_to_a'))}", flush=True)

    # the table
    print()
    hdr = (f"{'scenario':24} {'variant':7} {'exp verdict':11} {'got':12} "
           f"{'exp a->b / b->a':26} {'got a->b / b->a':40} {'rate exp/got':17} "
           f"{'period':11} {'onset exp/got':14} {'benign exp/got':28} "
           + " ".join(f"{c[:6]:6}" for c in COLS))
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        e, g, c = r["expected"], r["got"], r["cols"]
        ep = e["sender"]["patterns"] if r["side"] == "sender" else e["patterns"]
        eo = e["sender"]["onset_s"] if r["side"] == "sender" else e["onset_s"]
        print(f"{r['label']:24} {r['variant']:7} {e['verdict']:11} "
              f"{fmt(g.get('verdict', 'ERROR')):12} "
              f"{fmt(ep['a_to_b']) + ' / ' + fmt(ep['b_to_a']):26} "
              f"{fmt(g.get('a_to_b')) + ' / ' + fmt(g.get('b_to_a')):40} "
              f"{fmt(e['rate_bps']) + '/' + fmt(g.get('rate_bps')):17} "
              f"{fmt(e['period_s']) + '/' + fmt(g.get('period_s')):11} "
              f"{fmt(eo) + '/' + fmt(g.get('onset_s')):14} "
              f"{fmt(e['benign']) + '/' + fmt(g.get('benign')):28} "
              + " ".join(f"{c[k]:6}" for k in COLS))
    print()
    tot = {k: [sum(r["cols"][k] == "PASS" for r in rows),
               sum(r["cols"][k] != "-" for r in rows)] for k in COLS}
    all_pass = sum(all(v != "FAIL" for v in r["cols"].values()) for r in rows)
    print("totals: " + ", ".join(f"{k} {p}/{n}" for k, (p, n) in tot.items())
          + f"; rows passing every column {all_pass}/{len(rows)}")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
