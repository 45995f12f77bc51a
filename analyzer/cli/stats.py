"""``analyzer stats``: the detailed human view of each media stream's quality."""

from __future__ import annotations

from analyzer.metrics.quality import BUFFER_NAMES, StreamQuality
from analyzer.streams.capture import Capture

BUFFER_LABELS = {"fixed_50ms": "fixed 50 ms", "fixed_200ms": "fixed 200 ms",
                 "adaptive_500ms": "adaptive ≤500 ms"}


def _ms(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v * 1000:.{digits}f} ms"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f} %"


def _stream_block(cap: Capture, q: StreamQuality) -> list[str]:
    s = cap.streams[q.stream]
    st = s.stats
    d = q.to_dict(detail=True)
    head = f"stream {s.index}: {s.label}"
    if s.ssrc is not None:
        head += f"  SSRC 0x{s.ssrc:08X}"
    kind = ", ".join(x for x in (s.kind, s.app, s.codec,
                                 f"{s.clock_rate_hz} Hz ({s.clock_source})"
                                 if s.clock_rate_hz else None) if x)
    lines = [head, f"  {kind}; {st.packets} packets, {st.start_s:.3f}–{st.end_s:.3f} s, "
             f"{s.ip_bps / 1000:.1f} kbit/s at the IP layer ({s.payload_bps / 1000:.1f} "
             "kbit/s of payload)"]
    segs = ", ".join(f"{x:g} ms" for x in d["frame_intervals_ms"]) or "unknown"
    dtx = d["dtx"]
    lines.append(f"  frame interval {segs} (from {d['frame_interval_source']}); DTX "
                 f"{dtx['periods']} periods, {dtx['total_s']:.1f} s; comfort noise "
                 f"{dtx['comfort_noise_packets']} packets")
    lp = d.get("loss")
    if lp:
        hist = " ".join(f"{k}:{v}" for k, v in lp["run_histogram"].items() if v)
        lines.append(f"  loss {lp['lost']} of {lp['expected']} ({_pct(lp['loss_fraction'])}); "
                     f"TShark-style lost {st.lost}; late {lp['late']}, duplicates "
                     f"{lp['duplicates']}")
        lines.append(f"  loss runs: {lp['runs']} (lengths {hist or 'none'}), longest "
                     f"{lp['max_run']}; P(loss | previous lost) "
                     f"{_pct(lp['conditional_loss_probability'])}")
        lines.append(f"  RFC 3611 burst/gap (Gmin {lp['gmin']}): burst density "
                     f"{_pct(lp['burst_density'])}, gap density {_pct(lp['gap_density'])}, "
                     f"burst duration {_ms(lp['burst_duration_s'], 0)}, gap duration "
                     f"{_ms(lp['gap_duration_s'], 0)}; BurstR {lp['burst_ratio']:.2f}")
    else:
        lines.append("  loss: not measurable (no RTP sequence numbers)")
    g = d["gaps"]
    if g["count"]:
        lines.append(f"  gaps: {g['count']} (longest {_ms(g['max_s'], 0)} at "
                     f"{g['longest_start_s']:.3f} s; {g['shared_with_reverse']} also in the "
                     f"other direction, {g['without_loss']} without loss)")
    co = d["cutoff"]
    if co:
        lines.append(f"  CUT-OFF at {co['at_s']:.3f} s: {co['missing_packets']} packets expected "
                     f"but never came (call went on until {co['continued_until_s']:.3f} s; "
                     f"{co['evidence']})")
    if st.mean_jitter_ms is not None:
        pdv = d.get("pdv") or {}
        lines.append(f"  jitter mean {st.mean_jitter_ms:.2f} ms, max {st.max_jitter_ms:.2f} ms"
                     + (f"; PDV p50 {_ms(pdv.get('p50_s'))}, p95 {_ms(pdv.get('p95_s'))}, "
                        f"p99 {_ms(pdv.get('p99_s'))}" if pdv else ""))
    ia = d.get("interarrival") or {}
    if ia.get("count"):
        lines.append(f"  inter-arrival p50 {_ms(ia['p50_s'])}, p95 {_ms(ia['p95_s'])}, "
                     f"max {_ms(ia['max_s'])}")
    jb = d.get("jitter_buffers") or {}
    if jb:
        lines.append("  jitter buffer         late  concealed  longest run  MOS")
        for name in BUFFER_NAMES:
            b = jb.get(name)
            if not b:
                continue
            mos = d["mos"].get(name)
            lines.append(f"    {BUFFER_LABELS[name]:18s} {b['late_discards']:5d}  "
                         f"{_pct(b['concealed_fraction']):>9s}  {b['max_concealment_run']:>6d}"
                         f" frames  {'-' if mos is None else f'{mos:.2f}'}")
        if d.get("mos_relative_index"):
            lines.append("    (MOS is a relative index: no ITU-T values exist for this codec)")
    elif d.get("mos_note"):
        lines.append(f"  MOS: {d['mos_note']}")
    return lines


def render_stats(cap: Capture, quality: dict[int, StreamQuality]) -> str:
    out = [f"{cap.path}: {cap.packets} packets, {cap.duration_s:.3f} s, "
           f"{len(cap.media_streams)} media streams in {len(cap.calls)} calls"]
    for call in cap.calls:
        out.append("")
        out.append(f"call {call.number} ({call.app or 'unknown app'}), "
                   f"{call.start_s:.3f}–{call.end_s:.3f} s")
        for i in call.streams:
            if i in quality:
                out.extend(_stream_block(cap, quality[i]))
    return "\n".join(out)
