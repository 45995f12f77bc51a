"""Sub-command implementations, each a few lines over the public API."""

from __future__ import annotations

import argparse
from typing import TextIO

from analyzer.cli.status import ExitStatus


def register(sub: argparse._SubParsersAction) -> None:
    """Sub-commands beyond ``flows`` register here."""
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


def cmd_flows(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.flows import render_table, to_json
    cap = _read(args.capture, err)
    if args.json:
        to_json(cap.to_dict(), out)
    else:
        out.write(render_table(cap, show_all=args.all) + "\n")
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


COMMANDS = {"flows": cmd_flows, "simulate": cmd_simulate}


def dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    return COMMANDS[args.command](args, out, err)
