"""Hand written bytes to the disk without waiting for them: Linux's ``sync_file_range(SYNC_FILE_RANGE_WRITE)``
starts the writeback of a range and returns, so the PATCH goes on receiving while the disk writes, and the fsync
before the 204 finds little left to do. Durability does not depend on it (that fsync does); where the call is
missing (not Linux, no libc found) ``fdatasync`` does the same job, waiting."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable

SYNC_FILE_RANGE_WRITE = 2  # linux/fs.h: start writeback of dirty pages in the range, do not wait for it


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        call = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


_CALL = _sync_file_range()


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing ``length`` bytes at ``offset`` of ``fd`` to the disk; waits only without sync_file_range."""
    if _CALL is None or _CALL(fd, offset, length, SYNC_FILE_RANGE_WRITE) != 0:
        os.fdatasync(fd)
