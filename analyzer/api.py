"""The public entry point for lab scripts: ``read_capture(path)`` -> :class:`Capture`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from analyzer.capture.ipudp import DecodeCounters, IcmpError
from analyzer.capture.reader import ProgressFn, read_packets
from analyzer.errors import UsageError
from analyzer.memory import release_free_memory
from analyzer.metrics.quality import StreamQuality, capture_quality
from analyzer.streams.build import build_streams
from analyzer.streams.model import Call, Stream
from analyzer.streams.sdp import SipMessage

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from analyzer.baseline.profile import Profile
    from analyzer.verdict.engine import CallProgress
    from analyzer.verdict.model import Analysis
    from analyzer.verdict.settings import Settings


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

    def quality(self, *, window_s: float = 1.0, network_delay_s: float = 0.0
                ) -> dict[int, StreamQuality]:
        """Quality metrics of every media stream, keyed by stream index (see
        :func:`analyzer.metrics.quality.stream_quality`)."""
        return capture_quality(self.streams, self.calls, bye_times_s=self.bye_times_s,
                               window_s=window_s, network_delay_s=network_delay_s)

    def to_dict(self, quality: dict[int, StreamQuality] | None = None, *,
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

    def to_pandas(self) -> pd.DataFrame:
        """One row per stream with its statistics (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
        return pd.DataFrame([s.to_dict() for s in self.streams])


def read_capture(source: str | os.PathLike[str] | BinaryIO, *, name: str | None = None,
                 progress: ProgressFn | None = None) -> Capture:
    """Read a pcap/pcapng capture (gzip allowed; a path or a binary file object).

    Raises a :class:`~analyzer.errors.CaptureError` subclass when nothing can be read;
    a capture damaged part-way warns and keeps the packets before the damage.
    """
    table = read_packets(source, name=name, progress=progress)
    release_free_memory()
    ss = build_streams(table)
    # The per-datagram columns are not kept: streams hold what later layers need.
    return Capture(
        path=table.path, fmt=table.fmt, packets=table.records, udp_datagrams=len(table),
        duration_s=table.duration_s, start_epoch_s=table.t0_ns / 1e9,
        linktypes=table.linktypes, streams=ss.streams, calls=ss.calls, sip=ss.sip,
        warnings=table.warnings, counters=table.counters, icmp=table.icmp,
        small_other_flows=ss.small_other_flows, sha256=table.sha256,
        file_size_bytes=table.file_size_bytes, content_secret=table.content_secret)


def analyze(capture: Capture | str | os.PathLike[str], *,
            baseline: Capture | str | os.PathLike[str] | None = None,
            profile: Profile | str | os.PathLike[str] | None = None,
            settings: Settings | None = None,
            progress: CallProgress | None = None) -> Analysis:
    """Analyse a capture (a path or a :class:`Capture`): the one typed
    :class:`~analyzer.verdict.model.Analysis` every output renders.

    ``baseline``: another capture of the same call without the suspected interference
    (a path or a :class:`Capture`); ``profile``: a profile of clean calls (a path or a
    :class:`~analyzer.baseline.profile.Profile`); give at most one. Without either, each
    stream is compared with the other direction, its own part before an onset, or the
    built-in profile.
    """
    from analyzer.baseline.profile import Profile
    from analyzer.verdict.engine import analyze as run

    if isinstance(baseline, Profile):  # a profile given as the baseline
        baseline, profile = None, baseline if profile is None else profile
    if baseline is not None and profile is not None:
        raise UsageError("give either a baseline capture or a profile, not both")
    cap = capture if isinstance(capture, Capture) else read_capture(capture)
    base: Capture | Profile | None = None
    if baseline is not None:
        base = baseline if isinstance(baseline, Capture) else read_capture(baseline)
    elif profile is not None:
        base = profile if isinstance(profile, Profile) else Profile.load(profile)
    return run(cap, baseline=base, settings=settings, progress=progress)


def write_report(analysis: Analysis, pdf_path: str | os.PathLike[str] | None = None,
                 png_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write the PDF report of ``analysis`` and/or its figures as PNGs (see
    :func:`analyzer.report.write_report`); returns the paths written."""
    from analyzer.report import write_report as write

    return write(analysis, pdf_path, png_dir)
