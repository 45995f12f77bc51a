"""Tallies of fuzz outcomes: by class, by class and mutation kind, by failure site."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tests.fuzz.harness import OUTCOMES, Outcome

#: Inputs shown in the slowest list.
SLOWEST_SHOWN = 10


@dataclass
class Tally:
    """Outcomes of a run as they arrive; :meth:`table` renders them."""

    by_class: Counter = field(default_factory=Counter)
    by_kind: dict[str, Counter] = field(default_factory=dict)
    by_site: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)  # summed per outcome class
    examples: dict[tuple[str, str, str, str], tuple[str, str]] = field(default_factory=dict)
    leaked: Counter = field(default_factory=Counter)
    leaked_inputs: int = 0
    slowest: list[tuple[float, str, str]] = field(default_factory=list)
    total: int = 0

    def add(self, name: str, kind: str, out: Outcome) -> None:
        self.total += 1
        self.by_class[out.cls] += 1
        self.seconds[out.cls] += out.seconds
        self.by_kind.setdefault(kind, Counter())[out.cls] += 1
        if out.bad:
            self.by_site[out.signature] += 1
            self.examples.setdefault(out.signature, (name, out.message))
        if out.leaked:
            self.leaked_inputs += 1
            self.leaked.update(set(out.leaked))
        self.slowest.append((out.seconds, name, out.cls))
        self.slowest.sort(reverse=True)
        del self.slowest[SLOWEST_SHOWN:]

    @property
    def bad(self) -> int:
        return sum(n for c, n in self.by_class.items() if c in ("unexpected", "memory", "hang"))

    def table(self) -> str:
        lines = [f"{self.total} inputs: " + ", ".join(
            f"{c} {self.by_class.get(c, 0)}" for c in OUTCOMES)
            + f"; leaked_warning {self.leaked_inputs}"]
        lines.append("mean seconds per input: " + ", ".join(
            f"{c} {self.seconds[c] / self.by_class[c]:.3f}" for c in OUTCOMES
            if self.by_class.get(c)))
        lines.append("")
        lines.append(f"{'mutation':<16}" + "".join(f"{c:>11}" for c in OUTCOMES))
        for kind in sorted(self.by_kind):
            row = self.by_kind[kind]
            lines.append(f"{kind:<16}" + "".join(f"{row.get(c, 0):>11}" for c in OUTCOMES))
        if self.by_site:
            lines.append("")
            lines.append("failures by site (class, stage, error, last analyzer frame) "
                         "with an example input:")
            for sig, n in self.by_site.most_common():
                name, msg = self.examples[sig]
                cls, stage, error, where = sig
                lines.append(f"{n:>6}  {cls:<10} {stage:<8} {error:<14} {where or '?'}")
                lines.append(f"        e.g. {name}: {msg[:140]}")
        if self.leaked:
            lines.append("")
            lines.append("library warnings reaching the caller (inputs):")
            for w, n in self.leaked.most_common(20):
                lines.append(f"{n:>6}  {w}")
        lines.append("")
        lines.append("slowest inputs:")
        for s, name, cls in self.slowest:
            lines.append(f"  {s:7.2f} s  {cls:<10} {name}")
        return "\n".join(lines)
