"""Where the shared public captures live (beside the repository, never inside it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PUBLIC = Path(os.environ.get("ANALYZER_PUBLIC_CAPTURES",
                             REPO.parent / "shared" / "captures-public"))


def public_captures() -> list[Path]:
    if not PUBLIC.is_dir():
        return []
    return sorted(p for p in PUBLIC.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap"))


def public(rel: str) -> Path:
    p = PUBLIC / rel
    if not p.exists():
        pytest.skip(f"public capture {rel} not available (../shared/captures-public)")
    return p
