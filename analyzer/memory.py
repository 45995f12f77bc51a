"""Give freed memory back to the operating system between processing phases.

numpy's large temporaries come from the C allocator; glibc keeps freed heap memory for
reuse, so the resident size after a phase stays at its peak. ``release_free_memory()``
asks glibc to return it (``malloc_trim``); elsewhere it does nothing.

``limit_heap_retention()`` (called once by the command line and by batch workers) fixes
glibc's mmap threshold at :data:`MMAP_THRESHOLD_BYTES`. By default glibc raises the
threshold each time a large block is freed, up to 32 MiB, so after the first few big numpy
temporaries every array below that size comes from the heap, and the heap keeps its high
water mark: measured on a capture of a million tiny flows, that is 55 MiB of the peak.
With the threshold fixed, arrays of 4 MiB and more are mapped and unmapped by themselves,
while smaller temporaries (the reader's chunks, per-stream arrays) reuse heap memory.

Why 4 MiB: each mapped block pays a page fault per 4 KiB when first written, and the
1-8 MiB temporaries of grouping a million packets paid that often: on the 1M-packet
benchmark `flows` took 0.80 s at 1 MiB, 0.61 s at 4 MiB and 0.66 s at 8 MiB, with the same
peak (130 MiB); the million-tiny-flow capture peaks at 228, 230 and 234 MiB. 16 MiB let
the heap keep 178 MiB, and glibc's own sliding threshold (up to 32 MiB) 333 MiB.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

#: Blocks from this size up are mapped on their own and unmapped when freed.
MMAP_THRESHOLD_BYTES = 4 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number

_trim: Callable[[int], int] | None = None
_mallopt: Callable[[int, int], int] | None = None
if sys.platform.startswith("linux"):
    try:
        # glibc's soname, opened directly: ctypes.util.find_library runs ``ldconfig -p``
        # in a subprocess (startup time and memory of every command)
        _libc = ctypes.CDLL("libc.so.6")
        _trim = _libc.malloc_trim
        _mallopt = _libc.mallopt
    except (OSError, AttributeError):  # musl or no glibc: nothing to do
        _trim = _mallopt = None


def release_free_memory() -> None:
    if _trim is not None:
        _trim(0)


def limit_heap_retention() -> bool:
    """Fix glibc's mmap threshold (see the module's notes); ``False`` where that is not
    possible (not glibc), and then nothing changes."""
    if _mallopt is None:
        return False
    return bool(_mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
