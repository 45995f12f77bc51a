"""The fast seeded fuzz run: 2,000 hostile inputs through the whole pipeline in two worker
processes, under two minutes. No input may crash (``unexpected``), exhaust the memory limit
or hang; library warnings must not reach the caller.

The outcome table is printed (``pytest -s tests/fuzz/test_fuzz.py`` or ``-rA`` shows it);
the long run is ``make fuzz`` (``benchmarks/fuzz.py``).
"""

from __future__ import annotations

import time

import pytest

from tests.fuzz.harness import Harness
from tests.fuzz.mutate import MUTATIONS, mutant
from tests.fuzz.seeds import project_seeds
from tests.fuzz.summary import Tally

FAST_INPUTS = 2000
FAST_RUN_SEED = 1
FAST_BOMB_MIB = 4
FAST_WORKERS = 2
#: The whole run stops handing out inputs after this long (hangs cost the timeout each).
FAST_DEADLINE_S = 110.0


@pytest.fixture(scope="module")
def fast_run() -> tuple[Tally, float]:
    seeds = project_seeds()
    made = {}

    def inputs():
        for i in range(FAST_INPUTS):
            m = mutant(seeds, FAST_RUN_SEED, i, bomb_mib=FAST_BOMB_MIB)
            made[i] = m
            yield i, m.name, m.data

    tally = Tally()
    t0 = time.perf_counter()
    with Harness(workers=FAST_WORKERS, deadline_s=FAST_DEADLINE_S) as h:
        for key, out in h.run(inputs()):
            m = made.pop(key)
            tally.add(m.name, m.kind, out)
    elapsed = time.perf_counter() - t0
    print(f"\nfast fuzz run: {tally.total} inputs in {elapsed:.1f} s "
          f"({tally.total / elapsed:.1f}/s)\n{tally.table()}")
    return tally, elapsed


def test_every_mutation_is_exercised() -> None:
    seeds = project_seeds()
    kinds = {mutant(seeds, FAST_RUN_SEED, i, bomb_mib=FAST_BOMB_MIB).kind
             for i in range(FAST_INPUTS)}
    assert set(MUTATIONS) <= kinds, set(MUTATIONS) - kinds
    assert {"gzip_truncate", "gzip_corrupt", "gzip_concat", "gzip_bomb"} <= kinds


def test_some_inputs_survive_to_the_end(fast_run: tuple[Tally, float]) -> None:
    """The mutants are not all rejected at the door: most reach the analysis."""
    tally, _ = fast_run
    assert tally.by_class["ok"] > tally.total // 3, tally.by_class


def test_no_crash_no_runaway_memory_no_hang(fast_run: tuple[Tally, float]) -> None:
    tally, elapsed = fast_run
    assert tally.total == FAST_INPUTS, \
        f"only {tally.total} of {FAST_INPUTS} inputs ran in {elapsed:.0f} s\n{tally.table()}"
    assert tally.bad == 0, tally.table()


def test_no_library_warning_reaches_the_caller(fast_run: tuple[Tally, float]) -> None:
    tally, _ = fast_run
    assert tally.leaked_inputs == 0, tally.table()
