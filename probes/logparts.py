"""One large plain file scanned by several greps side by side: cut at line ends, one part per free core.

grep uses one core. On a machine with two or more idle, a large file read as N parts at once takes about 1/N of
the wall time for a little more CPU time (the benchmark reports both); on a busy machine (1-minute load average at
or above the number of usable cores) there is no idle core to gain, only CPU to spend: one grep. Every part but
the last reaches its grep through a pipe that a thread of this process fills with ``os.sendfile`` from the part's
offset (the kernel copies the page cache into the pipe: no process to start, no copy through Python; a plain
read/write loop where sendfile cannot write to a pipe); grep reads the last part from the file itself, to its end
as when there is one part. The parts' matches are merged in file order
(``Matches.merge``), so counts, top messages and samples are those of one grep over the whole file. Stdlib only,
like the rest of the log probes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
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


def ranges(path: str, start: int, size: int, cores: int | None = None) -> list[tuple[int, int]]:
    """``(offset, end)`` of each part, in file order, covering ``[start, size)``; each part but the first starts
    right after a newline. One part for a small file or one free core."""
    wanted = min(MAX_PARTS, cores or free_cores(), (size - start) // PART_MIN)
    if wanted < 2:
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


_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_BLOCK = 1 << 20


class Feeder(threading.Thread):
    """Fills a pipe with bytes ``[at, end)`` of a file, then closes it. A failed read is kept, and raised by
    :meth:`finish`: grep saw the part end early, so its count would be short."""

    def __init__(self, src: int, dst: int, at: int, end: int) -> None:
        super().__init__(daemon=True, name="log-part-feed")
        self.src, self.dst, self.at, self.end = src, dst, at, end
        self.error: OSError | None = None

    def run(self) -> None:
        try:
            self._sendfile()
        except BrokenPipeError:
            pass  # grep stopped: its own exit status says why
        except OSError as exc:
            self.error = exc
        finally:
            os.close(self.dst)

    def finish(self) -> None:
        self.join()
        if self.error is not None:
            raise OSError(self.error.errno, f"reading the log from byte {self.at}: {self.error.strerror}")

    def _sendfile(self) -> None:
        while self.at < self.end:
            try:
                sent = os.sendfile(self.dst, self.src, self.at, min(self.end - self.at, _BLOCK))
            except OSError as exc:
                if exc.errno == errno.EPIPE:
                    raise BrokenPipeError from None
                self._copy()  # no sendfile into a pipe here (EINVAL, ENOTSOCK...)
                return
            if sent == 0:
                return  # the file shrank under the scan: what is there is scanned
            self.at += sent

    def _copy(self) -> None:
        while self.at < self.end and (block := os.pread(self.src, min(self.end - self.at, _BLOCK), self.at)):
            view = memoryview(block)
            while view:
                view = view[os.write(self.dst, view):]
            self.at += len(block)


def feed(fh: BinaryIO, at: int, end: int) -> tuple[int, Feeder]:
    """A pipe's read end that delivers bytes ``[at, end)`` of ``fh`` (then end of file), filled by a daemon thread;
    the caller hands the descriptor to grep, closes its own copy, keeps ``fh`` open and calls ``finish()`` on the
    thread (it stops early when the reader goes away: EPIPE)."""
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError):
        fcntl.fcntl(write_end, _SETPIPE_SZ, _BLOCK)  # fewer wake-ups of grep and of this thread
    feeder = Feeder(fh.fileno(), write_end, at, end)
    feeder.start()
    return read_end, feeder
