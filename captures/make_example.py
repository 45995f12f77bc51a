"""Write the bundled example captures (made by this project's own simulator, not real calls).

    python captures/make_example.py

* ``example-call.pcap``: a 40 s WhatsApp-like two-way call (RTP with a header extension to
  a relay on UDP 3478, STUN keep-alives). From 15 s on, the caller→callee direction loses
  every packet in a 0.4 s window every 2 s: the "intermittent sound" pattern.
* ``example-baseline.pcap``: the same call, same seed, with no impairment: the baseline
  (as if recorded over a VPN).

Each comes with ``<name>.truth.json`` (what was done to it), so the analysis can be checked.
"""

from __future__ import annotations

from pathlib import Path

from analyzer.simulate.scenarios import simulate_to_file

HERE = Path(__file__).resolve().parent
COMMON = {"duration_s": 40.0, "framing": "whatsapp"}


def main() -> None:
    simulate_to_file(HERE / "example-call.pcap", kind="periodic", seed=7, period_s=2.0,
                     drop_s=0.4, onset_s=15.0, direction="caller_to_callee",
                     include_packets=False, **COMMON)
    simulate_to_file(HERE / "example-baseline.pcap", kind="clean", seed=7,
                     include_packets=False, **COMMON)
    print(f"wrote {HERE / 'example-call.pcap'} and {HERE / 'example-baseline.pcap'}")


if __name__ == "__main__":
    main()
