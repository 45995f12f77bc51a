"""Plain words and formatted numbers of the report."""

from __future__ import annotations

from analyzer.report import text


def test_confidence_words_are_the_analysis_wording() -> None:
    """One p-value format and one confidence wording in the terminal and the report."""
    from analyzer.verdict import words
    assert text.confidence_words("high", 1e-9) == "high confidence (p < 1e-6)"
    assert text.confidence_words("medium", 0.004) == "medium confidence (p = 0.004)"
    assert text.confidence_words("medium", 3e-4) == "medium confidence (p = 3e-04)"
    assert text.confidence_words("high", None, 2.5) == "high confidence (score 2.5)"
    assert text.confidence_words(None) == "confidence not rated"
    assert text.fmt_p(2e-5) == words.fmt_p(2e-5) == "p = 2e-05"
    assert text.fmt_p(float("nan")) == ""


def test_estimates_per_pattern() -> None:
    est = {"effect_unit": "delivered IP-layer bit/s", "confidence_level": 0.95,
           "rate_bps": 32100.0, "mode": "policing", "since_s": 20.0, "windows": 30}
    s = text.fmt_estimate(est, "rate_cap", interval=(31500.0, 32800.0))
    assert s.startswith("cap 32.1 kbit/s, policing, from 20.0 s")
    assert "95 % CI 31.5–32.8 kbit/s" in s
    assert "windows" not in s and "effect" not in s
    assert text.fmt_estimate({"period_s": 2.0, "onset_s": 15.0}, "periodic_drop") == \
        "every 2.00 s, from 15.0 s"
    assert text.fmt_estimate({}, "loss") == ""


def test_formatting_units() -> None:
    assert text.fmt_rate(32100) == "32.1 kbit/s"
    assert text.fmt_rate(2.5e6) == "2.50 Mbit/s"
    assert text.fmt_ms(0.0123) == "12.3 ms"
    assert text.fmt_pct(0.151) == "15.1 %"
    assert text.fmt_duration(1800.0) == "30 min 00 s"
    assert text.fmt_duration(40.5) == "40.5 s"
    assert text.fmt_num(float("nan")) == "–"
    assert text.fmt_num(3751) == "3\u2009751"


def test_every_pattern_and_verdict_has_words() -> None:
    for p in ("loss", "burst_loss", "periodic_drop", "rate_cap", "jitter", "cutoff",
              "blocked_setup", "metallic_risk"):
        assert text.pattern_name(p) != p and text.PATTERN_MEANINGS[p]
    for v in ("clean", "degraded", "blocked", "inconclusive"):
        assert text.verdict_headline(v) and text.verdict_explanation(v)


def test_wrap_keeps_paragraphs() -> None:
    lines = text.wrap("a " * 50 + "\nb", 20)
    assert all(len(line) <= 20 for line in lines)
    assert lines[-1] == "b"
