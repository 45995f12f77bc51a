"""The full simulated campaign: 3 ISPs x 2 apps x 10 days x 20 calls, isp-b capping WhatsApp
at 24 kbit/s from day 4; run the batch and check what the population statistics recover.

    PYTHONPATH=. python benchmarks/campaign.py [--out DIR] [--workers 2] [--null]

``--null`` runs the campaign without throttling (no group may be flagged). Prints what was
found against the truth; exits 1 when it is not recovered. The batch output (with
summary.pdf) stays in ``--out`` (default a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer.batch import run_batch
from analyzer.simulate.campaign import make_campaign


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--null", action="store_true")
    a = ap.parse_args()
    root = Path(a.out or tempfile.mkdtemp(prefix="campaign-"))
    t = time.perf_counter()
    c = make_campaign(root / "calls", duration_s=a.duration,
                      throttled=None if a.null else ("isp-b", "whatsapp"))
    made = time.perf_counter() - t
    t = time.perf_counter()
    r = run_batch([str(root / "calls" / "**" / "*.pcap")], root / "out",
                  meta_from_path="{isp}/{app}/{date}/*.pcap", workers=a.workers)
    took = time.perf_counter() - t
    pop = r.population
    assert pop is not None
    report: dict[str, object] = {"truth": c.to_dict(), "calls": r.calls,
                                 "simulate_s": round(made, 1), "batch_s": round(took, 1),
                                 "calls_per_min": round(60 * r.calls / took, 1),
                                 "flagged": [g.to_dict() for g in pop.flagged],
                                 "summary": str(root / "out" / "summary.pdf")}
    ok = True
    if a.null:
        ok = not pop.flagged
    else:
        hits = [g for g in pop.flagged if g.keys["isp"] == "isp-b"
                and g.keys["app"] == "whatsapp"]
        others = [g for g in pop.flagged if g not in hits]
        rate = hits[0].cap_rate_bps if hits else None
        onsets = {g.onset.day for g in hits if g.onset is not None}
        ok = bool(hits) and not others and rate is not None \
            and abs(rate - c.rate_bps) <= 0.15 * c.rate_bps \
            and onsets == {c.throttle_from_day}
        report.update(cap_rate_bps=rate, onset_days=sorted(onsets))
    report["recovered"] = ok
    print(json.dumps(report, indent=1, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
