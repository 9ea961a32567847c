"""Keep freed memory for the next request body instead of giving it back to the kernel at once.

A PATCH passes 256 KiB body parts from the event loop to a writer thread, which frees them. With glibc's defaults
the heap's top is trimmed (brk) as soon as more than a few hundred KiB are free there, and the next parts fault
fresh pages in again: about a tenth of the event loop's CPU in session 13's profile (bench/README-collector.md).
Here blocks up to MMAP_THRESHOLD come from the heap and up to TRIM_THRESHOLD of free heap is kept: a bounded
amount of memory (the collector's RSS cap is 150 MB) for no page faults per part. Elsewhere than glibc: nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # malloc.h
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 32 << 20
MMAP_THRESHOLD = 4 << 20


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds for this process; False where there is no glibc mallopt."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or None).mallopt
    except (OSError, AttributeError):  # musl has no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
