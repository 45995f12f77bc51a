"""The quality metrics on the real public captures (../shared/captures-public)."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import pytest

from analyzer import api
from analyzer.metrics.quality import StreamQuality, capture_quality
from tests.support.paths import PUBLIC, public, public_captures

pytestmark = pytest.mark.public


@lru_cache(maxsize=8)
def _measure(path: Path) -> tuple[api.Capture, dict[int, StreamQuality]]:
    cap = api.read_capture(path)
    byes = [m.ts_ns / 1e9 - cap.start_epoch_s for m in cap.sip if m.method == "BYE"]
    return cap, capture_quality(cap.streams, cap.calls, bye_times_s=byes)


def _stream(cap: api.Capture, q: dict[int, StreamQuality], ssrc: int) -> StreamQuality:
    (s,) = [s for s in cap.streams if s.ssrc == ssrc]
    return q[s.index]


CAPTURES = public_captures()


@pytest.mark.skipif(not CAPTURES, reason="public captures not available")
@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: str(p.relative_to(PUBLIC)))
def test_every_media_stream(path: Path) -> None:
    cap, q = _measure(path)
    assert set(q) == {s.index for s in cap.media_streams}
    for i, sq in q.items():
        d = sq.to_dict(detail=True)
        json.dumps(d, allow_nan=False)
        f = d["frame_interval_ms"]
        assert f is None or f > 0
        if d["loss"] is not None:
            lp = d["loss"]
            assert lp["lost"] >= 0 and lp["lost"] + lp["received"] == lp["expected"]
            assert 0 <= lp["loss_fraction"] <= 1
            assert d["max_loss_run"] <= lp["lost"]
            assert 0 <= d["burst_density"] <= 1 and 0 <= d["gap_density"] <= 1
        for m in d["mos"].values():
            assert m is None or 1.0 <= m <= 4.5
        if d["cutoff"] is not None:
            assert d["cutoff"]["missing_packets"] > 0
            assert d["cutoff"]["at_s"] == pytest.approx(cap.streams[i].stats.end_s)
        ws = sq.windows
        assert int(ws.packets.sum()) == sq.packets
        json.dumps(ws.to_dict(), allow_nan=False)


def test_udp_call_losses_and_gaps() -> None:
    cap, q = _measure(public("srtp_decoder/udp_call_02_03_client.pcap"))
    down = _stream(cap, q, 0x1C065364)  # relay -> client: TShark's 11 lost
    d = down.to_dict()
    assert d["loss"]["lost"] == 11 == cap.streams[down.stream].stats.lost
    assert d["max_loss_run"] == 1 and d["loss_run_histogram"]["1"] == 11
    assert d["frame_interval_ms"] == pytest.approx(20.0)
    # arrival gaps over 60 ms: 5, the longest 131 ms (TShark's max delta) at 97.36 s
    assert d["gaps"]["count"] == 5
    assert d["gaps"]["max_s"] == pytest.approx(0.13135, abs=1e-5)
    assert d["gaps"]["longest_start_s"] == pytest.approx(97.36, abs=0.01)
    assert d["cutoff"] is None
    # single losses, all but two of them >= 16 received packets from the next: those two
    # (positions 769 and 784, 14 received between) make a burst of 16 packets, 2 lost
    assert d["loss"]["bursts"] == 1 and d["loss"]["burst_packets"] == 16
    assert d["burst_density"] == pytest.approx(2 / 16)
    assert d["gap_density"] == pytest.approx(9 / (1582 - 16))
    up = _stream(cap, q, 0x1C065362).to_dict()
    assert up["loss"]["lost"] == 0 and up["gaps"]["count"] == 0
    assert all(m > 4.0 for m in up["mos"].values())


def test_wifi_to_3g_gap_in_both_directions_is_not_a_cutoff() -> None:
    cap, q = _measure(public("srtp_decoder/wifi-tcp_to_3g.pcap"))
    for ssrc in (0x3482B39F, 0x3482B3A1):
        sq = _stream(cap, q, ssrc)
        d = sq.to_dict()
        assert d["cutoff"] is None
        assert d["loss"]["lost"] == 0
        g = d["gaps"]
        assert g["count"] >= 1 and 0.9 < g["max_s"] < 1.1  # the ~1 s media gaps
        assert g["shared_with_reverse"] == g["count"]  # each one in both directions
        assert g["with_loss"] == 0  # delivered late, nothing missing
        # a listener hears it: every buffer conceals much of the call
        assert all(m < 2.0 for m in d["mos"].values())


@pytest.mark.parametrize("rel", ["sipnab/rtp-protocol.pcap",
                                 "srtp_decoder/WebRTC_PCMA_Turn_SDES_Call_1.pcap",
                                 "srtp_decoder/WebRTC_PCMA_p2p_SDES_Call_1.pcap"])
def test_comfort_noise_is_not_loss(rel: str) -> None:
    _, q = _measure(public(rel))
    rtp = [sq for sq in q.values() if sq.kind == "rtp"]
    assert len(rtp) == 2
    for sq in rtp:
        d = sq.to_dict()
        assert d["frame_interval_ms"] == pytest.approx(20.0)
        assert d["dtx"]["comfort_noise_packets"] > 0 and d["dtx"]["periods"] > 0
        assert d["loss"]["lost"] == 0 and d["max_loss_run"] == 0
        assert d["gaps"]["count"] <= 2  # CN every 100 ms is no gap; a couple of real ones
        assert d["cutoff"] is None
        assert d["mos"]["fixed_200ms"] > 3.9


def test_rtp_protocol_silence_of_3_5_s() -> None:
    cap, q = _measure(public("sipnab/rtp-protocol.pcap"))
    sq = _stream(cap, q, 0x44C61AFB)
    d = sq.to_dict()
    # 3.46 s without packets (TShark's max delta), the timestamp jumping with it
    assert d["dtx"]["total_s"] > 3.4 and d["gaps"]["count"] == 0
    assert not math.isnan(d["mos"]["adaptive_500ms"])
