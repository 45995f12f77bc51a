"""Series columns are read-only: whoever holds a stream cannot change what others read."""

from __future__ import annotations

import io

import numpy as np
import pytest

from analyzer import read_capture
from analyzer.streams.model import Series
from tests.support.craft import rtp, rtp_capture

T0 = 1_700_000_000_000_000_000


def _series(n: int = 4) -> Series:
    return Series(frame=np.arange(1, n + 1, dtype=np.uint32), arrival_s=np.linspace(0, 1, n),
                  size_bytes=np.full(n, 172, np.uint16), seq=np.arange(n, dtype=np.int32),
                  rtp_ts=np.arange(n, dtype=np.int64) * 160, marker=np.zeros(n, bool),
                  payload_type=np.zeros(n, np.int8))


@pytest.mark.parametrize("name", list(Series.__dataclass_fields__))
def test_every_column_rejects_writes(name: str) -> None:
    column = getattr(_series(), name)
    assert not column.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        column[0] = 1


def test_streams_read_from_a_capture_are_read_only() -> None:
    pcap = rtp_capture([(T0 + i * 20_000_000, rtp(1000 + i, 160 * i, 0x1234ABCD))
                        for i in range(20)])
    cap = read_capture(io.BytesIO(pcap), name="call.pcap")
    assert cap.streams
    for s in cap.streams:
        with pytest.raises(ValueError, match="read-only"):
            s.series.arrival_s[0] = -1.0
        with pytest.raises(ValueError, match="read-only"):
            s.series.seq[:] = 0
