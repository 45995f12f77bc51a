"""``calls.parquet`` and ``findings.parquet``: one row per call and per finding, with the
capture's metadata as columns, built from the analyses' JSON.

A call row carries what the population statistics read: ``verdict``, ``interference``,
``deliberate`` (see :func:`analyzer.population.is_deliberate`), ``patterns``,
``cap_rate_bps`` (the lowest IP-layer rate of its ``rate_cap`` findings), the onset of its
deliberate-looking findings (``onset_s`` from the capture's start, ``onset_after_s`` and
``onset_after_bytes`` into the stream), ``date`` and ``period``. A capture without calls
whose verdict is ``blocked`` gets one row (``call`` null): a call attempt that never began.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from analyzer.atomic import atomic_write
from analyzer.population.rows import DELIBERATE_PATTERNS, is_deliberate, period_of

Row = dict[str, Any]
#: Metadata columns always present (null when unknown), before any others.
META_COLUMNS = ("vantage", "isp", "asn", "country", "network", "app", "date", "period", "vpn",
                "baseline")


def _meta(meta: Mapping[str, str], doc: Mapping[str, Any], detected_app: str | None) -> Row:
    row: Row = {c: meta.get(c) for c in META_COLUMNS}
    row.update({k: v for k, v in meta.items() if k not in row})
    if row["app"] is None:
        row["app"] = detected_app
    if row["date"] is None:
        start = (doc.get("input") or {}).get("start_utc")
        row["date"] = start[:10] if start else None
    row["period"] = row["period"] or period_of(row["date"])
    return row


def _onset(findings: Sequence[Mapping[str, Any]]) -> tuple[float | None, Any, Any]:
    chosen = [f for f in findings if f.get("pattern") in DELIBERATE_PATTERNS
              and f.get("start_s") is not None]
    if not chosen:
        return None, None, None
    first = min(chosen, key=lambda f: f["start_s"])
    est = first.get("estimate") or {}
    return first["start_s"], est.get("after_call_s"), est.get("after_bytes")


def call_rows(capture_id: str, capture: str, doc: Mapping[str, Any],
              meta: Mapping[str, str]) -> list[Row]:
    """One row per call of one analysis (``Analysis.to_dict()``)."""
    sha = (doc.get("input") or {}).get("sha256")
    calls = list(doc.get("calls") or [])
    rows = []
    for call in calls:
        findings = call.get("findings") or []
        patterns = sorted({f["pattern"] for f in findings})
        rates = [f["estimate"]["rate_bps"] for f in findings if f["pattern"] == "rate_cap"
                 and (f.get("estimate") or {}).get("rate_bps") is not None]
        onset_s, after_s, after_bytes = _onset(findings)
        row: Row = {"capture_id": capture_id, "capture": capture, "sha256": sha,
                    "call": call.get("number"), "detected_app": call.get("app"),
                    "verdict": call.get("verdict"), "interference": call.get("interference"),
                    "patterns": ",".join(patterns), "findings": len(findings),
                    "cap_rate_bps": min(rates) if rates else None, "onset_s": onset_s,
                    "onset_after_s": after_s, "onset_after_bytes": after_bytes,
                    "start_s": call.get("start_s"), "end_s": call.get("end_s")}
        row["deliberate"] = is_deliberate({"interference": row["interference"],
                                           "patterns": patterns})
        rows.append({**row, **_meta(meta, doc, call.get("app"))})
    if not calls and doc.get("verdict") == "blocked":
        patterns = sorted({f["pattern"] for f in doc.get("findings") or []})
        rows.append({"capture_id": capture_id, "capture": capture, "sha256": sha,
                     "call": None, "detected_app": None, "verdict": "blocked",
                     "interference": doc.get("interference"), "patterns": ",".join(patterns),
                     "findings": len(doc.get("findings") or []), "cap_rate_bps": None,
                     "onset_s": None, "onset_after_s": None, "onset_after_bytes": None,
                     "start_s": None, "end_s": None,
                     "deliberate": is_deliberate({"interference": doc.get("interference"),
                                                  "patterns": patterns}),
                     **_meta(meta, doc, None)})
    return rows


def finding_rows(capture_id: str, capture: str, doc: Mapping[str, Any],
                 meta: Mapping[str, str]) -> list[Row]:
    """One row per finding of one analysis."""
    apps = {c.get("number"): c.get("app") for c in doc.get("calls") or []}
    rows = []
    for f in doc.get("findings") or []:
        est = f.get("estimate") or {}
        number = f.get("call_number")
        rows.append({"capture_id": capture_id, "capture": capture, "call": number,
                     "pattern": f.get("pattern"), "stream": f.get("stream"),
                     "direction": f.get("direction"), "start_s": f.get("start_s"),
                     "end_s": f.get("end_s"), "pvalue": f.get("pvalue"),
                     "score": f.get("score"), "effect": f.get("effect"),
                     "confidence": f.get("confidence"), "rate_bps": est.get("rate_bps"),
                     "after_call_s": est.get("after_call_s"),
                     "after_bytes": est.get("after_bytes"),
                     "estimate": json.dumps(est, sort_keys=True), "summary": f.get("summary"),
                     **_meta(meta, doc, apps.get(number))})
    return rows


def write_parquet(rows: Sequence[Row], path: str | os.PathLike[str],
                  first: Sequence[str]) -> None:
    """Write ``rows`` as one parquet file (columns ``first`` first; an empty table still has
    them), whole or not at all."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    names = list(dict.fromkeys(first)) + sorted({k for r in rows for k in r} - set(first))
    columns = {n: [r.get(n) for r in rows] for n in names}
    table = pa.table({n: pa.array(v) if any(x is not None for x in v)
                      else pa.array(v, type=pa.string()) for n, v in columns.items()})
    with atomic_write(path, "wb") as fh:
        pq.write_table(table, fh)


CALL_COLUMNS = ("capture_id", "capture", "sha256", "call", "app", "detected_app", "verdict",
                "interference", "deliberate", "patterns", "findings", "cap_rate_bps",
                "onset_s", "onset_after_s", "onset_after_bytes", "start_s", "end_s",
                *META_COLUMNS)
FINDING_COLUMNS = ("capture_id", "capture", "call", "pattern", "stream", "direction",
                   "start_s", "end_s", "pvalue", "score", "effect", "confidence", "rate_bps",
                   "after_call_s", "after_bytes", "estimate", "summary", *META_COLUMNS)
