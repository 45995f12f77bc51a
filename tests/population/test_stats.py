"""Population statistics on hand-made tables with known answers."""

from __future__ import annotations

import pytest

from analyzer.population import (
    compare,
    day_change_point,
    holm,
    rate_peaks,
    summarize,
    trigger_kind,
    wilson_interval,
)
from analyzer.population.stats import Share


def test_wilson_interval_matches_the_textbook() -> None:
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(0, 0) == (0.0, 1.0)


def test_holm_is_step_down_and_monotone() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([]) == []


def test_compare_gives_fisher_and_effect_sizes() -> None:
    d = compare(Share.of(15, 30), Share.of(0, 30))
    assert d.pvalue < 1e-4 and d.difference == pytest.approx(0.5)
    assert d.interval[0] > 0.25 and d.cohens_h > 1.0
    same = compare(Share.of(3, 30), Share.of(3, 30))
    assert same.pvalue == pytest.approx(1.0) and same.difference == 0


def test_day_change_point_finds_the_first_day_and_an_interval() -> None:
    days = [f"2025-08-{d:02d}" for d in range(11, 21)]
    k = [0, 0, 0, 18, 20, 19, 20, 20, 20, 19]
    ch = day_change_point(days, k, [20] * 10, n_resamples=199)
    assert ch is not None and ch.day == "2025-08-14" and ch.pvalue < 0.01
    assert ch.interval[0] <= "2025-08-14" <= ch.interval[1]
    assert day_change_point(days, [0] * 10, [20] * 10) is None


def test_rate_peaks_find_the_cap_absent_from_the_control() -> None:
    rates = [24000 + d for d in (-300, -100, 0, 50, 120, 200, 400, -250)]
    peaks = rate_peaks(rates, [60000, 61000], n_resamples=100)
    assert peaks[0].affected_only
    assert peaks[0].rate_bps == pytest.approx(24000, rel=0.03)
    assert peaks[0].interval[0] <= peaks[0].rate_bps <= peaks[0].interval[1]
    assert rate_peaks([1.0, 2.0]) == ()


def test_trigger_kind_tells_time_from_bytes() -> None:
    t = trigger_kind([10.0, 10.1, 9.9, 10.0, 10.05], [50e3, 80e3, 65e3, 110e3, 70e3])
    assert t.kind == "time"
    b = trigger_kind([5.0, 9.0, 12.0, 7.0, 15.0], [20e3, 20.1e3, 19.9e3, 20e3, 20.2e3])
    assert b.kind == "bytes"


def _rows(isp: str, app: str, day: int, k: int, n: int, **extra: object) -> list[dict]:
    return [{"isp": isp, "app": app, "date": f"2025-08-{day:02d}", "verdict":
             "degraded" if i < k else "clean", "patterns": "rate_cap" if i < k else "",
             "cap_rate_bps": 24000.0 + 37 * i if i < k else None,
             "onset_after_s": 10.0 if i < k else None,
             "onset_after_bytes": 40000.0 + 999 * i if i < k else None, **extra}
            for i in range(n)]


def test_summarize_flags_the_capped_group_only() -> None:
    rows = []
    for day in range(11, 17):  # Mon 11 Aug .. Sat 16 Aug 2025: one ISO week
        for isp in ("A", "B"):
            for app in ("whatsapp", "telegram"):
                k = 5 if (isp == "A" and app == "whatsapp" and day >= 14) else 0
                rows += _rows(isp, app, day, k, 5)
    pop = summarize(rows)
    assert [g.label for g in pop.flagged] == ["A / whatsapp / 2025-W33"]
    g = pop.flagged[0]
    assert g.deliberate.share == pytest.approx(0.5) and g.control is not None
    assert g.control.kind == "other app"
    assert g.cap_rate_bps == pytest.approx(24000, rel=0.05)
    assert g.onset is not None and g.onset.day == "2025-08-14"
    assert g.trigger is not None and g.trigger.kind == "time"
    assert pop.to_dict()["flagged"] == [g.label]


def test_a_vpn_control_is_preferred_and_nothing_is_flagged_without_a_difference() -> None:
    rows = _rows("A", "whatsapp", 11, 1, 20) + _rows("A", "telegram", 11, 0, 20) \
        + _rows("A", "whatsapp", 11, 1, 20, vpn="yes")
    pop = summarize(rows, group_by=("isp", "app"))
    g = pop.group(isp="A", app="whatsapp")
    assert g is not None and g.control is not None and g.control.kind == "vpn"
    assert not pop.flagged
