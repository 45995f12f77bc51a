"""Regenerate the embedded default profile, ``analyzer/baseline/default_profile.json``.

    python -m analyzer.baseline.defaultgen            # writes the packaged file
    python -m analyzer.baseline.defaultgen -o x.json  # somewhere else
    python -m analyzer.baseline.defaultgen --no-lab   # simulated calls only

What goes in:

1. **Real calls recorded through the Linux kernel** by the project itself
   (``captures/lab``, see its README: GStreamer Opus/RTP between two network
   namespaces, captured with tcpdump on both ends, no impairment): the receiver and the
   sender capture of each clean scenario in ``LAB_SCENARIOS`` - ``clean`` (20 ms),
   ``clean60`` (60 ms), ``sdp`` (with SIP/SDP), ``asym`` (asymmetric ports), ``ipv6``,
   ``stun`` and ``turn`` (ICE / a relay), ``frames60dtx`` (60 ms with DTX) and
   ``codecchange`` (20 -> 60 ms mid-call). Their path is a kernel bridge: real packet
   timing and cadence of a real encoder, but almost no jitter: they count for bit
   rate, inter-arrival, loss and packet times, not for jitter and delay (a path nobody
   calls over would make the jitter test blind). Left out when the
   directory is missing (an installed package) or with ``--no-lab``; the provenance
   lists the files used.
2. **Simulated clean calls** (:mod:`analyzer.simulate`, seeds ``SEED0 ..``): ``CALLS``
   two-way calls of 60 s cycling through the codec families of ``FAMILIES`` - WhatsApp
   Opus at 10-25 kbit/s (20 and 60 ms), Telegram Opus with 60 ms (and 20 ms) frames,
   WebRTC Opus (20 and 40 ms, with and without SIP/SDP), G.711 mu-law and A-law, G.722,
   AMR-NB and AMR-WB - so that each family's own cadence and bit rate is in the profile;
   every other call of a family with silence suppression (the simulator's default DTX
   pattern: DTX on and off); per call a one-way delay drawn uniformly from 20-150 ms and a
   clean-path jitter (standard deviation of the per-packet transit) drawn log-uniformly
   from 0.5-8 ms - from a quiet wired path to a busy mobile one. These numbers are the
   project's choice of "realistic", not measurements.

The profile replaces the earlier one built from 96 simulated Opus calls at 40-60 kbit/s
only, against which a clean call of another codec read as "outside the profile's bit
rate". Build a profile from your own clean captures (``analyzer baseline build``) for
anything that matters.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from analyzer.baseline.profile import DEFAULT_PROFILE_FILE, Profile, build_profile

CALLS = 144
SEED0 = 910_000
JITTER_MS = (0.5, 8.0)
DELAY_MS = (20.0, 150.0)
#: Codec families: name -> CallSpec parameters (framing, packet time, codec bytes per
#: packet, payload type, RTP clock).
FAMILIES: dict[str, dict[str, Any]] = {
    "whatsapp_opus_20": {"framing": "whatsapp", "frame_interval_ms": 20,
                         "payload_bytes": (25, 62)},
    "whatsapp_opus_60": {"framing": "whatsapp", "frame_interval_ms": 60,
                         "payload_bytes": (75, 186)},
    "telegram_opus_60": {"framing": "telegram", "frame_interval_ms": 60,
                         "payload_bytes": (120, 240)},
    "telegram_opus_20": {"framing": "telegram", "frame_interval_ms": 20},
    "webrtc_opus_20": {"framing": "rtp", "frame_interval_ms": 20},
    "sip_opus_20": {"framing": "rtp_sdp", "frame_interval_ms": 20},
    "webrtc_opus_40": {"framing": "rtp", "frame_interval_ms": 40},
    "g711u": {"framing": "rtp_sdp", "frame_interval_ms": 20, "payload_bytes": (160, 160),
              "payload_type": 0, "clock_rate_hz": 8000},
    "g711a": {"framing": "rtp", "frame_interval_ms": 20, "payload_bytes": (160, 160),
              "payload_type": 8, "clock_rate_hz": 8000},
    "g722": {"framing": "rtp_sdp", "frame_interval_ms": 20, "payload_bytes": (160, 160),
             "payload_type": 9, "clock_rate_hz": 8000},
    "amr_nb": {"framing": "rtp", "frame_interval_ms": 20, "payload_bytes": (14, 33),
               "payload_type": 97, "clock_rate_hz": 8000},
    "amr_wb": {"framing": "rtp", "frame_interval_ms": 20, "payload_bytes": (19, 62),
               "payload_type": 98, "clock_rate_hz": 16000},
}
#: Clean lab scenarios (captures/lab/<name>-receiver.pcap and -sender.pcap).
LAB_SCENARIOS = ("clean", "clean60", "sdp", "asym", "ipv6", "stun", "turn", "frames60dtx",
                 "codecchange")
LAB_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "captures",
                                        "lab"))


def call_params(k: int) -> tuple[str, dict]:
    """Scenario and parameters of the ``k``-th simulated call of the default profile."""
    rng = np.random.default_rng([SEED0, k])
    lo, hi = np.log(JITTER_MS)
    names = list(FAMILIES)
    family = names[k % len(names)]
    params = dict(FAMILIES[family])
    params.update({
        "jitter_std_ms": round(float(np.exp(rng.uniform(lo, hi))), 3),
        "one_way_delay_ms": round(float(rng.uniform(*DELAY_MS)), 1),
        "duration_s": 60.0,
    })
    dtx = (k // len(names)) % 2 == 1
    return ("dtx" if dtx else "clean"), params


def lab_captures(directory: str = LAB_DIR) -> list[str]:
    """The clean lab captures present in ``directory``, in a fixed order."""
    out = []
    for name in LAB_SCENARIOS:
        for side in ("receiver", "sender"):
            p = os.path.join(directory, f"{name}-{side}.pcap")
            if os.path.isfile(p):
                out.append(p)
    return out


def _captures(directory: str, calls: int) -> Iterator[str]:
    from analyzer.simulate.scenarios import simulate_to_file
    for k in range(calls):
        kind, params = call_params(k)
        path = os.path.join(directory, f"profile-{k:03d}.pcap")
        simulate_to_file(path, kind=kind, seed=SEED0 + k, include_packets=False, **params)
        yield path


def make_default_profile(calls: int = CALLS, *, lab: bool = True) -> Profile:
    files = lab_captures() if lab else []
    with tempfile.TemporaryDirectory() as tmp:
        return build_profile(
            _captures(tmp, calls), cadence_only=files,
            description=f"{len(files)} clean lab captures (real kernel, Opus 20/60 ms) and "
                        f"{calls} simulated clean calls of {len(FAMILIES)} codec families "
                        "(WhatsApp/Telegram/WebRTC Opus, G.711, G.722, AMR; 20/40/60 ms; "
                        f"DTX on and off), jitter {JITTER_MS[0]}-{JITTER_MS[1]} ms",
            provenance={"generator": "python -m analyzer.baseline.defaultgen",
                        "lab_captures": [os.path.basename(p) for p in files],
                        "calls": calls, "seed0": SEED0,
                        "families": {k: {a: list(b) if isinstance(b, tuple) else b
                                         for a, b in v.items()}
                                     for k, v in FAMILIES.items()},
                        "dtx": "every other call of each family",
                        "jitter_std_ms": list(JITTER_MS), "one_way_delay_ms": list(DELAY_MS)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=os.path.join(os.path.dirname(__file__),
                                                           DEFAULT_PROFILE_FILE))
    ap.add_argument("--calls", type=int, default=CALLS)
    ap.add_argument("--no-lab", action="store_true",
                    help="leave out the lab captures (simulated calls only)")
    args = ap.parse_args(argv)
    prof = make_default_profile(args.calls, lab=not args.no_lab)
    prof.save(args.output)
    print(f"wrote {args.output}: {prof.streams} streams of {prof.calls} calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
