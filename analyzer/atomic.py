"""Writing a file whole or not at all: every file the package writes goes through here.

:func:`atomic_write` opens a fresh temporary file beside the target (same directory, so the
same file system), and only when the block ends without an error flushes it to disk and
moves it over the target with :func:`os.replace`. A crash, a full disk or an exception
leaves the target as it was (absent or the old file) and removes the temporary file.
Missing parent folders are created. The temporary name is new (``O_EXCL``), so no existing
file is ever opened for writing, and the file gets the usual permissions (``0o666`` less
the umask).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

#: Attempts to find an unused temporary name before giving up.
TEMP_NAME_ATTEMPTS = 100


#: The temporary files :func:`atomic_write` makes: ``.<name>.<8 hex digits>.part``.
TEMP_PATTERN = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")


def remove_stale_temps(folder: str | os.PathLike[str], *, recursive: bool = True) -> int:
    """Delete the temporary files an interrupted :func:`atomic_write` left in ``folder``
    (a process killed between writing and renaming); only names of that exact pattern.
    For a folder one program owns (a batch's output), before it writes again. Returns
    how many were removed."""
    root = Path(folder)
    if not root.is_dir():
        return 0
    found = root.rglob(".*.part") if recursive else root.glob(".*.part")
    n = 0
    for p in found:
        if TEMP_PATTERN.match(p.name) and p.is_file():
            p.unlink(missing_ok=True)
            n += 1
    return n


def _create_temp(target: Path) -> tuple[int, Path]:
    for _ in range(TEMP_NAME_ATTEMPTS):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                           | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target}")


@overload
def atomic_write(path: str | os.PathLike[str], mode: Literal["wb"]
                 ) -> contextlib.AbstractContextManager[BinaryIO]: ...
@overload
def atomic_write(path: str | os.PathLike[str], mode: Literal["w"] = "w", *,
                 newline: str | None = None) -> contextlib.AbstractContextManager[TextIO]: ...
def atomic_write(path: str | os.PathLike[str], mode: str = "w", *,
                 newline: str | None = None) -> contextlib.AbstractContextManager[IO[Any]]:
    """Context manager giving a file object (text UTF-8 for ``"w"``, binary for ``"wb"``)
    whose content replaces ``path`` when the block ends without an error."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
    return _atomic(Path(path), mode, newline)


@contextlib.contextmanager
def _atomic(target: Path, mode: str, newline: str | None) -> Iterator[IO[Any]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(target)
    try:
        if mode == "wb":
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
