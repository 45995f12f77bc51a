"""The call and finding tables the population statistics read, in any of the usual shapes.

A table is a :class:`pyarrow.Table`, a pandas ``DataFrame``, a list of row dicts, a
``calls.parquet``/``findings.parquet`` path or a batch output folder (its ``calls.parquet``).
:func:`rows_of` turns any of them into a list of row dicts. :func:`period_of` is the default
period of a date: its ISO week (``2025-W33``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]

#: Patterns a network does not make by accident (DOMAIN.md): a flat delivered rate, drops at
#: an exact period, a stop after a fixed time or size, setup requests never answered.
DELIBERATE_PATTERNS = frozenset({"rate_cap", "periodic_drop", "cutoff", "blocked_setup"})


def rows_of(table: Any, *, name: str = "calls") -> list[Row]:
    """Row dicts of ``table`` (see the module's docstring)."""
    if isinstance(table, str | os.PathLike):
        path = Path(table)
        if path.is_dir():
            path = path / f"{name}.parquet"
        import pyarrow.parquet as pq
        return list(pq.read_table(path).to_pylist())
    if hasattr(table, "to_pylist"):
        return list(table.to_pylist())
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        return list(table.to_dict("records"))
    if isinstance(table, Sequence):
        return [dict(r) for r in table]
    raise TypeError(f"expected a pyarrow Table, a DataFrame, row dicts or a path, "
                    f"not {type(table).__name__}")


def period_of(date: str | None) -> str | None:
    """The ISO week of an ISO date (``"2025-08-13"`` -> ``"2025-W33"``)."""
    if not date:
        return None
    try:
        d = dt.date.fromisoformat(str(date)[:10])
    except ValueError:
        return None
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def is_deliberate(row: Mapping[str, Any]) -> bool:
    """A call whose degradation looks deliberate: its ``deliberate`` column when there is
    one, else its ``interference`` is ``likely`` when the analysis says so, else one of
    :data:`DELIBERATE_PATTERNS` was found on it."""
    if row.get("deliberate") is not None:
        return bool(row["deliberate"])
    interference = row.get("interference")
    if interference in ("likely", "possible", "none_seen"):
        return interference == "likely"
    patterns = row.get("patterns") or ()
    if isinstance(patterns, str):
        patterns = patterns.split(",")
    return bool(DELIBERATE_PATTERNS & set(patterns))


def truthy(value: Any) -> bool:
    """Manifest yes/no values: ``yes``, ``true``, ``1``, ``y`` (any case) and ``True``."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("yes", "true", "1", "y")
