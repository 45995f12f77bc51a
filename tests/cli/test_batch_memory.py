"""The default address-space limit of a batch worker follows the machine."""

from __future__ import annotations

import os

from analyzer.cli.batch import auto_memory_per_worker, parse_size


def test_auto_limit_shares_the_machine_and_never_goes_below_2g() -> None:
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    one = auto_memory_per_worker(1)
    two = auto_memory_per_worker(2)
    assert one == max(2 << 30, int(0.9 * total))
    assert two == max(2 << 30, int(0.9 * total) // 2)
    assert auto_memory_per_worker(10_000) == 2 << 30


def test_sizes_parse() -> None:
    assert parse_size("4G") == 4 << 30 and parse_size("512M") == 512 << 20
