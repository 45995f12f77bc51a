"""Shrinking a failing input while it still fails the same way.

Records (pcap) or blocks (pcapng) are dropped in ever smaller groups (delta debugging);
a file with no record structure is cut to its shortest failing prefix. A gzip input is
shrunk as its decompressed capture and compressed again. Every candidate runs in the
harness's worker processes, so a candidate that hangs or exhausts memory is safe.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fuzz.harness import Harness, Outcome
from tests.fuzz.mutate import GZIP_MAGIC, gunzip_prefix, gzip_bytes, parse_layout

#: Candidates tried at most per input (each may take up to the harness timeout).
MAX_TRIALS = 300
#: Fewer for hangs: every candidate that still hangs costs the whole timeout.
MAX_HANG_TRIALS = 40


def same_failure(a: Outcome, b: Outcome) -> bool:
    """Same class and exception; same analyzer file:line (file only for hangs, whose
    sampled frame moves within the loop)."""
    if a.cls != b.cls or a.error != b.error:
        return False
    if a.cls == "hang":
        return a.where.split(":")[0] == b.where.split(":")[0]
    return a.where == b.where


class Minimizer:
    """Shrinks inputs with ``harness``; ``trials`` counts candidates run."""

    def __init__(self, harness: Harness, max_trials: int = MAX_TRIALS) -> None:
        self.harness = harness
        self.max_trials = max_trials
        self.trials = 0

    def _first_failing(self, candidates: list[bytes], still: Callable[[Outcome], bool]
                       ) -> int | None:
        """Index of the first candidate that still fails (all run as one batch)."""
        room = self.max_trials - self.trials
        candidates = candidates[:max(room, 0)]
        self.trials += len(candidates)
        hits = [i for i, out in self.harness.run(
            (i, f"minimize-{i}", c) for i, c in enumerate(candidates)) if still(out)]
        return min(hits) if hits else None

    def minimize(self, data: bytes, target: Outcome) -> bytes:
        self.trials = 0
        limit = self.max_trials
        if target.cls == "hang":
            self.max_trials = min(limit, MAX_HANG_TRIALS)
        try:
            return self._minimize(data, target)
        finally:
            self.max_trials = limit

    def _minimize(self, data: bytes, target: Outcome) -> bytes:

        def still(out: Outcome) -> bool:
            return same_failure(out, target)

        if data[:2] == GZIP_MAGIC:
            inner = gunzip_prefix(data)
            if inner and self._first_failing([gzip_bytes(inner)], still) == 0:
                return gzip_bytes(self._shrink(inner, still, wrap=gzip_bytes))
            return data
        return self._shrink(data, still)

    def _shrink(self, data: bytes, still: Callable[[Outcome], bool],
                wrap: Callable[[bytes], bytes] = bytes) -> bytes:
        lay = parse_layout(data)
        if lay is None:
            return self._truncate(data, still, wrap)
        head, blocks, types = lay.head, list(lay.blocks), list(lay.types)
        keep = list(range(len(blocks)))
        n = 2
        while len(keep) >= 2 and self.trials < self.max_trials:
            size = -(-len(keep) // n)
            cands = [keep[:i] + keep[i + size:] for i in range(0, len(keep), size)]
            hit = self._first_failing(
                [wrap(head + b"".join(blocks[j] for j in c)) for c in cands], still)
            if hit is not None:
                keep = cands[hit]
                n = max(n - 1, 2)
            elif n >= len(keep):
                break
            else:
                n = min(2 * n, len(keep))
        lay.blocks = [blocks[j] for j in keep]
        lay.types = [types[j] for j in keep] if types else []
        lay.tail = b""
        out = lay.to_bytes()
        if out == data:
            return data
        self.max_trials += 1  # the final check runs even when the budget is spent
        return out if self._first_failing([wrap(out)], still) == 0 else data

    def _truncate(self, data: bytes, still: Callable[[Outcome], bool],
                  wrap: Callable[[bytes], bytes]) -> bytes:
        """Bisect the shortest failing prefix of a file with no record structure."""
        lo, hi = 0, len(data)
        while hi - lo > 16 and self.trials < self.max_trials:
            mid = (lo + hi) // 2
            if self._first_failing([wrap(data[:mid])], still) == 0:
                hi = mid
            else:
                lo = mid
        return data[:hi]
