"""Quality figures on the real-kernel lab captures against their two-ended truth: loss runs
(nftables drops), the cut-off (a drop-all rule while the other direction goes on), the
periodic drop windows, the shaper's queueing delay, and sender/receiver pairing."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from analyzer import quality_of, read_capture
from analyzer.metrics.delay import pair_captures

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"
SCENARIOS = ("clean", "clean60", "loss5", "cutoff", "periodic", "ratecap", "sdp")


def _load(sc: str, side: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = read_capture(LAB / f"{sc}-{side}.pcap")
    return cap


def _truth(sc: str) -> dict:
    return json.loads((LAB / f"{sc}.truth.json").read_text())


def _by_key(cap) -> dict:
    return {(s.src, s.sport, s.dst, s.dport, s.ssrc): s for s in cap.streams if s.kind == "rtp"}


@pytest.mark.parametrize("sc", SCENARIOS)
def test_loss_runs_and_cutoff_equal_truth(sc: str) -> None:
    cap = _load(sc, "receiver")
    q = quality_of(cap)
    streams = _by_key(cap)
    for t in _truth(sc)["streams"]:
        s = streams[(t["src"], t["sport"], t["dst"], t["dport"], t["ssrc"])]
        sq = q[s.index]
        assert sq.timing.frame_interval_s == pytest.approx(t["frame_ms"] / 1000)
        assert sq.loss.lost == t["lost_within_received_span"]
        # run lengths a receiver can see: not those before its first or after its last packet
        runs = [r["count"] for r in t["lost_runs"]]
        if t["trailing_lost"]:
            runs = runs[:-1]
        if t["leading_lost"]:
            runs = runs[1:]
        expect = {str(k): 0 for k in range(1, 10)} | {"10+": 0}
        for n in runs:
            expect[str(n) if n < 10 else "10+"] += 1
        assert sq.loss.run_histogram_dict == expect
        assert sq.loss.max_run == max(runs, default=0)
        if t["cutoff"]:
            c = sq.cutoff
            assert c is not None, "the cut-off must be found"
            assert c.missing_packets == t["cutoff"]["packets_not_delivered_after"]
            assert c.at_s == pytest.approx(t["cutoff"]["t_last_received"], abs=0.025)
            assert s.stats.lost == 0  # what TShark reports for it
        else:
            assert sq.cutoff is None


def test_periodic_windows_recur() -> None:
    cap = _load("periodic", "receiver")
    q = quality_of(cap)
    t = _truth("periodic")["streams"][0]
    s = _by_key(cap)[(t["src"], t["sport"], t["dst"], t["dport"], t["ssrc"])]
    gaps = q[s.index].gaps
    long_gaps = gaps.start_s[gaps.duration_s > 0.5]
    starts = [r["t_first_sent"] for r in t["lost_runs"]]
    assert len(long_gaps) == len(starts)
    assert list(long_gaps) == pytest.approx(starts, abs=0.05)


def test_shaper_delay_rise_is_seen() -> None:
    cap = _load("ratecap", "receiver")
    q = quality_of(cap)
    t = _truth("ratecap")["streams"][0]
    s = _by_key(cap)[(t["src"], t["sport"], t["dst"], t["dport"], t["ssrc"])]
    pdv = q[s.index].pdv
    # tbf queues ~250 ms of audio: the delay variation shows it (clean: a few ms)
    assert pdv.distribution.p95_s > 0.15
    clean = _load("clean", "receiver")
    cq = quality_of(clean)
    assert max(cq[i].pdv.distribution.p95_s for i in cq) < 0.02


@pytest.mark.parametrize("sc", ["loss5", "cutoff", "periodic", "ratecap"])
def test_sender_receiver_pairing_gives_exact_loss(sc: str) -> None:
    snd, rcv = _by_key(_load(sc, "sender")), _by_key(_load(sc, "receiver"))
    rcap = _load(sc, "receiver")
    for t in _truth(sc)["streams"]:
        key = (t["src"], t["sport"], t["dst"], t["dport"], t["ssrc"])
        # the receiver capture's span, widened by one frame for the capture clocks' offset
        paired = pair_captures(snd[key], rcv[key], receiver_start_s=-0.02,
                               receiver_end_s=rcap.duration_s + 0.02)
        assert paired.sent == t["sent"]
        assert paired.lost == t["lost"]
