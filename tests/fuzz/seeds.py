"""Seed captures for the fuzzer: short cuts of the project's own captures and simulated calls.

Short seeds keep ``analyze`` fast (a few hundred packets, a few seconds of call), so a run
covers thousands of inputs a minute. Every seed is built in memory from files of this
repository (or the simulator); public captures are read from beside the repository and
referenced by path, never copied.
"""

from __future__ import annotations

import io

from tests.fuzz.mutate import Seed, first_records, parse_layout, pcap_to_pcapng
from tests.support.paths import PUBLIC, REPO, public_captures

CAPTURES = REPO / "captures"
#: Records kept of each project capture (the example call: 400 records, about 4 s).
SEED_RECORDS = 400
#: Lab receiver captures used as seeds (each cut to SEED_RECORDS).
LAB_SEEDS = ("clean60", "loss5", "cutoff", "periodic", "ratecap", "sdp")
#: Simulated scenarios (6 s calls) and their parameters: impairments start early enough
#: to show inside the short call.
SIM_SEEDS: dict[str, dict[str, object]] = {
    "clean": {},
    "bernoulli": {"onset_s": 2.0, "p": 0.1},
    "cutoff": {"after_s": 3.0},
    "periodic": {"period_s": 2.0, "drop_s": 0.4},
    "blocked": {},
}
SIM_DURATION_S = 6.0
SIM_SEED = 7
#: Public captures larger than this are not used as seeds (they are cut anyway).
PUBLIC_MAX_BYTES = 400_000


def cut(data: bytes, n: int) -> bytes:
    """The first ``n`` records (pcap) or blocks (pcapng) of a capture."""
    lay = parse_layout(data)
    if lay is None:
        raise ValueError("not a pcap or pcapng file")
    if lay.fmt == "pcap":
        return first_records(data, n)
    return b"".join(lay.blocks[:n])


def simulated(kind: str, **params: object) -> bytes:
    """A short simulated call as pcap bytes (what ``simulate_to_file`` writes, in memory)."""
    from analyzer.simulate.pcapwriter import write_pcap
    from analyzer.simulate.scenarios import simulate_scenario

    sim = simulate_scenario(kind, seed=SIM_SEED, duration_s=SIM_DURATION_S, **params)
    buf = io.BytesIO()
    write_pcap(buf, sim.ts_ns, sim.frames)
    return buf.getvalue()


def project_seeds(records: int = SEED_RECORDS) -> list[Seed]:
    """The seed list of the fast and the long run (deterministic: same bytes every run)."""
    seeds: list[Seed] = []
    example = cut((CAPTURES / "example-call.pcap").read_bytes(), records)
    seeds.append(Seed(f"example-call[:{records}]", example))
    seeds.append(Seed(f"example-call[:{records}]", example, gz=True))
    seeds.append(Seed(f"example-call[:{records}].pcapng", pcap_to_pcapng(example)))
    for lab in LAB_SEEDS:
        data = cut((CAPTURES / "lab" / f"{lab}-receiver.pcap").read_bytes(), records)
        seeds.append(Seed(f"lab/{lab}-receiver[:{records}]", data))
    for kind, params in SIM_SEEDS.items():
        data = simulated(kind, **params)
        seeds.append(Seed(f"sim-{kind}", data))
        if kind in ("clean", "bernoulli"):
            seeds.append(Seed(f"sim-{kind}.pcapng", pcap_to_pcapng(data, nanosecond=True)))
            seeds.append(Seed(f"sim-{kind}", data, gz=True))
    return seeds


def public_seed(rel: str, records: int = SEED_RECORDS) -> Seed:
    """Public capture ``rel`` (relative to the public folder), cut to ``records``."""
    data = (PUBLIC / rel).read_bytes()
    return Seed(f"public:{rel}[:{records}]", cut(data, records))


def public_seed_paths(max_bytes: int = PUBLIC_MAX_BYTES) -> list[str]:
    """Public captures usable as seeds (readable layout, not too large), relative paths."""
    out = []
    for p in public_captures():
        if p.stat().st_size > max_bytes:
            continue
        with open(p, "rb") as fh:
            head = fh.read(64)
        if parse_layout(head + bytes(64)) is None:
            continue
        out.append(str(p.relative_to(PUBLIC)))
    return out

