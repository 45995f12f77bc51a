"""E-model (ITU-T G.107) values against hand arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.metrics.emodel import codec_profile, emodel, mos_from_r, r_factor
from analyzer.metrics.quality import stream_quality
from tests.metrics.synth import voice, voice_stream


def _mos(r: float) -> float:
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def test_g711_no_loss_50ms() -> None:
    # Id = 0.024 * 50 = 1.2; Ie_eff = 0; R = 93.2 - 1.2 = 92.0
    # MOS = 1 + 0.035 * 92 + 92 * 32 * 8 * 7e-6 = 1 + 3.22 + 0.164864
    e = emodel(0.0, 1.0, 0.050, "PCMU")
    assert e.r == pytest.approx(92.0)
    assert e.mos == pytest.approx(4.384864)
    assert not e.relative_index


def test_g711_two_percent_random_loss_200ms() -> None:
    # Id = 0.024 * 200 + 0.11 * (200 - 177.3) = 4.8 + 2.497 = 7.297
    # Ie_eff = 0 + 95 * 2 / (2 / 1 + 25.1) = 190 / 27.1
    e = emodel(0.02, 1.0, 0.200, "PCMA")
    r = 93.2 - 7.297 - 190 / 27.1
    assert e.id == pytest.approx(7.297)
    assert e.ie_eff == pytest.approx(190 / 27.1)
    assert e.r == pytest.approx(r)
    assert e.mos == pytest.approx(_mos(r))


def test_g729a_bursty_loss() -> None:
    # Ie_eff = 11 + (95 - 11) * 5 / (5 / 2 + 19) = 11 + 420 / 21.5; no delay
    e = emodel(0.05, 2.0, 0.0, "G729")
    assert e.ie_eff == pytest.approx(11 + 420 / 21.5)
    assert e.r == pytest.approx(93.2 - 11 - 420 / 21.5)
    assert e.mos == pytest.approx(_mos(93.2 - 11 - 420 / 21.5))


def test_burstier_loss_rates_worse() -> None:
    assert emodel(0.03, 3.0, 0.05, "PCMU").r < emodel(0.03, 1.0, 0.05, "PCMU").r
    # BurstR below 1 (losses spread evenly) is taken as 1
    assert emodel(0.03, 0.5, 0.05, "PCMU").r == emodel(0.03, 1.0, 0.05, "PCMU").r


def test_opus_and_unknown_are_relative() -> None:
    for codec in ("opus", None, "MLow"):
        p = codec_profile(codec)
        assert p.relative_index and (p.ie, p.bpl) == (0.0, 25.1)
        e = emodel(0.01, 1.0, 0.05, codec)
        assert e.relative_index
        assert e.to_dict()["note"].startswith("no ITU-T Ie/Bpl")
        assert e.r == pytest.approx(emodel(0.01, 1.0, 0.05, "PCMU").r)


def test_mos_mapping_limits_and_arrays() -> None:
    assert mos_from_r(-5.0) == 1.0 and mos_from_r(0.0) == 1.0
    assert mos_from_r(100.0) == 4.5 and mos_from_r(120.0) == 4.5
    assert mos_from_r(50.0) == pytest.approx(_mos(50.0))
    assert _mos(3.0) < 1.0 and mos_from_r(3.0) == 1.0  # the cubic's dip is clamped
    assert 0 < emodel(0.0, 1.0, 0.817, "PCMU").r < 6.5  # Id = 0.134 d - 19.503
    assert emodel(0.0, 1.0, 0.817, "PCMU").mos == 1.0
    arr = mos_from_r(np.array([-1.0, 50.0, 92.0, 101.0, np.nan]))
    assert arr[:4] == pytest.approx([1.0, _mos(50.0), 4.384864, 4.5])
    assert np.isnan(arr[4])
    r = r_factor(np.array([0.0, 2.0]), 1.0, 0.2, codec_profile("PCMU"))
    assert r == pytest.approx([93.2 - 7.297, 93.2 - 7.297 - 190 / 27.1])


def test_clean_g711_stream_mos_per_buffer() -> None:
    # constant transit: every frame on time; the buffers' delays are exactly their depths
    # (adaptive: 40 ms for the first frame, then the 20 ms floor)
    v = voice(10.0)
    q = stream_quality(voice_stream(v, codec="PCMU"))
    n = len(v)
    assert q.mos["fixed_50ms"] == pytest.approx(4.384864)
    r200 = 93.2 - (0.024 * 200 + 0.11 * (200 - 177.3))
    assert q.mos["fixed_200ms"] == pytest.approx(_mos(r200))
    d_ad = (0.040 + (n - 1) * 0.020) / n
    assert q.buffers["adaptive_500ms"].mean_delay_s == pytest.approx(d_ad)
    assert q.mos["adaptive_500ms"] == pytest.approx(_mos(93.2 - 0.024 * d_ad * 1000))
    assert q.to_dict()["mos_relative_index"] is False


def test_lossy_g711_stream_uses_buffer_loss_and_burst_ratio() -> None:
    # 500 frames, 10 lost as 5 runs of 2: Ppl = 2 %, p = 5 / 489, q = 5 / 10
    drop = [1100, 1101, 1200, 1201, 1300, 1301, 1400, 1401, 1450, 1451]
    q = stream_quality(voice_stream(voice(10.0, drop=drop), codec="PCMA"))
    b = q.buffers["fixed_50ms"]
    assert (b.expected_frames, b.concealed_frames, b.late_discards) == (500, 10, 0)
    burst_r = 1 / (5 / 489 + 5 / 10)
    assert b.gilbert.burst_ratio == pytest.approx(burst_r)
    ie = 95 * 2 / (2 / burst_r + 25.1)
    assert q.emodel["fixed_50ms"].r == pytest.approx(93.2 - 1.2 - ie)
