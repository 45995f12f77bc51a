"""Regenerate the embedded default profile, ``analyzer/baseline/default_profile.json``.

    python -m analyzer.baseline.defaultgen            # writes the packaged file
    python -m analyzer.baseline.defaultgen -o x.json  # somewhere else

What goes in (all from the project's simulator, :mod:`analyzer.simulate`, seeds
``SEED0 ..``): ``CALLS`` clean two-way calls of 60 s, cycling through the framings
(WhatsApp-like, Telegram-like, plain RTP, RTP with SIP/SDP) and the packet times 20 ms
(three calls in four) and 60 ms; every fourth call with silence suppression (the
simulator's default DTX pattern); per call a one-way delay drawn uniformly from
20-150 ms and a clean-path jitter (standard deviation of the per-packet transit) drawn
log-uniformly from 0.5-8 ms - from a quiet wired path to a busy mobile one. The numbers
are the project's choice of "realistic", not measurements: build a profile from your own
clean captures (``analyzer baseline build``) for anything that matters.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator

import numpy as np

from analyzer.baseline.profile import DEFAULT_PROFILE_FILE, Profile, build_profile

CALLS = 96
SEED0 = 910_000
FRAMINGS = ("whatsapp", "telegram", "rtp", "rtp_sdp")
JITTER_MS = (0.5, 8.0)
DELAY_MS = (20.0, 150.0)


def call_params(k: int) -> tuple[str, dict]:
    """Scenario and parameters of the ``k``-th call of the default profile."""
    rng = np.random.default_rng([SEED0, k])
    lo, hi = np.log(JITTER_MS)
    params = {
        "framing": FRAMINGS[k % len(FRAMINGS)],
        "frame_interval_ms": 60 if k % 4 == 3 else 20,
        "jitter_std_ms": round(float(np.exp(rng.uniform(lo, hi))), 3),
        "one_way_delay_ms": round(float(rng.uniform(*DELAY_MS)), 1),
        "duration_s": 60.0,
    }
    return ("dtx" if k % 4 == 1 else "clean"), params


def _captures(directory: str, calls: int) -> Iterator[str]:
    from analyzer.simulate.scenarios import simulate_to_file
    for k in range(calls):
        kind, params = call_params(k)
        path = os.path.join(directory, f"profile-{k:03d}.pcap")
        simulate_to_file(path, kind=kind, seed=SEED0 + k, include_packets=False, **params)
        yield path


def make_default_profile(calls: int = CALLS) -> Profile:
    with tempfile.TemporaryDirectory() as tmp:
        return build_profile(
            _captures(tmp, calls),
            description=f"{calls} simulated clean calls, jitter {JITTER_MS[0]}-{JITTER_MS[1]} "
                        "ms, 20/60 ms packets, a quarter with DTX",
            provenance={"generator": "python -m analyzer.baseline.defaultgen",
                        "calls": calls, "seed0": SEED0, "framings": list(FRAMINGS),
                        "jitter_std_ms": list(JITTER_MS), "one_way_delay_ms": list(DELAY_MS)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=os.path.join(os.path.dirname(__file__),
                                                           DEFAULT_PROFILE_FILE))
    ap.add_argument("--calls", type=int, default=CALLS)
    args = ap.parse_args(argv)
    prof = make_default_profile(args.calls)
    prof.save(args.output)
    print(f"wrote {args.output}: {prof.streams} streams of {prof.calls} calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
