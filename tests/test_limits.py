"""The resource bounds as one settings type: defaults, validation, parsing, the wording."""

from __future__ import annotations

import dataclasses

import pytest

from analyzer.capture import records
from analyzer.detectors.registry import DETECTORS, build
from analyzer.errors import UsageError
from analyzer.limits import Limits, reached
from analyzer.metrics import windows


def test_defaults_are_the_bounds_the_code_used_before() -> None:
    lim = Limits()
    assert lim.to_dict() == {"max_empty_records": 100_000, "max_windows_floor": 86_400,
                             "windows_per_packet": 4, "max_detailed_streams": 2_000,
                             "max_resamples": 400}
    # the modules' own defaults (lab scripts calling them directly) are the same numbers
    assert lim.max_empty_records == records.MAX_EMPTY_RECORDS
    assert lim.max_windows_floor == windows.MAX_WINDOWS_FLOOR
    assert lim.windows_per_packet == windows.WINDOWS_PER_PACKET


def test_the_resample_budget_caps_no_detector_by_default() -> None:
    counts = {name: build(name).resample_counts() for name in DETECTORS}
    assert counts["onset"] == {"n_perm": 99}
    assert counts["periodic_drop"] == {"n_perm": 199}
    assert counts["rate_cap"] == {"n_boot": 400}
    assert max(v for c in counts.values() for v in c.values()) == Limits().max_resamples
    for name in DETECTORS:
        det = build(name)
        assert det.with_resamples_capped(Limits().max_resamples) == (det, {})


def test_a_low_budget_caps_each_count_and_says_what_was_asked() -> None:
    det = build("periodic_drop")
    capped, over = det.with_resamples_capped(50)
    assert capped.n_perm == 50 and over == {"n_perm": 199}
    assert capped.oversample == det.oversample  # nothing else changes
    onset, over = build("onset").with_resamples_capped(150)
    assert onset.n_perm == 99 and over == {}


def test_frozen_and_validated() -> None:
    lim = Limits()
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.max_resamples = 1  # type: ignore[misc]
    with pytest.raises(UsageError, match="max_resamples must be at least 1, not 0"):
        Limits(max_resamples=0)
    with pytest.raises(UsageError, match="max_detailed_streams must be a whole number"):
        Limits(max_detailed_streams=2.5)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="whole number"):
        Limits(max_empty_records=True)
    with pytest.raises(UsageError, match="windows_per_packet must be at least 0"):
        Limits(windows_per_packet=-1)
    assert Limits(windows_per_packet=0).max_windows(10**9) == 86_400


def test_parse_name_value_items() -> None:
    lim = Limits.parse(["max_resamples=99", " max_detailed_streams = 2_000 ",
                        "max_resamples=50"])
    assert lim.max_resamples == 50  # the later item wins
    assert lim.max_detailed_streams == 2000
    assert lim.max_empty_records == 100_000
    assert Limits.parse([]) == Limits()
    base = Limits(max_resamples=10)
    assert Limits.parse(["max_windows_floor=5"], base) == Limits(max_resamples=10,
                                                                 max_windows_floor=5)


@pytest.mark.parametrize(("item", "message"), [
    ("max_resamples", "NAME=VALUE"),
    ("=3", "NAME=VALUE"),
    ("max_resamples=", "NAME=VALUE"),
    ("max_streams=3", "unknown limit 'max_streams' \\(known: max_empty_records"),
    ("max_resamples=1e3", "max_resamples must be a whole number, not '1e3'"),
    ("max_resamples=-5", "max_resamples must be at least 1, not -5"),
])
def test_parse_errors_are_usage_errors_naming_the_problem(item: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Limits.parse([item])


def test_from_mapping_takes_ints_and_text() -> None:
    assert Limits.from_mapping({"max_resamples": 7, "max_empty_records": "12"}) == \
        Limits(max_resamples=7, max_empty_records=12)
    with pytest.raises(UsageError, match="unknown limit"):
        Limits.from_mapping({"n_perm": 7})


def test_window_bound_names_the_field_that_binds() -> None:
    lim = Limits(max_windows_floor=100, windows_per_packet=4)
    assert lim.max_windows(10) == 100 and lim.window_bound(10) == "max_windows_floor"
    assert lim.max_windows(1000) == 4000 and lim.window_bound(1000) == "windows_per_packet"
    msgs = lim.windows_reached(1.0, [(10, "a"), (1000, "b"), (20, "c")])
    assert msgs == [
        "limit max_windows_floor=100 reached: windows longer than 1 s for 2 stream(s), at "
        "most max(100, 4 x packets) windows each: a; c",
        "limit windows_per_packet=4 reached: windows longer than 1 s for 1 stream(s), at "
        "most max(100, 4 x packets) windows each: b"]
    assert lim.windows_reached(1.0, []) == []


def test_reached_wording() -> None:
    assert reached("max_detailed_streams", 2000, "2417 streams") == \
        "limit max_detailed_streams=2000 reached: 2417 streams"
