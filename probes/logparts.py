"""One large plain file scanned by several greps side by side: cut at line ends, one part per free core.

grep uses one core. On a machine with two or more idle, a large file read as N parts at once takes about 1/N of
the wall time for a little more CPU time (the benchmark reports both); on a busy machine (1-minute load average at
or above the number of usable cores) there is no idle core to gain, only CPU to spend: one grep. Every part but
the last reaches its grep through ``head -c LENGTH`` reading from the part's offset; grep reads the last part from
the file itself, to its end as when there is one part. The parts' matches are merged in file order
(``Matches.merge``), so counts, top messages and samples are those of one grep over the whole file. Stdlib only,
like the rest of the log probes.
"""

from __future__ import annotations

import functools
import os
import shutil
from typing import BinaryIO

PART_MIN = 8 << 20  # bytes per part at least: for less, starting another grep costs more than it saves
MAX_PARTS = 4
_PROBE = 1 << 16  # how much is read at a cut to find the end of the line it falls in


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def free_cores() -> int:
    """The usable cores when the machine is not busy, else 1."""
    cores = usable_cores()
    try:
        busy = os.getloadavg()[0] >= cores
    except OSError:  # no load average here
        busy = False
    return 1 if busy else cores


@functools.lru_cache(maxsize=1)
def head_tool() -> str | None:
    return shutil.which("head")


def ranges(path: str, start: int, size: int, cores: int | None = None) -> list[tuple[int, int]]:
    """``(offset, end)`` of each part, in file order, covering ``[start, size)``; each part but the first starts
    right after a newline. One part for a small file, one free core or no ``head``."""
    wanted = min(MAX_PARTS, cores or free_cores(), (size - start) // PART_MIN)
    if wanted < 2 or head_tool() is None:
        return [(start, size)]
    cuts = [start]
    with open(path, "rb") as fh:
        for i in range(1, wanted):
            cut = _line_end_after(fh, start + (size - start) * i // wanted, size)
            if cut is not None and cuts[-1] < cut < size:
                cuts.append(cut)
    return list(zip(cuts, [*cuts[1:], size]))


def _line_end_after(fh: BinaryIO, pos: int, size: int) -> int | None:
    """The offset just after the first newline at or after ``pos - 1`` (so ``pos`` itself when a line ends
    there), or None when none comes within a few blocks (a part would split an absurdly long line)."""
    at = max(0, pos - 1)
    for _ in range(16):
        fh.seek(at)
        block = fh.read(min(_PROBE, size - at))
        if not block:
            return None
        nl = block.find(b"\n")
        if nl >= 0:
            return at + nl + 1
        at += len(block)
    return None
