"""``analyzer flows``: the streams of a capture, as a table like tshark's or as JSON."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, TextIO

from analyzer.errors import CaptureWarning, UsageError
from analyzer.limits import Limits
from analyzer.streams.capture import Capture
from analyzer.streams.model import Stream

COLUMNS = ("Start(s)", "End(s)", "Src", "Port", "Dst", "Port", "SSRC", "Kind", "App",
           "Payload", "Pkts", "Lost", "MaxΔ(ms)", "MeanJit(ms)", "MaxJit(ms)", "Clock")


def _fmt_lost(s: Stream) -> str:
    st = s.stats
    if st.lost is None:
        return "-"
    exp = st.expected or 0
    pct = 100.0 * st.lost / exp if exp > 0 else 0.0
    return f"{st.lost} ({pct:.1f}%)"


def _row(s: Stream) -> tuple[str, ...]:
    st = s.stats
    def jit(v):
        return ("-" if v is None else f"{v:.3f}")
    payload = ",".join((s.codec or str(p)) if i == 0 else str(p)
                       for i, p in enumerate(s.payload_types)) or "-"
    clock = f"{s.clock_rate_hz}/{s.clock_source}" if s.clock_rate_hz else "-"
    return (f"{st.start_s:.6f}", f"{st.end_s:.6f}", s.src, str(s.sport), s.dst, str(s.dport),
            f"0x{s.ssrc:08X}" if s.ssrc is not None else "-", s.kind, s.app or "-", payload,
            str(st.packets), _fmt_lost(s), f"{st.max_delta_ms:.3f}", jit(st.mean_jitter_ms),
            jit(st.max_jitter_ms), clock)


def render_table(cap: Capture, *, show_all: bool = False) -> str:
    streams = [s for s in cap.streams if show_all or s.is_media]
    rows = [COLUMNS] + [_row(s) for s in streams]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [f"{cap.path}: {cap.packets} packets, {cap.duration_s:.3f} s, "
             f"{len(cap.media_streams)} media streams in {len(cap.calls)} calls"
             + ("" if show_all else f" ({len(cap.streams) - len(streams)} other flows hidden;"
                " --all shows them)")]
    for r in rows:
        lines.append("  ".join(c.rjust(w) if i in (0, 1, 10, 12, 13, 14) else c.ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    return "\n".join(lines)


def to_json(doc: dict[str, Any], out: TextIO) -> None:
    """Indented for a terminal; compact (and fast: the C encoder) for a pipe or file."""
    pretty = hasattr(out, "isatty") and out.isatty()
    out.write(json.dumps(doc, indent=2 if pretty else None, allow_nan=False, default=_default))
    out.write("\n")


def write_json(doc: dict[str, Any], path: str) -> None:
    """``doc`` as indented JSON in ``path``, written atomically (a temporary file beside
    it, then renamed), creating missing folders."""
    import os
    import tempfile
    target = os.path.abspath(path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".analyzer-", suffix=".part",
                               dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, allow_nan=False, default=_default)
            f.write("\n")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _default(o: object) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_csv(cap: Capture, quality: dict, directory: str, *,
              limits: Limits | None = None) -> list[Path]:
    """Each media stream's windowed series as ``DIR/stream<i>_<src>_<sport>-<dst>_<dport>.csv``
    (a warning names the bound where ``limits`` made a stream's windows longer)."""
    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --csv directory {directory}: {exc.strerror}") from None
    out = []
    widened: list[tuple[int, str]] = []
    for s in cap.streams:
        q = quality.get(s.index)
        if q is None:
            continue
        safe = f"stream{s.index}_{s.src}_{s.sport}-{s.dst}_{s.dport}".replace(":", ".")
        path = d / f"{safe}.csv"
        q.windows.to_csv(path)
        out.append(path)
        if q.windows.window_s > q.window_s * (1 + 1e-9):
            widened.append((q.packets, f"stream {s.index}: {len(q.windows)} windows of "
                            f"{q.windows.window_s:g} s"))
    lim = limits if limits is not None else Limits()
    window_s = next(iter(quality.values())).window_s if quality else 1.0
    for msg in lim.windows_reached(window_s, widened):
        warnings.warn(msg, CaptureWarning, stacklevel=2)
    return out
