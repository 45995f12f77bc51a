"""TShark reads what we write and counts what the truth says."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.simulate import Bernoulli, CallSpec, simulate_call, write_call

pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]

REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\S+\s+\d+\s+\S+\s+\d+\s+0x([0-9A-Fa-f]+)\s+(\S+)\s+"
                 r"(\d+)\s+(-?\d+)\s+\(.*?\)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(-?[\d.]+)\s+"
                 r"([\d.]+)\s+([\d.]+)")


def _tshark_streams(path: Path, heuristic: bool) -> dict[int, tuple[str, int, int, float]]:
    cmd = ["tshark", "-r", str(path), "-q", "-z", "rtp,streams"]
    if heuristic:
        cmd[4:4] = ["-o", "rtp.heuristic_rtp:TRUE"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            rows[int(m.group(1), 16)] = (m.group(2), int(m.group(3)), int(m.group(4)),
                                         float(m.group(6)))
    return rows


def test_tshark_sees_sdp_mapped_opus_with_truth_counts(tmp_path):
    spec = CallSpec(duration_s=20, framing="rtp_sdp", initial_seq=65000, jitter_std_ms=2.0)
    sim = simulate_call(spec, [Bernoulli(0.05)], seed=21)
    pcap, _ = write_call(tmp_path / "sdp.pcap", sim)
    rows = _tshark_streams(pcap, heuristic=False)
    for d in sim.truth.directions.values():
        payload, packets, lost, mean_jitter_ms = rows[d.ssrc]
        stream = d.packets.seq >= 0
        delivered = d.packets.delivered[stream]
        first, last = delivered.argmax(), delivered.size - 1 - delivered[::-1].argmax()
        assert payload == "opus"
        assert packets == d.delivered_packets
        assert lost == (last - first + 1) - d.delivered_packets
        assert 1.0 < mean_jitter_ms < 4.0  # about 1.13 x jitter_std_ms


def test_tshark_agrees_with_benchmark_capture_truth(tmp_path):
    spec = importlib.util.spec_from_file_location("make_capture",
                                                  REPO / "benchmarks" / "make_capture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "bench.pcap"
    assert module.main([str(out), "--packets", "30000", "--calls", "20", "--g711-calls", "3",
                        "--seed", "2", "--loss", "0.03", "--reorder", "0.01",
                        "--dup", "0.01"]) == 0
    truth = json.loads(out.with_name(out.name + ".truth.json").read_text())
    assert truth["packets"] == 30000
    rows = _tshark_streams(out, heuristic=True)
    assert len(rows) == truth["streams"] == 40
    assert any(s["wraps"] for s in truth["stream_truth"])
    for s in truth["stream_truth"]:
        payload, packets, lost, mean_jitter = rows[s["ssrc"]]
        assert (packets, lost) == (s["written_packets"], s["tshark_lost"])
        assert (payload.startswith("g711")) == (s["payload_type"] in (0, 8))
        assert (mean_jitter > 0) == (s["payload_type"] in (0, 8))
