"""Resource bounds of a run, as settings: :class:`Limits`.

A capture is untrusted, so every quantity of work an input could inflate has a bound that
counts things, never seconds (the results must not depend on the machine's speed). The
defaults suit a 24 GiB / 2-core machine and lie well above any real capture, so they
change nothing there; a bound that is reached never stops the analysis: the capture is
analysed within it, and a warning names the bound and its value (:func:`reached`), in the
capture's or the analysis's warnings (and so in the JSON and on the terminal).

======================== ========= =====================================================
field                    default   what is bounded
======================== ========= =====================================================
``max_empty_records``    100 000   records with zero lengths in a row before the reader
                                   stops (a zero-filled file or a decompression bomb);
                                   the records before are kept
``max_windows_floor``    86 400    windows of one stream at most (a day of 1-s
                                   windows) ...
``windows_per_packet``   4         ... or this many per packet where a stream has more
                                   packets (0: the floor alone): a stream sparse over a
                                   long span gets longer windows instead of arrays sized
                                   by its span
``max_detailed_streams`` 2 000     media streams of calls run through the detectors; the
                                   rest (the smallest by packets) are listed with their
                                   statistics and quality, not tested
``max_resamples``        400       permutations or bootstrap resamples of any one
                                   resampling test (the onset's loss scan draws at most
                                   99, the periodic-drop calibration 199, the rate-cap
                                   interval 400: the default caps none of them)
======================== ========= =====================================================

The base layer: imports nothing of the package but :mod:`analyzer.errors`. The layers
below the verdict take the values as plain parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from analyzer.errors import UsageError

#: Records in a row with zero lengths after which reading stops (the capture reader's
#: own default, ``analyzer.capture.records.MAX_EMPTY_RECORDS``, is the same number).
MAX_EMPTY_RECORDS = 100_000
#: Windows per stream at most: a day of 1-s windows, or ``WINDOWS_PER_PACKET`` per packet.
MAX_WINDOWS_FLOOR = 86_400
WINDOWS_PER_PACKET = 4
#: Media streams of calls the detectors run on, the largest (by packets) first.
MAX_DETAILED_STREAMS = 2_000
#: Permutations or bootstrap resamples of one resampling test.
MAX_RESAMPLES = 400


@dataclass(frozen=True)
class Limits:
    """The resource bounds of an analysis (see the module's table); every field is a
    count, at least 1 (``windows_per_packet`` may be 0: then ``max_windows_floor`` alone
    bounds every stream). Build one from text with :meth:`parse` (``NAME=VALUE`` items,
    as ``--limit`` takes them) or from a mapping with :meth:`from_mapping`."""

    max_empty_records: int = MAX_EMPTY_RECORDS
    max_windows_floor: int = MAX_WINDOWS_FLOOR
    windows_per_packet: int = WINDOWS_PER_PACKET
    max_detailed_streams: int = MAX_DETAILED_STREAMS
    max_resamples: int = MAX_RESAMPLES

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise UsageError(f"limit {f.name} must be a whole number, not {v!r}")
            least = 0 if f.name == "windows_per_packet" else 1
            if v < least:
                raise UsageError(f"limit {f.name} must be at least {least}, not {v}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: Limits | None = None) -> Limits:
        """``base`` (default: the defaults) with the fields in ``values`` replaced; a value
        may be an int or its text (``"2000"``, ``"2_000"``). Unknown names and values that
        are not whole numbers raise :class:`~analyzer.errors.UsageError`."""
        known = cls.names()
        out: dict[str, int] = {}
        for name, value in values.items():
            if name not in known:
                raise UsageError(f"unknown limit {name!r} (known: {', '.join(known)})")
            out[name] = _count(name, value)
        return replace(base if base is not None else cls(), **out)

    @classmethod
    def parse(cls, items: Iterable[str], base: Limits | None = None) -> Limits:
        """Limits from ``NAME=VALUE`` strings (a later item wins over an earlier one)."""
        values: dict[str, str] = {}
        for item in items:
            name, sep, value = item.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise UsageError(f"--limit wants NAME=VALUE, got {item!r} (names: "
                                 f"{', '.join(cls.names())})")
            values[name.strip()] = value.strip()
        return cls.from_mapping(values, base)

    def max_windows(self, packets: int) -> int:
        """The most windows a stream of ``packets`` packets is cut into."""
        return max(self.max_windows_floor, self.windows_per_packet * int(packets))

    def window_bound(self, packets: int) -> str:
        """The field that sets the bound on the windows of a stream of ``packets``."""
        if self.max_windows_floor >= self.windows_per_packet * int(packets):
            return "max_windows_floor"
        return "windows_per_packet"

    def windows_reached(self, window_s: float, streams: Iterable[tuple[int, str]]
                        ) -> list[str]:
        """The warnings for streams whose windows were made longer than ``window_s`` to
        stay within the bound: ``streams`` gives each one's packets and a description;
        one warning per field that bound them."""
        by_name: dict[str, list[str]] = {}
        for packets, what in streams:
            by_name.setdefault(self.window_bound(packets), []).append(what)
        out = []
        for name, each in by_name.items():
            more = f"; and {len(each) - 3} more" if len(each) > 3 else ""
            out.append(reached(name, getattr(self, name), (
                f"windows longer than {window_s:g} s for {len(each)} stream(s), at most "
                f"max({self.max_windows_floor}, {self.windows_per_packet} x packets) "
                f"windows each: {'; '.join(each[:3])}{more}")))
        return out

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _count(name: str, value: Any) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise UsageError(f"limit {name} must be a whole number, not {value!r}") from None
    return value  # type checked by Limits.__post_init__


def reached(name: str, value: int | str, detail: str) -> str:
    """The warning for a bound that was reached: ``limit NAME=VALUE reached: detail``."""
    return f"limit {name}={value} reached: {detail}"
