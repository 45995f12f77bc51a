"""A decoded capture, :class:`Capture`, and :func:`read_capture`, which builds it: the
packet table of the capture layer turned into streams, calls and SIP messages.

Re-exported as ``analyzer.read_capture`` / ``analyzer.Capture`` for lab scripts. Quality
figures are the metrics layer's: :func:`analyzer.metrics.quality.quality_of`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from analyzer.capture.ipudp import DecodeCounters, IcmpError
from analyzer.capture.reader import ProgressFn, read_packets
from analyzer.limits import Limits
from analyzer.memory import release_free_memory
from analyzer.phases import phase
from analyzer.streams.attribution import apply_app_table
from analyzer.streams.build import build_streams
from analyzer.streams.frame import flatten, frame
from analyzer.streams.model import Call, Stream
from analyzer.streams.sdp import SipMessage
from analyzer.streams.timeline import Timeline, settle

if TYPE_CHECKING:
    import pandas as pd


class StreamFigures(Protocol):
    """What :meth:`Capture.to_dict` needs of a stream's quality figures (a
    :class:`~analyzer.metrics.quality.StreamQuality`, computed by the metrics layer)."""

    def to_dict(self, *, detail: bool = False) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Capture:
    """A decoded capture: its streams (with series and statistics) and calls.

    ``sha256`` and ``file_size_bytes`` identify the input file as stored on disk (before
    gunzip): the provenance of every result drawn from it. ``content_secret`` is a value
    only holders of the file can compute, the default key of
    :class:`analyzer.redact.Pseudonymizer` (never printed).
    """

    path: str
    fmt: str
    packets: int
    udp_datagrams: int
    duration_s: float
    start_epoch_s: float
    linktypes: tuple[int, ...]
    streams: tuple[Stream, ...]
    calls: tuple[Call, ...]
    sip: tuple[SipMessage, ...]
    warnings: tuple[str, ...]
    counters: DecodeCounters
    icmp: tuple[IcmpError, ...]
    small_other_flows: int = 0
    sha256: str = ""
    file_size_bytes: int = 0
    content_secret: bytes = field(default=b"", repr=False)
    #: How time order and clock jumps were settled (:mod:`analyzer.streams.timeline`).
    timeline: Timeline | None = field(default=None, repr=False)

    def epoch_s(self, t_s: float) -> float:
        """The Unix time of ``t_s`` seconds of the analysis (exact across clock jumps)."""
        if self.timeline is None:
            return self.start_epoch_s + t_s
        return self.timeline.epoch_s(t_s)

    @property
    def media_streams(self) -> tuple[Stream, ...]:
        """RTP, Telegram and opaque media streams (what carries a call's sound)."""
        return tuple(s for s in self.streams if s.is_media)

    def stream(self, index: int) -> Stream:
        return self.streams[index]

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.path, "sha256": self.sha256, "file_size_bytes": self.file_size_bytes,
            "format": self.fmt, "packets": self.packets,
            "udp_datagrams": self.udp_datagrams, "duration_s": self.duration_s,
            "start_epoch_s": self.start_epoch_s, "linktypes": list(self.linktypes),
            "counters": self.counters.to_dict(), "warnings": list(self.warnings),
            "small_other_flows": self.small_other_flows,
        }

    @property
    def bye_times_s(self) -> tuple[float, ...]:
        """Times of SIP BYE requests (seconds from the capture's first packet)."""
        return tuple(m.ts_ns / 1e9 - self.start_epoch_s for m in self.sip if m.method == "BYE")

    def to_dict(self, quality: Mapping[int, StreamFigures] | None = None, *,
                detail: bool = False) -> dict[str, Any]:
        """The JSON document of ``analyzer flows --json`` (schema in the README); with
        ``quality``, each media stream also carries its quality figures."""
        streams = []
        for s in self.streams:
            d = s.to_dict()
            if quality is not None and s.index in quality:
                d.update(quality[s.index].to_dict(detail=detail))
            streams.append(d)
        return {
            "schema": "analyzer.flows/1",
            "capture": self.summary(),
            "streams": streams,
            "calls": [c.to_dict() for c in self.calls],
        }

    def to_pandas(self, quality: Mapping[int, StreamFigures] | None = None) -> pd.DataFrame:
        """One row per stream with its statistics (the ``flows --json`` columns; with
        ``quality``, also each media stream's quality figures, nested keys joined with
        ``_``); integers stay integers, SSRC and other maybe-missing ones as ``Int64``
        (needs pandas)."""
        rows = []
        for s in self.streams:
            row = s.to_dict()
            if quality is not None and s.index in quality:
                row.update(flatten(quality[s.index].to_dict()))
            rows.append(row)
        return frame(rows)


#: Engines that read a capture into packet columns (the same columns, the same tests).
ENGINES = ("native", "tshark")


def read_capture(source: str | os.PathLike[str] | BinaryIO, *, name: str | None = None,
                 progress: ProgressFn | None = None, engine: str = "native",
                 limits: Limits | None = None) -> Capture:
    """Read a pcap/pcapng capture (gzip allowed; a path or a binary file object).

    Raises a :class:`~analyzer.errors.CaptureError` subclass when nothing can be read;
    a capture damaged part-way warns and keeps the packets before the damage. ``limits``:
    the reader's bounds (``max_empty_records``; :class:`~analyzer.limits.Limits`).
    """
    lim = limits if limits is not None else Limits()
    with phase("read"):
        if engine == "tshark":  # any format and encapsulation Wireshark reads; slower
            from analyzer.capture.tshark import read_packets_tshark
            table = read_packets_tshark(source, name=name)
        elif engine == "native":
            table = read_packets(source, name=name, progress=progress,
                                 max_empty_records=lim.max_empty_records)
        else:
            raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
        release_free_memory()
    with phase("group"):
        table, timeline = settle(table)
        ss = build_streams(table)
        streams, calls = apply_app_table(ss.streams, ss.calls, table.flows.apps)
    # The per-datagram columns are not kept: streams hold what later layers need.
    return Capture(
        path=table.path, fmt=table.fmt, packets=table.records, udp_datagrams=len(table),
        duration_s=table.duration_s, start_epoch_s=table.t0_ns / 1e9,
        linktypes=table.linktypes, streams=streams, calls=calls, sip=ss.sip,
        warnings=table.warnings + timeline.warnings, counters=table.counters,
        icmp=table.icmp, small_other_flows=ss.small_other_flows, sha256=table.sha256,
        file_size_bytes=table.file_size_bytes, content_secret=table.content_secret,
        timeline=timeline)
