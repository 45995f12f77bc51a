"""Population statistics over a fleet of analysed captures (``analyzer batch`` output).

::

    from analyzer import population
    pop = population.summarize("out/")            # or a calls.parquet, Table, DataFrame
    for g in pop.flagged:
        print(g.label, g.deliberate.share, g.deliberate.interval, g.cap_rate_bps,
              g.onset.day if g.onset else None)
"""

from analyzer.population.onset import DayChange, Trigger, day_change_point, trigger_kind
from analyzer.population.rates import RatePeak, rate_peaks
from analyzer.population.rows import DELIBERATE_PATTERNS, is_deliberate, period_of, rows_of
from analyzer.population.stats import Difference, Share, compare, holm, wilson_interval
from analyzer.population.summary import (
    DEFAULT_GROUP_BY,
    Control,
    Group,
    Population,
    Series,
    summarize,
)

__all__ = ["DEFAULT_GROUP_BY", "DELIBERATE_PATTERNS", "Control", "DayChange", "Difference",
           "Group", "Population", "RatePeak", "Series", "Share", "Trigger", "compare",
           "day_change_point", "holm", "is_deliberate", "period_of", "rate_peaks", "rows_of",
           "summarize", "trigger_kind", "wilson_interval"]
