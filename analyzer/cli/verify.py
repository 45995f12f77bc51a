"""``analyzer verify CAPTURE``: read the capture with both engines and compare every stream.

The native reader and the tshark engine must find the same streams with the same packets,
losses, packet spacing (delta) and jitter (within :data:`TOLERANCE_MS`). Exit status 0 when
they agree, :attr:`~analyzer.cli.status.ExitStatus.ENGINES_DISAGREE` (9) when they do not.
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import dataclass, field
from typing import Any, TextIO

from analyzer.cli.status import ExitStatus
from analyzer.errors import CaptureError

TOLERANCE_MS = 0.01
EXACT = ("packets", "lost")
CLOSE = ("max_delta_ms", "mean_delta_ms", "max_jitter_ms", "mean_jitter_ms")


@dataclass
class StreamDiff:
    key: tuple[str, int, str, int, int | None]
    differences: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        src, sport, dst, dport, ssrc = self.key
        s = f"{src}:{sport} -> {dst}:{dport}"
        return s + (f" 0x{ssrc:08X}" if ssrc is not None else "")


def _streams(cap) -> dict[tuple, dict[str, Any]]:
    return {(s.src, s.sport, s.dst, s.dport, s.ssrc): s.stats.to_dict()
            for s in cap.media_streams}


def compare(native, other) -> list[StreamDiff]:
    """Every stream either engine found, with what differs (empty when they agree)."""
    a, b = _streams(native), _streams(other)
    out = []
    for key in sorted(set(a) | set(b), key=str):
        d = StreamDiff(key)
        if key not in b:
            d.differences.append("only the native engine finds this stream")
        elif key not in a:
            d.differences.append("only the tshark engine finds this stream")
        else:
            for k in EXACT:
                if a[key][k] != b[key][k]:
                    d.differences.append(f"{k} {a[key][k]} vs {b[key][k]}")
            for k in CLOSE:
                x, y = a[key][k], b[key][k]
                if (x is None) != (y is None) or (
                        x is not None and y is not None and abs(x - y) > TOLERANCE_MS):
                    d.differences.append(f"{k} {x} vs {y}")
        out.append(d)
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser(
        "verify", help="read a capture with both engines (native and tshark) and compare "
        "every stream; exit 9 when they disagree",
        description="Read CAPTURE with the native reader and with tshark and compare each "
        "media stream: packets, lost (exact), delta and jitter (within 0.01 ms). Exit 0 "
        "when they agree, 9 when they do not, 2 when tshark is missing. A format the "
        "native reader lacks is converted to pcapng with editcap first.")
    v.add_argument("capture", help="pcap or pcapng file")
    v.add_argument("--json", action="store_true", help="write the comparison as JSON")


def _read_native(path: str, err: TextIO):
    """The native engine's reading; a format it lacks (snoop, ERF, …) is first turned into
    pcapng by Wireshark's ``editcap``, then read natively (the streams are still ours).
    Where the pcapng keeps a link type the native reader lacks (ERF, nettl, K12 wrap
    Ethernet frames in their own), ``editcap -T ether`` labels the frames Ethernet."""
    import os
    import shutil
    import subprocess
    import tempfile

    from analyzer.errors import NotACapture, UnsupportedLinkType, UsageError
    from analyzer.streams.capture import read_capture
    try:
        return read_capture(path)
    except NotACapture:
        editcap = shutil.which("editcap")
        if not editcap:
            raise UsageError("the native reader does not know this format and editcap "
                             "(Wireshark's, to convert it) is missing: apt-get install "
                             "tshark") from None
    problem = ""
    with tempfile.TemporaryDirectory() as tmp:
        conv = os.path.join(tmp, "converted.pcapng")
        for extra in ([], ["-T", "ether"]):
            res = subprocess.run([editcap, "-F", "pcapng", *extra, path, conv],
                                 capture_output=True, text=True, check=False)
            if res.returncode != 0:
                problem = res.stderr.strip()
                continue
            try:
                cap = read_capture(conv)
            except UnsupportedLinkType as exc:
                problem = exc.reason
                continue
            how = " ".join(["editcap -F pcapng", *extra])
            err.write(f"{path}: not pcap/pcapng; the native engine reads the copy '{how}' "
                      "makes\n")
            return cap
    raise CaptureError(f"the native engine cannot read it, even through editcap: {problem}",
                       path=path)


def cmd_verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.capture.tshark import find_tshark
    from analyzer.streams.capture import read_capture
    find_tshark()  # one line saying how to install it, before any work
    native = _read_native(args.capture, err)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            other = read_capture(args.capture, engine="tshark")
        except CaptureError as exc:
            raise CaptureError(f"the tshark engine cannot read it: {exc.reason}",
                               path=args.capture) from None
    diffs = compare(native, other)
    bad = [d for d in diffs if d.differences]
    if args.json:
        out.write(json.dumps({
            "schema": "analyzer.verify/1", "file": args.capture, "streams": len(diffs),
            "agree": not bad, "tolerance_ms": TOLERANCE_MS,
            "differences": [{"stream": d.label, "differences": d.differences} for d in bad],
        }, indent=2) + "\n")
    else:
        lines = [f"native and tshark engines: {len(diffs) - len(bad)} of {len(diffs)} "
                 f"streams agree (packets, lost; delta and jitter within {TOLERANCE_MS} ms)"]
        for d in bad:
            lines.append(f"  {d.label}: " + "; ".join(d.differences))
        out.write("\n".join(lines) + "\n")
    return ExitStatus.ENGINES_DISAGREE if bad else ExitStatus.OK
