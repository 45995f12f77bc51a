"""How many packets a stream needs before it is tested (Settings.min_packets)."""

from __future__ import annotations

from analyzer.verdict.settings import MIN_PACKETS_FLOOR, Settings


def test_rtp_with_long_packets_needs_only_min_stream_s_of_them() -> None:
    s = Settings()
    assert s.min_packets(0.02) == s.min_stream_packets == 100  # 20 ms: unchanged
    assert s.min_packets(0.06) == 84  # 5 s of 60 ms packets
    assert s.min_packets(0.16) == 32  # WhatsApp's 160 ms packets at low rates
    assert s.min_packets(1.0) == MIN_PACKETS_FLOOR
    assert s.min_packets(float("nan")) == 100


def test_media_without_sequence_numbers_always_needs_the_full_count() -> None:
    assert Settings().min_packets(0.16, rtp=False) == 100
    assert Settings(min_stream_packets=40).min_packets(0.06, rtp=False) == 40


def test_settings_carry_the_limits_into_their_dict() -> None:
    import pytest

    from analyzer.errors import UsageError
    from analyzer.limits import Limits
    assert Settings().limits == Limits()
    assert Settings().to_dict()["limits"] == Limits().to_dict()
    s = Settings(limits=Limits(max_resamples=9))
    assert s.to_dict()["limits"]["max_resamples"] == 9
    with pytest.raises(UsageError, match=r"Settings\.limits must be a Limits"):
        Settings(limits={"max_resamples": 9})  # type: ignore[arg-type]
