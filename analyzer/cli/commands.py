"""Sub-command implementations, each a few lines over the public API."""

from __future__ import annotations

import argparse
from typing import TextIO

from analyzer.cli.status import ExitStatus


def register(sub: argparse._SubParsersAction) -> None:
    """Sub-commands beyond ``flows`` register here."""
    st = sub.add_parser(
        "stats", help="detailed call quality per media stream: frame interval, loss runs, "
        "burst/gap, gaps, cut-off, jitter buffers, MOS")
    st.add_argument("capture", help="pcap or pcapng file (may be gzip-compressed)")
    st.add_argument("--json", action="store_true",
                    help="the flows JSON with every quality figure (detail)")
    st.add_argument("--csv", metavar="DIR", help="write each stream's windowed series as CSV")
    st.add_argument("--window", type=float, default=1.0, metavar="S",
                    help="window length for the series, seconds (default 1)")
    sim = sub.add_parser(
        "simulate", help="write a simulated two-way call with a labelled impairment (pcap "
        "plus a truth JSON beside it)",
        description="Write OUT (pcap) and OUT.truth.json: a two-way call with the impairment "
        "of scenario KIND. Parameters: --param NAME=VALUE (a CallSpec field such as "
        "duration_s, framing=rtp|rtp_sdp|whatsapp|telegram, frame_interval_ms, or the "
        "scenario's own, e.g. rate_bps, p, period_s, onset_s). --list shows them all.")
    sim.add_argument("kind", nargs="?", help="scenario name (see --list)")
    sim.add_argument("out", nargs="?", help="pcap file to write")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE")
    sim.add_argument("--list", action="store_true", help="list scenarios and defaults")
    sim.add_argument("--no-packets", action="store_true",
                     help="leave the per-packet columns out of the truth JSON")


def _read(path: str, err: TextIO):
    from analyzer.api import read_capture
    from analyzer.cli.progress import progress_for
    bar = progress_for(f"reading {path}", err)
    try:
        return read_capture(path, progress=bar)
    finally:
        if bar is not None:
            bar.close()


def _window(args: argparse.Namespace) -> float:
    from analyzer.errors import UsageError
    w = getattr(args, "window", 1.0)
    if not (0.01 <= w <= 3600):
        raise UsageError(f"--window must be between 0.01 and 3600 s, got {w}")
    return w


def cmd_flows(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.flows import render_table, to_json, write_csv
    cap = _read(args.capture, err)
    quality = cap.quality(window_s=_window(args)) if (args.json or args.csv) else None
    if args.csv:
        for path in write_csv(cap, quality or {}, args.csv):
            err.write(f"wrote {path}\n")
    if args.json:
        to_json(cap.to_dict(quality), out)
    else:
        out.write(render_table(cap, show_all=args.all) + "\n")
    return ExitStatus.OK


def cmd_stats(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.flows import to_json, write_csv
    from analyzer.cli.stats import render_stats
    cap = _read(args.capture, err)
    quality = cap.quality(window_s=_window(args))
    if args.csv:
        for path in write_csv(cap, quality, args.csv):
            err.write(f"wrote {path}\n")
    if args.json:
        to_json(cap.to_dict(quality, detail=True), out)
    else:
        out.write(render_stats(cap, quality) + "\n")
    return ExitStatus.OK


def cmd_simulate(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.errors import UsageError
    from analyzer.simulate.scenarios import list_scenarios, simulate_to_file
    if args.list:
        for name, info in list_scenarios().items():
            defaults = ", ".join(f"{k}={v}" for k, v in info["defaults"].items())
            out.write(f"{name}: {info['description']}\n    {defaults}\n")
        return ExitStatus.OK
    if not args.kind or not args.out:
        raise UsageError("simulate needs KIND and OUT (or --list)")
    params = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param wants NAME=VALUE, got {item!r}")
        params[name.strip()] = value
    sim = simulate_to_file(args.out, kind=args.kind, seed=args.seed,
                           include_packets=not args.no_packets, **params)
    out.write(f"wrote {args.out} ({sim.ts_ns.size} packets) and {args.out}.truth.json\n")
    return ExitStatus.OK


COMMANDS = {"flows": cmd_flows, "stats": cmd_stats, "simulate": cmd_simulate}


def dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    return COMMANDS[args.command](args, out, err)
