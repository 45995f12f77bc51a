"""Population statistics over many analysed calls: :func:`summarize` -> :class:`Population`.

Calls are grouped by metadata columns (default ISP x app x period). For each group: the share
of calls degraded and the share whose degradation looks deliberate, with Wilson intervals;
the same shares among its control calls - the same group over a VPN when the manifest has
such calls, else the other apps on the same vantage (same values of every other grouping
column) - compared by Fisher's exact test with the risk difference and Cohen's h, Holm-
corrected across groups. A group is flagged when its deliberate-looking share exceeds its
control's by at least ``min_difference`` with an adjusted p-value below ``alpha``. Flagged
groups get their pooled cap rates as density peaks, the kind of trigger inside a call, and
the day the interference began (a change point of the daily share of the group's series,
that is the group without its period).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from analyzer.population.onset import DayChange, Trigger, day_change_point, trigger_kind
from analyzer.population.rates import RatePeak, rate_peaks
from analyzer.population.rows import Row, is_deliberate, period_of, rows_of, truthy
from analyzer.population.stats import Difference, Share, compare, holm

DEFAULT_GROUP_BY = ("isp", "app", "period")
DEGRADED_VERDICTS = frozenset({"degraded", "blocked"})
UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class Control:
    """What a group is compared with: ``kind`` (``vpn``, ``other app``, ``rest``) and the
    shares among those calls."""

    kind: str
    description: str
    degraded: Share
    deliberate: Share

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.description,
                "degraded": self.degraded.to_dict(), "deliberate": self.deliberate.to_dict()}


@dataclass(frozen=True)
class Group:
    """One group's shares, its comparison with its control, and (when flagged) the rate,
    trigger and onset day of its interference."""

    keys: Mapping[str, str]
    degraded: Share
    deliberate: Share
    control: Control | None
    deliberate_vs_control: Difference | None
    degraded_vs_control: Difference | None
    flagged: bool
    rate_peaks: tuple[RatePeak, ...] = ()
    trigger: Trigger | None = None
    onset: DayChange | None = None

    @property
    def label(self) -> str:
        return " / ".join(self.keys.values())

    @property
    def cap_rate_bps(self) -> float | None:
        """The rate of the tallest density peak only this group has."""
        return next((p.rate_bps for p in self.rate_peaks if p.affected_only), None)

    def to_dict(self) -> dict[str, Any]:
        return {"keys": dict(self.keys), "label": self.label, "flagged": self.flagged,
                "degraded": self.degraded.to_dict(), "deliberate": self.deliberate.to_dict(),
                "control": None if self.control is None else self.control.to_dict(),
                "deliberate_vs_control": None if self.deliberate_vs_control is None
                else self.deliberate_vs_control.to_dict(),
                "degraded_vs_control": None if self.degraded_vs_control is None
                else self.degraded_vs_control.to_dict(),
                "cap_rate_bps": self.cap_rate_bps,
                "rate_peaks": [p.to_dict() for p in self.rate_peaks],
                "trigger": None if self.trigger is None else self.trigger.to_dict(),
                "onset": None if self.onset is None else self.onset.to_dict()}


@dataclass(frozen=True)
class Series:
    """A group without its period, day by day: ``k`` deliberate-looking of ``n`` calls."""

    keys: Mapping[str, str]
    days: tuple[str, ...]
    k: tuple[int, ...]
    n: tuple[int, ...]
    change: DayChange | None

    @property
    def label(self) -> str:
        return " / ".join(self.keys.values())

    def to_dict(self) -> dict[str, Any]:
        return {"keys": dict(self.keys), "days": list(self.days), "k": list(self.k),
                "n": list(self.n),
                "change": None if self.change is None else self.change.to_dict()}


@dataclass(frozen=True)
class Population:
    """Everything :func:`summarize` found (``to_dict()`` for the JSON)."""

    group_by: tuple[str, ...]
    calls: int
    groups: tuple[Group, ...]
    series: tuple[Series, ...]
    homogeneity_pvalue: float | None
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> tuple[Group, ...]:
        return tuple(g for g in self.groups if g.flagged)

    def group(self, **keys: str) -> Group | None:
        """The first group whose keys include ``keys`` (``pop.group(isp="A", app="x")``)."""
        return next((g for g in self.groups
                     if all(g.keys.get(k) == str(v) for k, v in keys.items())), None)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "analyzer.population/1", "group_by": list(self.group_by),
                "calls": self.calls, "homogeneity_pvalue": self.homogeneity_pvalue,
                "flagged": [g.label for g in self.flagged],
                "groups": [g.to_dict() for g in self.groups],
                "series": [s.to_dict() for s in self.series], "settings": dict(self.settings)}


def group_value(row: Mapping[str, Any], col: str) -> str:
    """The value of grouping column ``col`` of a call row (``period`` from its date)."""
    v = row.get(col)
    if v is None and col == "period":
        v = period_of(row.get("date"))
    return UNKNOWN if v is None or v == "" else str(v)


def _shares(rows: Iterable[Row]) -> tuple[Share, Share]:
    rows = list(rows)
    n = len(rows)
    degraded = sum(1 for r in rows if r.get("verdict") in DEGRADED_VERDICTS)
    deliberate = sum(1 for r in rows if is_deliberate(r))
    return Share.of(degraded, n), Share.of(deliberate, n)


def _control(keys: Mapping[str, str], plain: Sequence[Row], vpn: Sequence[Row],
             group_by: Sequence[str]) -> tuple[str, str, list[Row]]:
    same = [r for r in vpn if all(group_value(r, c) == v for c, v in keys.items())]
    if same:
        return "vpn", "the same group over a VPN", same
    if "app" in keys:
        others = [r for r in plain if group_value(r, "app") != keys["app"]
                  and all(group_value(r, c) == v for c, v in keys.items() if c != "app")]
        if others:
            where = ", ".join(f"{c}={v}" for c, v in keys.items() if c != "app")
            return "other app", f"other apps, same {where}" if where else "other apps", others
    rest = [r for r in plain if any(group_value(r, c) != v for c, v in keys.items())]
    return "rest", "every other group", rest


def _series(plain: Sequence[Row], keys: Sequence[str], *, seed: int
            ) -> dict[tuple[str, ...], Series]:
    by: dict[tuple[str, ...], dict[str, list[int]]] = defaultdict(dict)
    for r in plain:
        day = r.get("date")
        if not day:
            continue
        key = tuple(group_value(r, c) for c in keys)
        kn = by[key].setdefault(str(day)[:10], [0, 0])
        kn[0] += int(is_deliberate(r))
        kn[1] += 1
    out = {}
    for key, days in sorted(by.items()):
        ds = sorted(days)
        k = tuple(days[d][0] for d in ds)
        n = tuple(days[d][1] for d in ds)
        change = day_change_point(ds, k, n, seed=seed)
        out[key] = Series(dict(zip(keys, key, strict=True)), tuple(ds), k, n, change)
    return out


def summarize(calls: Any, *, group_by: Sequence[str] = DEFAULT_GROUP_BY,
              alpha: float = 0.05, min_difference: float = 0.1, seed: int = 0
              ) -> Population:
    """Population statistics of ``calls`` (a calls table in any shape
    :func:`~analyzer.population.rows.rows_of` takes: a batch output folder, a parquet
    path, a pyarrow Table, a DataFrame or row dicts)."""
    rows = rows_of(calls)
    group_by = tuple(group_by)
    if not group_by:
        raise ValueError("group_by needs at least one column")
    vpn = [r for r in rows if truthy(r.get("vpn"))]
    plain = [r for r in rows if not truthy(r.get("vpn"))]
    grouped: dict[tuple[str, ...], list[Row]] = defaultdict(list)
    for r in plain:
        grouped[tuple(group_value(r, c) for c in group_by)].append(r)
    series_keys = tuple(c for c in group_by if c != "period")
    series = _series(plain, series_keys, seed=seed) if series_keys else {}
    # the family: one comparison per group, Holm-corrected per measure
    pending = []
    for key, members in sorted(grouped.items()):
        keys = dict(zip(group_by, key, strict=True))
        degraded, deliberate = _shares(members)
        kind, description, ctl_rows = _control(keys, plain, vpn, group_by)
        control = None
        d_del = d_deg = None
        if ctl_rows:
            c_deg, c_del = _shares(ctl_rows)
            control = Control(kind, description, c_deg, c_del)
            d_del, d_deg = compare(deliberate, c_del), compare(degraded, c_deg)
        pending.append((keys, members, degraded, deliberate, control, d_del, d_deg, ctl_rows))
    adj_del = iter(holm([p[5].pvalue for p in pending if p[5] is not None]))
    adj_deg = iter(holm([p[6].pvalue for p in pending if p[6] is not None]))
    groups = []
    for keys, members, degraded, deliberate, control, d_del, d_deg, ctl_rows in pending:
        if d_del is not None and d_deg is not None:
            d_del = _adjusted(d_del, next(adj_del))
            d_deg = _adjusted(d_deg, next(adj_deg))
        flagged = bool(d_del is not None and d_del.adjusted_pvalue is not None
                       and d_del.adjusted_pvalue < alpha and d_del.difference >= min_difference)
        peaks: tuple[RatePeak, ...] = ()
        trigger = onset = None
        if flagged:
            mine = [r for r in members if is_deliberate(r)]
            peaks = rate_peaks([r.get("cap_rate_bps") for r in mine],
                               [r.get("cap_rate_bps") for r in ctl_rows], seed=seed)
            trigger = trigger_kind([r.get("onset_after_s") for r in mine],
                                   [r.get("onset_after_bytes") for r in mine])
            s = series.get(tuple(keys[c] for c in series_keys))
            if s is not None and s.change is not None and s.change.pvalue < alpha \
                    and s.change.share_after > s.change.share_before:
                onset = s.change
        groups.append(Group(keys, degraded, deliberate, control, d_del, d_deg, flagged,
                            peaks, trigger, onset))
    table = [[g.deliberate.k, g.deliberate.n - g.deliberate.k] for g in groups
             if g.deliberate.n]
    homogeneity = None
    if len(table) >= 2 and sum(t[0] for t in table) > 0 and sum(t[1] for t in table) > 0:
        homogeneity = float(stats.chi2_contingency(table).pvalue)
    return Population(group_by, len(rows), tuple(groups), tuple(series.values()), homogeneity,
                      {"alpha": alpha, "min_difference": min_difference, "seed": seed,
                       "vpn_calls": len(vpn), "test": "Fisher exact, Holm across groups"})


def _adjusted(d: Difference, p: float) -> Difference:
    from dataclasses import replace
    return replace(d, adjusted_pvalue=p)
