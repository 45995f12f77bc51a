"""The regression corpus: minimised inputs that once failed, each must now end ``ok`` or
``rejected``.

* ``tests/fuzz/corpus/``: files derived from the project's own captures, minimised
  (``index.json`` says what each did when it was found);
* ``tests/fuzz/public_regressions.json``: inputs derived from public captures, stored as
  (capture path, records kept, run seed, input index): the bytes are made again from the
  capture beside the repository, never copied here.

Inputs that still fail are marked xfail (``KNOWN_FAILING``), listed by name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz.harness import Harness, Outcome
from tests.fuzz.mutate import mutant
from tests.fuzz.seeds import public_seed
from tests.support.paths import PUBLIC

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
PUBLIC_JSON = HERE / "public_regressions.json"
FINE = ("ok", "rejected")


def _rows(path: Path) -> list[dict]:
    return json.loads(path.read_text()) if path.exists() else []


CORPUS_ROWS = _rows(CORPUS / "index.json")
PUBLIC_ROWS = _rows(PUBLIC_JSON)


def public_key(row: dict) -> str:
    return f"{row['capture']}#{row['run_seed']}:{row['index']}"


#: Inputs that failed when they were added and are not fixed yet. Every input recorded
#: with a bad outcome has been fixed: each must now be ok or rejected.
KNOWN_FAILING: set[str] = set()


def _run(items: list[tuple[str, bytes]]) -> dict[str, Outcome]:
    with Harness(workers=2) as h:
        return dict(h.run((key, key, data) for key, data in items))


@pytest.fixture(scope="module")
def corpus_outcomes() -> dict[str, Outcome]:
    return _run([(r["file"], (CORPUS / r["file"]).read_bytes()) for r in CORPUS_ROWS])


@pytest.fixture(scope="module")
def public_outcomes() -> dict[str, Outcome]:
    if not PUBLIC.is_dir():
        pytest.skip("public captures not available (../shared/captures-public)")
    items = []
    for r in PUBLIC_ROWS:
        m = mutant([public_seed(r["capture"], r["records"])], r["run_seed"], r["index"])
        items.append((public_key(r), m.data))
    return _run(items)


def _mark(key: str, row: dict) -> list:
    if key not in KNOWN_FAILING:
        return []
    return [pytest.mark.xfail(strict=False, reason=f"known failure: {row['outcome']} in "
                              f"{row['stage']} at {row['where'] or '?'} ({row['error']})")]


def test_corpus_files_are_small() -> None:
    for r in CORPUS_ROWS:
        assert (CORPUS / r["file"]).stat().st_size < 20_000, r["file"]


@pytest.mark.parametrize("row", [pytest.param(r, id=r["file"], marks=_mark(r["file"], r))
                                 for r in CORPUS_ROWS])
def test_corpus_input_is_ok_or_rejected(row: dict, corpus_outcomes: dict[str, Outcome]
                                        ) -> None:
    out = corpus_outcomes[row["file"]]
    assert out.cls in FINE, out


@pytest.mark.public
@pytest.mark.parametrize("row", [pytest.param(r, id=public_key(r),
                                              marks=_mark(public_key(r), r))
                                 for r in PUBLIC_ROWS])
def test_public_regression_is_ok_or_rejected(row: dict, public_outcomes: dict[str, Outcome]
                                             ) -> None:
    out = public_outcomes[public_key(row)]
    assert out.cls in FINE, out


#: Inputs of the long run (``make fuzz``) that failed, made again from the project's own
#: seeds: (run seed, input index, what it did when found).
PROJECT_RUN_ROWS = (
    (1, 2193, "unexpected in analyze at analyzer/detectors/periodic.py:105 (ValueError: "
              "slot times out of order gave a negative histogram bin)"),
    (1, 14028, "memory in analyze at analyzer/detectors/features.py:265: pcapng timestamps "
               "at both ends of the int64 range overflowed the clock-jump gaps"),
    (1, 15837, "memory in analyze at analyzer/detectors/features.py:265 (as 1:14028)"),
    (1, 18473, "memory in analyze at analyzer/detectors/features.py:265 (as 1:14028)"),
    (1, 70271, "memory in quality at analyzer/metrics/framing.py:280: a timestamp near the "
               "negative end of int64 after a positive one overflowed the order check"),
)


@pytest.fixture(scope="module")
def project_run_outcomes() -> dict[str, Outcome]:
    from tests.fuzz.seeds import project_seeds
    seeds = project_seeds()
    return _run([(f"{s}:{i}", mutant(seeds, s, i).data) for s, i, _ in PROJECT_RUN_ROWS])


@pytest.mark.parametrize("run_seed,index,found", PROJECT_RUN_ROWS,
                         ids=[f"project#{s}:{i}" for s, i, _ in PROJECT_RUN_ROWS])
def test_long_run_regression_is_ok_or_rejected(run_seed: int, index: int, found: str,
                                               project_run_outcomes: dict[str, Outcome]
                                               ) -> None:
    out = project_run_outcomes[f"{run_seed}:{index}"]
    assert out.cls in FINE, (found, out)
