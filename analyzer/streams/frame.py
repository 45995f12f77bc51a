"""Tables of streams for pandas: scalar columns from nested JSON-like records, integer
columns kept integer (pandas' nullable ``Int64`` where a value may be missing)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Columns that hold integers but may be missing.
NULLABLE_INT = ("ssrc", "sport", "dport", "payload_type", "clock_rate_hz", "lost",
                "duplicates", "reordered", "sequence_errors", "reverse", "call",
                "after_packets", "after_bytes")


def flatten(d: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Scalar leaves of a nested JSON-like mapping, keys joined with ``_`` (lists are
    left out: a table cell holds one value)."""
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from flatten(v, f"{key}_")
        elif not isinstance(v, list | tuple):
            yield key, v



def frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A DataFrame of ``records`` with :data:`NULLABLE_INT` columns as ``Int64``."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
    df = pd.DataFrame(list(records))
    for col in NULLABLE_INT:
        if col in df.columns:
            df[col] = df[col].astype("Int64")
    return df
