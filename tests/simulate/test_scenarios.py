"""Named scenarios: every one runs, writes a pcap and a truth file, and validates its params."""

from __future__ import annotations

import json

import pytest

from analyzer.errors import UsageError
from analyzer.simulate import SCENARIOS, list_scenarios, simulate_scenario, simulate_to_file

EXPECTED = {"clean", "bernoulli", "gilbert", "jitter", "policer", "shaper", "cutoff",
            "periodic", "blocked", "dtx", "codec_change", "handover"}


def test_registry_names_and_defaults():
    assert set(SCENARIOS) == EXPECTED
    listing = list_scenarios()
    assert listing["policer"]["defaults"]["rate_bps"] == 32000.0
    assert listing["blocked"]["defaults"]["framing"] == "telegram"
    json.dumps(listing)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_every_scenario_writes_capture_and_truth(tmp_path, kind):
    sim = simulate_to_file(tmp_path / f"{kind}.pcap", kind=kind, seed=3, duration_s=35,
                           include_packets=False)
    assert (tmp_path / f"{kind}.pcap").stat().st_size > 24 + 16 * 10
    truth = json.loads((tmp_path / f"{kind}.pcap.truth.json").read_text())
    assert truth["scenario"] == kind and truth["seed"] == 3
    assert "packets" not in truth["directions"]["caller_to_callee"]
    labels = set(truth["labels"])
    if kind == "clean":
        assert not labels and truth["benign_only"]
    else:
        assert labels
        assert truth["benign_only"] == (kind in {"dtx", "codec_change", "handover"})
    assert len(sim) > 0


def test_scenario_params_override_and_are_coerced_from_strings():
    sim = simulate_scenario("cutoff", seed=1, after_bytes="16000", duration_s="10",
                            framing="rtp")
    d = sim.truth.directions["caller_to_callee"]
    assert sim.spec.framing == "rtp" and sim.spec.duration_s == 10
    assert d.cutoff_s is not None and d.cutoff_s < 3.0
    sim = simulate_scenario("dtx", seed=1, duration_s=10, caller_silence="[[2, 4]]",
                            callee_silence="[]")
    assert sim.truth.directions["caller_to_callee"].impairments[0].params[
        "silence_windows"] == ((2.0, 4.0),)


def test_bad_scenario_arguments():
    with pytest.raises(UsageError, match="unknown scenario"):
        simulate_scenario("throttle", seed=1)
    with pytest.raises(UsageError, match="rate_kbps"):
        simulate_scenario("policer", seed=1, rate_kbps=10)
    with pytest.raises(UsageError, match="direction"):
        simulate_scenario("bernoulli", seed=1, duration_s=2, direction="up")
