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
