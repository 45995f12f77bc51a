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
