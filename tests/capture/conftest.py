"""Shared fixtures of the capture tests (builders live in :mod:`tests.support.craft`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest


@pytest.fixture
def strict_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning (none filtered or de-duplicated) for the test to inspect."""
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        yield log


@pytest.fixture(autouse=True, params=["compiled", "python"])
def record_walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every capture test runs with the compiled record walk and with the Python one (the
    fallback when the extension was not built): both must give the same packets and
    errors. The compiled run is skipped when the extension is not built here."""
    from analyzer.capture import records
    if request.param == "python":
        monkeypatch.setattr(records, "_compiled", None)
    elif records._compiled is None:
        pytest.skip("compiled record walk not built (python setup.py build_ext --inplace)")
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``test_compiled.py`` compares the compiled path with the Python one inside each test,
    so its run with the extension switched off would only skip: it is not collected."""
    drop = [it for it in items if it.path.name == "test_compiled.py"
            and getattr(it, "callspec", None) is not None
            and it.callspec.params.get("record_walk") == "python"]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [it for it in items if it not in drop]
