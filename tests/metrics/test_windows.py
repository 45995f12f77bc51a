"""Windowed series: counts per window, CSV and JSON export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from analyzer.metrics.losspattern import loss_pattern
from analyzer.metrics.quality import stream_quality
from analyzer.metrics.windows import BASE_COLUMNS, window_series
from tests.metrics.synth import Voice, voice, voice_stream


def _lossy() -> Voice:
    # 20 ms frames sent from 1.00 s, arriving 30 ms later; seq 1100-1104 lost (sent
    # 3.00-3.08 s, would have arrived 3.03-3.11 s)
    return voice(10.0, drop=range(1100, 1105))


def test_counts_per_window() -> None:
    v = _lossy()
    lp = loss_pattern(v.seq, v.arrival_s, frame_interval_s=0.02)
    ws = window_series(v.arrival_s, v.size_bytes, window_s=1.0, loss=lp)
    # arrivals 1.03, 1.05, ... 11.01: windows [1, 2) .. [11, 12)
    assert ws.start_s[0] == 1.0 and len(ws) == 11
    assert ws.packets.tolist() == [49, 50, 45, 50, 50, 50, 50, 50, 50, 50, 1]
    assert ws.lost.tolist() == [0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]
    assert ws.expected.tolist() == [49, 50, 50, 50, 50, 50, 50, 50, 50, 50, 1]
    assert ws.loss_fraction[2] == pytest.approx(0.1)
    assert ws.bitrate_bps[1] == pytest.approx(50 * 172 * 8)
    assert ws.packets_per_s[1] == pytest.approx(50.0)
    assert ws.interarrival_p50_s[1] == pytest.approx(0.02)
    # the 120 ms hole across the loss is the window's longest inter-arrival time
    assert ws.interarrival_max_s[2] == pytest.approx(0.12)


def test_late_and_duplicates_per_window() -> None:
    v = voice(3.0)
    seq = v.seq.copy()
    seq[60], seq[61] = seq[61], seq[60]  # swapped: the packet arriving at 2.25 s is late
    t = np.append(v.arrival_s, v.arrival_s[-1] + 0.001)
    seq = np.append(seq, seq[-1])  # the last packet twice
    lp = loss_pattern(seq, t, frame_interval_s=0.02)
    ws = window_series(t, np.full(t.size, 100), loss=lp)
    assert ws.late.tolist() == [0, 1, 0, 0]
    assert ws.duplicates.tolist() == [0, 0, 0, 1]
    assert ws.lost.sum() == 0


def test_finer_windows_and_span() -> None:
    v = voice(2.0)
    ws = window_series(v.arrival_s, v.size_bytes, window_s=0.25, start_s=0.0, end_s=4.0)
    assert len(ws) == 17 and ws.start_s[-1] == 4.0
    assert ws.packets[:4].sum() == 0 and ws.packets.sum() == len(v)
    assert np.isnan(ws.expected).all()  # no loss pattern given: not applicable


def test_csv_and_json(tmp_path: Path) -> None:
    q = stream_quality(voice_stream(_lossy()))
    ws = q.windows
    cols = ws.columns()
    assert list(cols)[:len(BASE_COLUMNS)] == list(BASE_COLUMNS)
    assert {"concealed_fixed_50ms", "mos_fixed_50ms", "mos_adaptive_500ms"} <= set(cols)
    # the window with the 5 lost frames rates worst
    mos = cols["mos_fixed_50ms"]
    assert int(np.nanargmin(mos)) == 2 and cols["concealed_fixed_50ms"][2] == pytest.approx(0.1)
    path = tmp_path / "w.csv"
    ws.to_csv(path)
    rows = list(csv.reader(path.open()))
    assert rows[0] == list(cols) and len(rows) == len(ws) + 1
    assert rows[3][rows[0].index("lost")] == "5.0"
    d = ws.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["window_s"] == 1.0 and len(d["columns"]["start_s"]) == len(ws)
    with pytest.raises(ValueError, match="has shape"):
        ws.with_columns(bad=np.zeros(3))


def test_window_series_rejects_bad_window() -> None:
    with pytest.raises(ValueError, match="window_s"):
        window_series(np.array([1.0, 2.0]), np.array([1, 1]), window_s=0.0)


def test_windows_are_sized_by_packets_not_by_span() -> None:
    from analyzer.metrics.windows import MAX_WINDOWS_FLOOR, bounded_window_s
    # 2000 packets, one every 500 s (each gap below the clock-jump bound): 11.6 days
    t = np.arange(2000) * 500.0
    ws = window_series(t, np.full(t.size, 160), window_s=1.0)
    assert len(ws) <= MAX_WINDOWS_FLOOR
    assert ws.window_s == 12.0 and ws.packets.sum() == 2000
    # an ordinary call keeps its window length, however long
    assert bounded_window_s(1.0, 86_000.0, 4_300_000) == 1.0
    assert bounded_window_s(1.0, 30 * 86_400.0, 10_000_000) == 1.0
    assert bounded_window_s(0.5, 3 * 86_400.0, 100) == 3.0


def test_a_low_window_bound_holds_on_the_aligned_grid() -> None:
    from analyzer.metrics.windows import bounded_window_s
    # 40.5 s of packets starting mid-window: the grid from 0 adds windows at both ends
    t = 0.7 + np.arange(2026) * 0.02
    for most in (1, 2, 3, 10, 39):
        ws = window_series(t, np.full(t.size, 160), window_s=1.0, max_windows_floor=most,
                           windows_per_packet=0)
        assert len(ws) <= most, (most, len(ws))
        assert ws.packets.sum() == t.size
        assert ws.window_s == bounded_window_s(1.0, float(t[-1] - t[0]), t.size,
                                               start_s=float(t[0]), max_windows_floor=most,
                                               windows_per_packet=0)
    # within the bound: the window asked for
    ws = window_series(t, np.full(t.size, 160), window_s=1.0, max_windows_floor=42,
                       windows_per_packet=0)
    assert ws.window_s == 1.0 and len(ws) == 42
    # the per-packet share of the bound
    ws = window_series(t, np.full(t.size, 160), window_s=0.001, max_windows_floor=1,
                       windows_per_packet=4)
    assert ws.window_s > 0.001 and len(ws) <= 4 * t.size


def test_quality_windows_take_the_bound() -> None:
    s = voice_stream(voice(duration_s=30.0))
    q = stream_quality(s, max_windows_floor=5, windows_per_packet=0)
    assert len(q.windows) <= 5 and q.windows.window_s > q.window_s
    assert len(stream_quality(s).windows) > 5  # the default: 1-s windows
