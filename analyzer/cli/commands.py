"""Sub-command implementations, each a few lines over the public API."""

from __future__ import annotations

import argparse
from typing import TextIO

from analyzer.cli.redaction import add_redact_options, pseudonymizer_for
from analyzer.cli.status import ExitStatus
from analyzer.phases import format_report, phase, report, start


def register(sub: argparse._SubParsersAction) -> None:
    """Sub-commands beyond ``flows`` register here."""
    an = sub.add_parser(
        "analyze", help="decide whether the calls in a capture were degraded on purpose "
        "(rate cap, cut-off, periodic drops, burst loss, jitter, blocked setup)",
        description="Analyse a capture against a baseline: another capture of the same call "
        "(VPN, other network, minutes before), a saved profile, or else the other direction "
        "/ the clean part of the call / the built-in profile of clean calls.")
    an.add_argument("capture", help="pcap or pcapng file (may be gzip-compressed); '-' reads "
                    "it from stdin")
    base = an.add_mutually_exclusive_group()
    base.add_argument("--baseline", metavar="CAPTURE", help="a capture of the same call "
                      "without the suspected interference")
    base.add_argument("--profile", metavar="FILE", help="a profile from 'analyzer baseline "
                      "build'")
    an.add_argument("--json", action="store_true", help="write the analysis as JSON")
    an.add_argument("--save-json", metavar="FILE", help="also write the analysis JSON to "
                    "FILE (the terminal still gets the text; missing folders are created)")
    an.add_argument("--fail-on-detect", action="store_true",
                    help="exit with status 3 when degradation or blocking is found")
    an.add_argument("--report", metavar="PDF", help="also write a PDF report (missing "
                    "parent folders are created; never over an input)")
    an.add_argument("--png", metavar="DIR", help="also write each report figure as PNG into "
                    "DIR (created with its missing parents; never over an input)")
    add_redact_options(an)
    add_profile_option(an)
    from analyzer.cli.watch import add_parser as add_watch
    add_watch(sub)
    from analyzer.cli.verify import add_parser as add_verify
    add_verify(sub)
    bl = sub.add_parser("baseline", help="build a baseline profile from clean captures")
    blsub = bl.add_subparsers(dest="baseline_command", metavar="ACTION")
    bb = blsub.add_parser("build", help="build a profile from clean captures")
    bb.add_argument("captures", nargs="+", metavar="CAPTURE")
    bb.add_argument("-o", "--output", required=True, metavar="FILE",
                    help="profile JSON to write (missing parent folders are created; never "
                    "over an input)")
    bb.add_argument("--description", default="")
    st = sub.add_parser(
        "stats", help="detailed call quality per media stream: frame interval, loss runs, "
        "burst/gap, gaps, cut-off, jitter buffers, MOS")
    st.add_argument("capture", help="pcap or pcapng file (may be gzip-compressed)")
    st.add_argument("--json", action="store_true",
                    help="the flows JSON with every quality figure (detail)")
    st.add_argument("--csv", metavar="DIR", help="write each stream's windowed series as CSV "
                    "into DIR (created with its missing parents; never over an input)")
    st.add_argument("--window", type=float, default=1.0, metavar="S",
                    help="window length for the series, seconds (default 1)")
    add_redact_options(st)
    add_profile_option(st)
    for name in ("flows", "stats", "analyze"):
        add_engine_option(sub.choices[name])
    for name in ("flows", "stats", "analyze"):
        add_limit_option(sub.choices[name])
    sim = sub.add_parser(
        "simulate", help="write a simulated two-way call with a labelled impairment (pcap "
        "plus a truth JSON beside it)",
        description="Write OUT (pcap) and OUT.truth.json: a two-way call with the impairment "
        "of scenario KIND. Parameters: --param NAME=VALUE (a CallSpec field such as "
        "duration_s, framing=rtp|rtp_sdp|whatsapp|telegram|opaque, asymmetric_ports=true, "
        "frame_interval_ms, or the "
        "scenario's own, e.g. rate_bps, p, period_s, onset_s). --list shows them all.")
    sim.add_argument("kind", nargs="?", help="scenario name (see --list)")
    sim.add_argument("out", nargs="?", help="pcap file to write (missing parent folders are "
                     "created)")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE")
    sim.add_argument("--list", action="store_true", help="list scenarios and defaults")
    sim.add_argument("--no-packets", action="store_true",
                     help="leave the per-packet columns out of the truth JSON")
    from analyzer.cli import batch
    batch.register(sub)
    add_limit_option(sub.choices["batch"])


def add_profile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile-phases", action="store_true",
                   help="print on stderr the wall and CPU seconds of each phase (startup, "
                   "read, dissect, group, stats, quality, features, detect, render)")


def add_engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("native", "tshark"), default="native",
                   help="who reads the capture: 'native' (default, fast: pcap/pcapng, gzip) "
                   "or 'tshark' (Wireshark's reader: ERF, snoop, NetMon, K12, nettl, "
                   "802.11, tunnels; needs tshark; about ten times slower)")


LIMIT_HELP = (
    "a resource bound, NAME=VALUE (repeatable; whole numbers): max_empty_records (empty "
    "records in a row before reading stops, default 100000), max_windows_floor and "
    "windows_per_packet (windows per stream at most: max(FLOOR, PER_PACKET x packets), "
    "default 86400 and 4; longer windows beyond), max_detailed_streams (media streams "
    "of calls run through the detectors, largest first, default 2000; the rest are "
    "listed untested), max_resamples (draws of any permutation or bootstrap test, "
    "default 400). A bound reached is a warning naming it; the capture is still "
    "analysed within it")


def add_limit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help=LIMIT_HELP)


def limits_of(args: argparse.Namespace):
    """The :class:`~analyzer.limits.Limits` of ``--limit NAME=VALUE`` options (a bad name or
    value is a usage error)."""
    from analyzer.limits import Limits
    return Limits.parse(getattr(args, "limit", None) or [])


def _read(path: str, err: TextIO, stdin=None, engine: str = "native", limits=None):
    from analyzer.cli.progress import progress_for
    from analyzer.streams.capture import read_capture
    if path == "-":  # a capture piped in: read as it comes, named like the stream
        import sys
        return read_capture(stdin if stdin is not None else sys.stdin.buffer, name="<stdin>",
                            engine=engine, limits=limits)
    if engine == "tshark":
        return read_capture(path, engine="tshark", limits=limits)
    bar = progress_for(f"reading {path}", err)
    try:
        return read_capture(path, progress=bar, limits=limits)
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
    from analyzer.metrics.quality import quality_of
    from analyzer.redact import redact_object
    limits = limits_of(args)
    cap = _read(args.capture, err, getattr(args, "stdin_binary", None), args.engine, limits)
    want = args.csv or (args.json and not args.no_quality)
    # the JSON needs only each stream's summary figures; the CSV needs the windows
    quality = quality_of(cap, window_s=_window(args), detail=bool(args.csv),
                         max_windows_floor=limits.max_windows_floor,
                         windows_per_packet=limits.windows_per_packet) if want else None
    p = pseudonymizer_for(args, cap)
    view = cap if p is None else redact_object(cap, p)  # what is shown: names, JSON, CSV
    if args.csv:
        for path in write_csv(view, quality or {}, args.csv, limits=limits):
            err.write(f"wrote {path}\n")
    check = None
    if args.cross_check:
        from analyzer.crosscheck import cross_check
        check = cross_check(cap)
    with phase("render"):
        if args.json:
            doc = view.to_dict(quality)
            if check is not None:
                doc["cross_check"] = check.to_dict()
            to_json(doc if p is None else p.value(doc), out)
        else:
            text = render_table(view, show_all=args.all)
            if check is not None:
                text += "\n" + render_cross_check(check)
            out.write((text if p is None else p.text(text)) + "\n")
    return ExitStatus.OK


def render_cross_check(check) -> str:
    lines = [f"cross-check with tshark (heuristic RTP): {check.agreeing} of "
             f"{len(check.streams)} streams agree (packets, lost; delta and jitter within "
             "0.01 ms)"]
    for c in check.streams:
        if not c.agrees:
            src, sport, dst, dport, ssrc = c.key
            lines.append(f"  {src}:{sport} -> {dst}:{dport} 0x{ssrc:08X}: "
                         + "; ".join(c.differences))
    return "\n".join(lines)


def cmd_stats(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.flows import to_json, write_csv
    from analyzer.cli.stats import render_stats
    from analyzer.metrics.quality import quality_of
    from analyzer.redact import redact_object
    limits = limits_of(args)
    cap = _read(args.capture, err, getattr(args, "stdin_binary", None), args.engine, limits)
    quality = quality_of(cap, window_s=_window(args),
                         max_windows_floor=limits.max_windows_floor,
                         windows_per_packet=limits.windows_per_packet)
    p = pseudonymizer_for(args, cap)
    view = cap if p is None else redact_object(cap, p)
    if args.csv:
        for path in write_csv(view, quality, args.csv, limits=limits):
            err.write(f"wrote {path}\n")
    with phase("render"):
        if args.json:
            doc = view.to_dict(quality, detail=True)
            to_json(doc if p is None else p.value(doc), out)
        else:
            text = render_stats(view, quality)
            out.write((text if p is None else p.text(text)) + "\n")
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


def cmd_analyze(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.baseline.profile import Profile
    from analyzer.cli.flows import to_json
    from analyzer.cli.progress import count_bar_for
    from analyzer.redact import redact_object
    from analyzer.verdict import render_text
    from analyzer.verdict.engine import analyze
    from analyzer.verdict.settings import Settings
    limits = limits_of(args)
    cap = _read(args.capture, err, getattr(args, "stdin_binary", None), args.engine, limits)
    baseline = _read(args.baseline, err, engine=args.engine, limits=limits) \
        if args.baseline else None
    profile = Profile.load(args.profile) if args.profile else None
    bar = count_bar_for(f"analysing {args.capture}", "calls", err)
    try:
        with phase("detect"):
            analysis = analyze(cap, baseline=baseline, profile=profile, progress=bar,
                               settings=Settings(limits=limits))
    finally:
        if bar is not None:
            bar.close()
    p = pseudonymizer_for(args, cap)
    # what is shared: every address outside the relays' networks pseudonymised
    shown = analysis if p is None else redact_object(analysis, p)
    if args.report or args.png:
        from analyzer.report import write_report
        with phase("report"):
            written = write_report(shown, args.report, args.png)
        for path in written:
            err.write(f"wrote {path}\n")
    if args.save_json:
        from analyzer.cli.flows import write_json
        doc = analysis.to_dict()
        write_json(doc if p is None else p.value(doc), args.save_json)
        err.write(f"wrote {args.save_json}\n")
    with phase("render"):
        if args.json:
            doc = analysis.to_dict()
            to_json(doc if p is None else p.value(doc), out)
        else:
            text = render_text(analysis)
            out.write((text if p is None else p.text(text)) + "\n")
    if args.fail_on_detect and analysis.flagged:
        return ExitStatus.DETECTED
    return ExitStatus.OK


def cmd_baseline(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.errors import UsageError
    from analyzer.verdict import build_profile_file
    if args.baseline_command != "build":
        raise UsageError("baseline needs an action: build")
    prof = build_profile_file(args.captures, args.output, description=args.description)
    out.write(f"wrote {args.output} ({prof.summary() if hasattr(prof, 'summary') else ''})\n")
    return ExitStatus.OK


def cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.batch import cmd_batch as run
    return run(args, out, err)



def cmd_verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.verify import cmd_verify as verify
    return verify(args, out, err)


def cmd_watch(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.watch import cmd_watch as watch
    return ExitStatus(watch(args, out, err))


COMMANDS = {"flows": cmd_flows, "stats": cmd_stats, "analyze": cmd_analyze,
            "baseline": cmd_baseline, "simulate": cmd_simulate, "watch": cmd_watch,
            "verify": cmd_verify, "batch": cmd_batch}


def dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> ExitStatus:
    from analyzer.cli.outputs import check_args
    check_args(args)  # before any capture is read: outputs never harm inputs
    if not getattr(args, "profile_phases", False):
        return COMMANDS[args.command](args, out, err)
    start()
    status = COMMANDS[args.command](args, out, err)
    err.write(format_report(report()) + "\n")
    return status
