"""Time order and clock jumps are settled once, in the streams layer."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import analyzer
from analyzer.streams.timeline import MAX_GAP_S
from tests.support.paths import REPO

EXAMPLE = REPO / "captures" / "example-call.pcap"
DAY = 86400


def _records(data: bytes) -> list[tuple[int, int]]:
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        out.append((off, incl))
        off += 16 + incl
    return out


def _swap(data: bytes, i: int, j: int) -> bytes:
    parts = [data[o:o + 16 + n] for o, n in _records(data)]
    parts[i], parts[j] = parts[j], parts[i]
    return data[:24] + b"".join(parts)


def _shift(data: bytes, i: int, seconds: int) -> bytes:
    o, _ = _records(data)[i]
    ts = struct.unpack("<I", data[o:o + 4])[0]
    return data[:o] + struct.pack("<I", (ts + seconds) % 2**32) + data[o + 4:]


def _write(tmp: Path, data: bytes) -> Path:
    p = tmp / "x.pcap"
    p.write_bytes(data)
    return p


def _series_sorted(cap: analyzer.Capture) -> bool:
    return all(bool(np.all(np.diff(s.series.arrival_s) >= 0)) for s in cap.streams)


def test_swapped_records_are_analysed_in_time_order(tmp_path: Path) -> None:
    cap = analyzer.read_capture(_write(tmp_path, _swap(EXAMPLE.read_bytes(), 5, 200)))
    assert _series_sorted(cap)
    assert cap.timeline is not None and cap.timeline.reordered >= 1
    assert any("out of time order" in w for w in cap.warnings)
    a = analyzer.analyze(cap)
    assert a.verdict == analyzer.analyze(EXAMPLE).verdict


@pytest.mark.parametrize("seconds", [-45 * DAY, 30 * 365 * DAY, -1 * DAY, -9 * DAY])
def test_a_stray_timestamp_is_left_out_with_a_warning(tmp_path: Path, seconds: int) -> None:
    cap = analyzer.read_capture(_write(tmp_path, _shift(EXAMPLE.read_bytes(), 300, seconds)))
    plain = analyzer.read_capture(EXAMPLE)
    assert any(w.startswith("clock jump") and "left out" in w for w in cap.warnings)
    assert cap.udp_datagrams == plain.udp_datagrams - 1
    assert cap.duration_s <= plain.duration_s + 1e-6
    # bounded work: every window grid is sized by the packets, not by the 45-day span
    a = analyzer.analyze(cap)
    for c in a.calls:
        for st in c.streams:
            if st.quality is not None:
                assert len(st.quality.windows) <= st.quality.packets + 10


def test_merged_captures_keep_every_datagram_with_exact_utc(tmp_path: Path) -> None:
    """A second half 3 days later (captures merged into one file): nothing is dropped,
    the gap is closed to the bound on the analysis's axis, and UTC times stay exact."""
    data = EXAMPLE.read_bytes()
    recs = _records(data)
    half = len(recs) // 2
    for i in range(half, len(recs)):
        data = _shift(data, i, 3 * DAY)
    cap = analyzer.read_capture(_write(tmp_path, data))
    plain = analyzer.read_capture(EXAMPLE)
    assert cap.udp_datagrams == plain.udp_datagrams
    assert cap.duration_s <= plain.duration_s + MAX_GAP_S + 1
    (jump,) = cap.timeline.jumps
    assert not jump.left_out and abs(abs(jump.distance_s) - 3 * DAY) < 60
    late = max(s.series.arrival_s[-1] for s in cap.streams)
    true_last = max(s.series.arrival_s[-1] for s in plain.streams) + 3 * DAY
    assert cap.epoch_s(late) == pytest.approx(plain.start_epoch_s + true_last, abs=1e-3)


def test_capture_to_pandas_keeps_integers_and_quality_columns() -> None:
    cap = analyzer.read_capture(EXAMPLE)
    df = cap.to_pandas(analyzer.quality_of(cap))
    assert str(df["ssrc"].dtype) == "Int64" and str(df["packets"].dtype) == "int64"
    assert df["ssrc"].isna().sum() == sum(s.ssrc is None for s in cap.streams)
    assert {"mos_adaptive_500ms", "loss_lost", "ip_bps", "payload_bps"} <= set(df.columns)
    media = df[df["kind"] == "rtp"]
    assert (media["ip_bps"] > media["payload_bps"]).all()
