"""``analyzer watch SOURCE``: a rolling status of the calls in a capture while it is made.

SOURCE is ``-`` (a pcap/pcapng stream on stdin, e.g. ``tcpdump -U -w - | analyzer watch -``),
a capture file still being written (followed until it stops growing for ``--idle`` seconds),
``tcp://HOST:PORT`` (PCAP-over-IP: a TCP server that sends a pcap stream, e.g.
``tcpdump -U -w - | nc -l PORT``), ``tcp-listen://[HOST:]PORT`` (wait for a sender to
connect: PCAPdroid's "TCP exporter") or ``http://PHONE:PORT/`` (PCAPdroid's "HTTP server").

Every ``--every`` seconds of capture time it re-analyses the last ``--window`` seconds and
prints one line per call (app, rate, loss, jitter, patterns so far); when the stream ends
or on Ctrl-C it prints the same verdict ``analyze`` prints on the saved capture.

Memory is bounded over a long watch: the rolling window holds at most ``--window`` seconds
of records and never more than :data:`MAX_WINDOW_BYTES`; the whole capture goes to a
temporary file (in memory up to :data:`SPOOL_MEMORY_BYTES`, then on disk), which the final
analysis reads like any file, with the reader's bounded memory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import struct
import tempfile
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, TextIO

from analyzer.errors import CaptureError, NotACapture, UsageError
from analyzer.protocol import (
    PCAP_GLOBAL_HEADER_LEN,
    PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
    PCAP_RECORD_HEADER_LEN,
    PCAPNG_EPB,
    PCAPNG_IDB,
    PCAPNG_OPB,
    PCAPNG_SHB,
    PCAPNG_SPB,
)

#: Bytes read from the source at a time (less when less is ready: a live stream).
READ_BYTES = 1 << 16
#: The rolling window never holds more than this, whatever ``--window`` says.
MAX_WINDOW_BYTES = 64 << 20
#: The spooled copy of the capture stays in memory up to this size, then moves to disk.
SPOOL_MEMORY_BYTES = 16 << 20
#: Non-packet pcapng blocks (interfaces, PCAPdroid UID maps) kept for the window, at most.
MAX_HEADER_BYTES = 1 << 20
FOLLOW_POLL_S = 0.05
TCP_CONNECT_TIMEOUT_S = 10.0


# -- sources -------------------------------------------------------------------------------
class FollowFile(io.RawIOBase):
    """A file still being written: reads wait for more data until the file has not grown
    for ``idle_s`` seconds (then the stream ends)."""

    def __init__(self, path: str, idle_s: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        try:
            self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise CaptureError(f"cannot open: {exc.strerror or exc}", path=path) from None
        self.name = path
        self._idle_s = idle_s
        self._sleep = sleep

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        waited = 0.0
        while True:
            n = self._f.readinto(b)
            if n:
                return n
            if waited >= self._idle_s:
                return 0
            self._sleep(FOLLOW_POLL_S)
            waited += FOLLOW_POLL_S

    def close(self) -> None:
        self._f.close()
        super().close()


@dataclass
class Opened:
    stream: IO[bytes]
    name: str
    close: Callable[[], None]


def open_source(spec: str, *, stdin: BinaryIO | None, idle_s: float,
                err: TextIO | None = None) -> Opened:
    """The byte stream of ``SOURCE`` and the name results carry."""
    if spec == "-":
        raw = stdin if stdin is not None else _sys_stdin()
        return Opened(raw, "<stdin>", lambda: None)
    if spec.startswith("tcp://"):
        host, sep, port = spec[len("tcp://"):].rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise UsageError(f"PCAP-over-IP source must be tcp://HOST:PORT, got {spec!r}")
        try:
            sock = socket.create_connection((host.strip("[]"), int(port)),
                                            timeout=TCP_CONNECT_TIMEOUT_S)
        except OSError as exc:
            raise CaptureError(f"cannot connect: {exc.strerror or exc}", path=spec) from None
        sock.settimeout(None)
        f = sock.makefile("rb")

        def close() -> None:
            f.close()
            sock.close()
        return Opened(f, spec, close)
    if spec.startswith("tcp-listen://"):
        return _listen(spec, err)
    if spec.startswith(("http://", "https://")):
        return _http(spec)
    if not os.path.exists(spec):
        raise CaptureError("no such file", path=spec)
    follow = FollowFile(spec, idle_s)
    return Opened(io.BufferedReader(follow, READ_BYTES), spec, follow.close)


def _listen(spec: str, err: TextIO | None) -> Opened:
    """Wait for one connection on ``tcp-listen://[HOST:]PORT`` (PCAPdroid's "TCP exporter"
    connects to a collector and sends its pcap stream) and read what it sends."""
    host, sep, port = spec[len("tcp-listen://"):].rpartition(":")
    if not port.isdigit():
        raise UsageError(f"listening source must be tcp-listen://[HOST:]PORT, got {spec!r}")
    try:
        server = socket.create_server((host.strip("[]") if sep else "", int(port)))
    except OSError as exc:
        raise UsageError(f"cannot listen on {spec}: {exc.strerror or exc}") from None
    if err is not None:
        err.write(f"waiting for a capture stream on port {port} ...\n")
        err.flush()
    with server:
        conn, _ = server.accept()
    f = conn.makefile("rb")

    def close() -> None:
        f.close()
        conn.close()
    return Opened(f, spec, close)


def _http(spec: str) -> Opened:
    """A pcap stream served over HTTP, e.g. PCAPdroid's "HTTP server" mode (its ``/``
    redirects to the live capture, sent chunked)."""
    import contextlib
    import urllib.error
    import urllib.request
    try:
        resp = urllib.request.urlopen(spec, timeout=TCP_CONNECT_TIMEOUT_S)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CaptureError(f"cannot download: {reason}", path=spec) from None
    with contextlib.suppress(AttributeError):  # a live capture may pause for long
        resp.fp.raw._sock.settimeout(None)
    return Opened(resp, spec, resp.close)


def _sys_stdin() -> BinaryIO:
    import sys
    return sys.stdin.buffer


def _read_some(f: IO[bytes], n: int) -> bytes:
    """What is ready (at least a byte, unless the stream ended): a live stream is not kept
    waiting for a whole buffer."""
    read1 = getattr(f, "read1", None)
    return read1(n) if read1 is not None else f.read(n)


# -- records -------------------------------------------------------------------------------
class RecordSplitter:
    """Cuts a pcap or pcapng byte stream into its header and its packet records.

    ``feed(data)`` returns ``(ts_ns, record bytes)`` for each complete packet record;
    :attr:`header` is what every excerpt must start with (the pcap global header, or the
    pcapng section header with its interface and other non-packet blocks).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.header = b""
        self.fmt: str | None = None
        self._e = "<"
        self._nanos = False
        self._units: list[int] = []

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out: list[tuple[int, bytes]] = []
        if self.fmt is None and not self._start():
            return out
        if self.fmt == "pcap":
            self._pcap(out)
        elif self.fmt == "pcapng":
            self._pcapng(out)
        return out

    def _start(self) -> bool:
        if len(self._buf) < 4:
            return False
        head = bytes(self._buf[:4])
        le, be = struct.unpack("<I", head)[0], struct.unpack(">I", head)[0]
        if le in (PCAP_MAGIC_US, PCAP_MAGIC_NS) or be in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            if len(self._buf) < PCAP_GLOBAL_HEADER_LEN:
                return False
            self._e = "<" if le in (PCAP_MAGIC_US, PCAP_MAGIC_NS) else ">"
            self._nanos = PCAP_MAGIC_NS in (le, be) and struct.unpack(
                self._e + "I", head)[0] == PCAP_MAGIC_NS
            self.header = bytes(self._buf[:PCAP_GLOBAL_HEADER_LEN])
            del self._buf[:PCAP_GLOBAL_HEADER_LEN]
            self.fmt = "pcap"
            return True
        if le == PCAPNG_SHB:
            self.fmt = "pcapng"
            return True
        self.fmt = "other"  # gzip or unknown: no rolling status; the end says what it is
        return False

    def _pcap(self, out: list[tuple[int, bytes]]) -> None:
        buf, pos, e = self._buf, 0, self._e
        while pos + PCAP_RECORD_HEADER_LEN <= len(buf):
            sec, frac, incl, _orig = struct.unpack_from(e + "IIII", buf, pos)
            end = pos + PCAP_RECORD_HEADER_LEN + incl
            if end > len(buf):
                break
            ts = sec * 1_000_000_000 + (frac if self._nanos else frac * 1000)
            out.append((ts, bytes(buf[pos:end])))
            pos = end
        del buf[:pos]

    def _pcapng(self, out: list[tuple[int, bytes]]) -> None:
        buf, pos = self._buf, 0
        while pos + 12 <= len(buf):
            btype = struct.unpack_from("<I", buf, pos)[0]
            if btype == PCAPNG_SHB:
                bom = struct.unpack_from("<I", buf, pos + 8)[0]
                self._e = "<" if bom == 0x1A2B3C4D else ">"
            blen = struct.unpack_from(self._e + "I", buf, pos + 4)[0]
            if blen < 12:
                self.fmt = "other"  # damaged: the final analysis will say where
                return
            if pos + blen > len(buf):
                break
            block = bytes(buf[pos: pos + blen])
            btype = struct.unpack_from(self._e + "I", block, 0)[0]
            if btype == PCAPNG_SHB:
                self.header, self._units = block, []
            elif btype in (PCAPNG_EPB, PCAPNG_OPB, PCAPNG_SPB):
                out.append((self._block_time(btype, block), block))
            else:
                if btype == PCAPNG_IDB:
                    self._units.append(_idb_units(block, self._e))
                if len(self.header) + len(block) <= MAX_HEADER_BYTES:
                    self.header += block
            pos += blen
        del buf[:pos]

    def _block_time(self, btype: int, block: bytes) -> int:
        if btype == PCAPNG_SPB or len(block) < 20:
            return 0
        e = self._e
        iface = struct.unpack_from(e + ("H" if btype == PCAPNG_OPB else "I"), block, 8)[0]
        hi, lo = struct.unpack_from(e + "II", block, 12)
        units = self._units[iface] if iface < len(self._units) else 1_000_000
        return ((hi << 32) | lo) * 1_000_000_000 // units


def _idb_units(block: bytes, e: str) -> int:
    p, end = 16, len(block) - 4
    while p + 4 <= end:
        code, olen = struct.unpack_from(e + "HH", block, p)
        if code == 0:
            break
        if code == 9 and olen >= 1:
            r = block[p + 4]
            return 2 ** (r & 0x7F) if r & 0x80 else 10 ** r
        p += 4 + ((olen + 3) & ~3)
    return 1_000_000


class Window:
    """The records of the last ``seconds`` of capture time (and at most ``max_bytes``)."""

    def __init__(self, seconds: float, max_bytes: int = MAX_WINDOW_BYTES) -> None:
        self.span_ns = int(seconds * 1e9)
        self.max_bytes = max_bytes
        self.records: deque[tuple[int, bytes]] = deque()
        self.bytes = 0

    def add(self, ts_ns: int, rec: bytes) -> None:
        self.records.append((ts_ns, rec))
        self.bytes += len(rec)
        while self.records and (ts_ns - self.records[0][0] > self.span_ns
                                or self.bytes > self.max_bytes):
            self.bytes -= len(self.records.popleft()[1])

    def capture(self, header: bytes) -> bytes:
        return header + b"".join(r for _, r in self.records)


# -- status --------------------------------------------------------------------------------
def rolling_status(data: bytes, name: str) -> list[dict[str, Any]]:
    """Per call of the excerpt ``data``: app, rate, loss, jitter and the patterns so far."""
    from analyzer.streams.capture import read_capture
    from analyzer.verdict.engine import analyze
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cap = read_capture(io.BytesIO(data), name=name)
        except CaptureError:
            return []
        analysis = analyze(cap)
    out = []
    for call, report in zip(cap.calls, analysis.calls, strict=False):
        streams = [cap.streams[i] for i in call.streams if cap.streams[i].is_media]
        packets = sum(s.stats.packets for s in streams)
        lost = sum(max(s.stats.lost or 0, 0) for s in streams)
        rate = sum(s.stats.to_dict().get("bitrate_bps") or 0.0 for s in streams)
        jitter = max((s.stats.to_dict().get("mean_jitter_ms") or 0.0 for s in streams),
                     default=0.0)
        out.append({
            "call": report.number, "app": call.app, "rate_bps": rate,
            "loss": lost / (packets + lost) if packets + lost else 0.0,
            "mean_jitter_ms": jitter, "verdict": report.verdict,
            "patterns": list(dict.fromkeys(f.pattern for f in report.findings)),
        })
    return out


def status_line(t_s: float, calls: list[dict[str, Any]]) -> str:
    if not calls:
        return f"[{t_s:7.1f} s] no call yet"
    parts = []
    for c in calls:
        pats = ", ".join(c["patterns"]) or "none"
        parts.append(f"call {c['call']} ({c['app'] or 'unknown app'}): "
                     f"{c['rate_bps'] / 1000:.1f} kbit/s, loss {100 * c['loss']:.1f}%, "
                     f"jitter {c['mean_jitter_ms']:.2f} ms, patterns so far: {pats}")
    return f"[{t_s:7.1f} s] " + " | ".join(parts)


# -- the command ---------------------------------------------------------------------------
def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser(
        "watch", help="follow a capture while it is being made: a rolling status line per "
        "call, then the verdict",
        description="Watch SOURCE: '-' (a pcap/pcapng stream on stdin, e.g. from "
        "'tcpdump -U -w -'), a capture file still being written, tcp://HOST:PORT "
        "(PCAP-over-IP), tcp-listen://[HOST:]PORT (wait for a sender such as PCAPdroid's "
        "TCP exporter) or http://PHONE:PORT/ (PCAPdroid's HTTP server). Prints a status "
        "line per call every few seconds of capture time "
        "and, at the end of the stream or on Ctrl-C, the verdict 'analyze' prints.")
    w.add_argument("source", metavar="SOURCE", help="'-', a growing file, tcp://HOST:PORT, "
                   "tcp-listen://[HOST:]PORT or http://HOST:PORT/")
    w.add_argument("--json", action="store_true", help="JSON Lines: rolling updates, then "
                   "the final analysis document")
    w.add_argument("--save", metavar="FILE", help="keep the raw capture in FILE (written "
                   "whole at the end; never over an input)")
    w.add_argument("--every", type=float, default=5.0, metavar="S",
                   help="seconds of capture time between status lines (default 5)")
    w.add_argument("--window", type=float, default=30.0, metavar="S",
                   help="seconds of capture the rolling status looks at (default 30)")
    w.add_argument("--idle", type=float, default=10.0, metavar="S",
                   help="a followed file that has not grown for S seconds has ended "
                   "(default 10)")


def cmd_watch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from analyzer.cli.status import ExitStatus
    if not (0 < args.every <= 3600) or not (0 < args.window <= 86400) or args.idle < 0:
        raise UsageError("--every, --window must be positive (at most 1 h / 1 day), "
                         "--idle not negative")
    src = open_source(args.source, stdin=getattr(args, "stdin_binary", None),
                      idle_s=args.idle, err=err)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
    try:
        _follow(src, spool, args, out)
        spool.seek(0)
        analysis = _final(spool, src.name)
        if args.save:
            from analyzer.atomic import atomic_write
            spool.seek(0)
            with atomic_write(args.save, "wb") as f:
                shutil.copyfileobj(spool, f)
            err.write(f"wrote {args.save}\n")
    finally:
        spool.close()
        src.close()
    if args.json:
        out.write(json.dumps(analysis.to_dict()) + "\n")
    else:
        from analyzer.verdict import render_text
        out.write(render_text(analysis) + "\n")
    return ExitStatus.OK


def _follow(src: Opened, spool: IO[bytes], args: argparse.Namespace, out: TextIO) -> None:
    """Copy the stream to ``spool``, printing a status line every ``--every`` seconds of
    capture time; stop at its end or on Ctrl-C."""
    split = RecordSplitter()
    window = Window(args.window)
    every_ns = int(args.every * 1e9)
    t0: int | None = None
    next_ns: int | None = None
    try:
        for chunk in _chunks(src.stream):
            spool.write(chunk)
            for ts, rec in split.feed(chunk):
                if t0 is None:
                    t0, next_ns = ts, ts + every_ns
                window.add(ts, rec)
                if next_ns is not None and ts >= next_ns:
                    _emit(out, args.json, (ts - t0) / 1e9,
                          rolling_status(window.capture(split.header), src.name))
                    next_ns = ts + every_ns
    except KeyboardInterrupt:
        pass  # the capture so far is analysed as a whole


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    while True:
        try:
            data = _read_some(f, READ_BYTES)
        except OSError as exc:
            raise CaptureError(f"read error: {exc}") from None
        if not data:
            return
        yield data


def _emit(out: TextIO, as_json: bool, t_s: float, calls: list[dict[str, Any]]) -> None:
    if as_json:
        out.write(json.dumps({"type": "status", "t_s": round(t_s, 3), "calls": calls}) + "\n")
    else:
        out.write(status_line(t_s, calls) + "\n")
    out.flush()


def _final(spool: IO[bytes], name: str):
    """The analysis of the whole capture, exactly as ``analyze`` makes it."""
    from analyzer.streams.capture import read_capture
    from analyzer.verdict.engine import analyze
    spool.seek(0, os.SEEK_END)
    if spool.tell() == 0:
        raise NotACapture("the stream ended before any byte came", path=name, offset=0)
    spool.seek(0)
    cap = read_capture(spool, name=name)  # type: ignore[arg-type]
    return analyze(cap)
