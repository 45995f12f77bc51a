"""Files are written whole or not at all, beside their target, with parents created."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from analyzer.atomic import atomic_write


def test_text_and_binary_land_whole(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a.txt") as fh:
        fh.write("héllo\n")
    with atomic_write(tmp_path / "b.bin", "wb") as fb:
        fb.write(b"\x00\xff")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_error_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_missing_parents_are_created(tmp_path: Path) -> None:
    target = tmp_path / "x" / "y" / "z.json"
    with atomic_write(target) as fh:
        fh.write("{}")
    assert target.read_text() == "{}"


def test_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("evidence")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with atomic_write(link) as fh:
        fh.write("new")
    assert real.read_text() == "evidence"
    assert not link.is_symlink() and link.read_text() == "new"


def test_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "p.txt") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "p.txt").stat().st_mode) == 0o640


def test_bad_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode must be"):
        atomic_write(tmp_path / "q", "a")  # type: ignore[call-overload]


def test_remove_stale_temps_deletes_only_our_temporary_files(tmp_path) -> None:
    """What a write killed between writing and renaming leaves behind is removed; a user's
    file that merely ends in .part is not."""
    from analyzer.atomic import remove_stale_temps

    (tmp_path / "sub").mkdir()
    stale = [tmp_path / ".a.json.0123abcd.part", tmp_path / "sub" / ".b.pcap.deadbeef.part"]
    keep = [tmp_path / "notes.part", tmp_path / ".c.json.xyz.part", tmp_path / "a.json"]
    for p in stale + keep:
        p.write_text("x")
    assert remove_stale_temps(tmp_path) == 2
    assert not any(p.exists() for p in stale) and all(p.exists() for p in keep)
