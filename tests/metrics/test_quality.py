"""The aggregator: the JSON contract of ``analyzer flows --json`` and capture-wide use."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analyzer.metrics.quality import BUFFER_NAMES, capture_quality, json_safe, stream_quality
from analyzer.streams.model import Call
from tests.metrics.synth import DST, SRC, opaque_stream, voice, voice_stream

REQUIRED = {"frame_interval_ms", "max_loss_run", "loss_run_histogram", "burst_density",
            "gap_density", "cutoff", "mos"}


def test_required_keys_and_json_safety() -> None:
    rng = np.random.default_rng(2)
    v = voice(20.0, drop=[1010, 1011, 1500], delay_s=np.abs(rng.normal(0, 0.01, 1000)))
    q = stream_quality(voice_stream(v))
    d = q.to_dict()
    assert set(d) >= REQUIRED
    assert set(d["mos"]) == set(BUFFER_NAMES)
    assert all(1.0 <= m <= 4.5 for m in d["mos"].values())
    assert d["frame_interval_ms"] == pytest.approx(20.0)
    assert d["max_loss_run"] == 2 and d["loss_run_histogram"]["2"] == 1
    json.dumps(d, allow_nan=False)
    full = q.to_dict(detail=True, include_windows=True)
    json.dumps(full, allow_nan=False)
    assert {"pdv", "interarrival", "jitter_buffers", "frame_segments", "emodel",
            "windows"} <= set(full)
    assert full["pdv"]["max_s"] > 0 and full["interarrival"]["p50_s"] > 0


def test_opaque_stream() -> None:
    t = 1.0 + np.arange(300) * 0.06
    d = stream_quality(opaque_stream(t)).to_dict(detail=True)
    assert d["frame_interval_ms"] == pytest.approx(60.0)
    assert d["loss"] is None and d["max_loss_run"] is None and d["pdv"] is None
    assert d["mos"] == {k: None for k in BUFFER_NAMES}
    assert d["cutoff"] is None
    json.dumps(d, allow_nan=False)


def test_json_safe() -> None:
    assert json_safe({"a": float("nan"), "b": [np.float64(1.5), np.int64(2), float("inf")],
                      "c": (1, "x", None, True)}) == {"a": None, "b": [1.5, 2, None],
                                                       "c": [1, "x", None, True]}


def test_capture_quality_uses_calls_and_bye() -> None:
    a = voice_stream(voice(10.0), index=0, reverse=1, call=0)
    b = voice_stream(voice(20.0, seq0=7000), index=1, reverse=0, call=0, src=DST, sport=6004,
                     dst=SRC, dport=5004)
    other = voice_stream(voice(5.0), index=2, call=1, sport=7000, dport=7002)
    calls = [Call(0, (0, 1), None, 1.0, 21.0), Call(1, (2,), None, 1.0, 6.0)]
    q = capture_quality([a, b, other], calls)
    assert set(q) == {0, 1, 2}
    c = q[0].cutoff
    assert c is not None and c.missing_packets == 500
    assert q[1].cutoff is None and q[2].cutoff is None
    # a BYE right after stream 0 stops makes it a hang-up
    q = capture_quality([a, b, other], calls, bye_times_s=[11.3])
    assert q[0].cutoff is None


def test_ssrc_less_rtp_without_clock_still_rated() -> None:
    # an RTP stream whose clock rate is unknown: sender times come from sequence numbers
    v = voice(5.0, drop=[1050])
    q = stream_quality(voice_stream(v, clock_hz=None, codec=None))
    assert q.timing.source == "arrival" and q.timing.frame_interval_s == pytest.approx(0.02)
    assert q.loss is not None and q.loss.lost == 1
    assert q.buffers["fixed_50ms"].concealed_frames == 1
    assert q.pdv is None and q.to_dict()["mos_relative_index"] is True


def test_keys_merge_into_the_flows_json_without_clashes() -> None:
    """``analyzer flows --json`` merges these keys into each stream's object."""
    s = voice_stream(voice(2.0))
    clash = set(s.to_dict()) & set(stream_quality(s).to_dict(detail=True))
    assert clash == set()


def test_summary_only_quality_gives_the_same_summary_and_keeps_no_play_out() -> None:
    rng = np.random.default_rng(5)
    v = voice(20.0, drop=[300, 301, 302, 700], delay_s=np.abs(rng.normal(0, 0.008, 1000)))
    s = voice_stream(v)
    full = stream_quality(s)
    lean = stream_quality(s, detail=False)
    assert lean.to_dict() == full.to_dict()
    assert full._frames is not None and lean._frames is None
    with pytest.raises(ValueError, match="detail=True"):
        lean.to_dict(detail=True)
    with pytest.raises(ValueError, match="windowed series"):
        _ = lean.windows
    # the per-packet interval of a one-packet-time stream is one number, not n copies
    assert full.timing.interval_s.strides == (0,)
    assert full.timing.interval_s.size == len(s.series)
