"""Give freed memory back to the operating system between processing phases.

numpy's large temporaries come from the C allocator; glibc keeps freed heap memory for
reuse, so the resident size after a phase stays at its peak. ``release_free_memory()``
asks glibc to return it (``malloc_trim``); elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _trim = _libc.malloc_trim
    except (OSError, AttributeError):  # musl or no libc found: nothing to do
        _trim = None


def release_free_memory() -> None:
    if _trim is not None:
        _trim(0)
