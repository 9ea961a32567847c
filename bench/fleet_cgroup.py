"""A page-exact measure of medic's memory in a fleet run: its processes in a memory cgroup of their own.

Summed RSS counts a page once per process that maps it; PSS divides shared pages among their sharers (an estimate
per process, exact in sum only for the pages these processes alone map). The kernel's memory controller charges
each page once, to the cgroup of the process that first touched it, and keeps the high-water mark of the charge:
``memory.max_usage_in_bytes`` is the peak of everything these processes held at once, sampled by the kernel on every
charge (no 100 ms sampling gap). It counts anonymous pages (``memory.stat`` ``rss``: heaps, stacks, copied-on-write
pages of a fork, each once) and page cache the processes brought in (``cache``: files they wrote or read first, e.g.
shard results and logs; pages of Python's modules already cached by another process are charged there, not here),
and, on this kernel, kernel memory (sockets, page tables). The sampler here also keeps the peaks of ``rss`` and
``cache`` from ``memory.stat`` (every 100 ms, as fleet_memory samples the processes).

cgroup v1 (``/sys/fs/cgroup/memory``). The cgroup is made under the one this bench runs in, so any limit on that one
still applies (hierarchical accounting); processes join it through ``joined()``'s argv prefix, which writes the
process's own pid to ``cgroup.procs`` before ``exec``: the child is in the group before it starts anything.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path("/sys/fs/cgroup/memory")
STAT_KEYS = ("total_rss", "total_cache", "total_mapped_file")


def own_cgroup() -> Path | None:
    """The memory cgroup this process is in, if cgroup v1's memory controller is mounted and writable."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if "memory" in controllers.split(","):
                here = ROOT / path.lstrip("/")
                return here if os.access(here, os.W_OK) else None
    return None


class Cgroup:
    """A memory cgroup for one measured run: made on entry, its processes' peaks read, removed on exit."""

    def __init__(self, name: str, interval: float = 0.1) -> None:
        parent = own_cgroup()
        if parent is None:
            raise OSError("no writable cgroup v1 memory controller under /sys/fs/cgroup/memory")
        self.path = parent / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
        self.interval = interval
        self.peak = dict.fromkeys(STAT_KEYS, 0)
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Cgroup:
        self.path.mkdir()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def joined(self, argv: list[str]) -> list[str]:
        """``argv`` run inside this cgroup: a shell writes its own pid to ``cgroup.procs``, then ``exec``s argv
        (passed as arguments, never as shell text)."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *argv]

    def stat(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for line in (self.path / "memory.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key in STAT_KEYS:
                    out[key] = int(value)
        return out

    def _loop(self) -> None:
        while not self.done.is_set():
            for key, value in self.stat().items():
                self.peak[key] = max(self.peak[key], value)
            self.done.wait(self.interval)

    def reset_peak(self) -> None:
        """Start the kernel's high-water mark again from the current charge (v1: write 0)."""
        (self.path / "memory.max_usage_in_bytes").write_text("0")

    def result(self) -> dict[str, Any]:
        """MB: the kernel's peak charge, and the sampled peaks of anonymous memory and page cache."""
        self.done.set()
        if self.thread is not None:
            self.thread.join()
        peak = int((self.path / "memory.max_usage_in_bytes").read_text())
        return {"cgroup_peak_mb": peak / 2**20, "cgroup_rss_peak_mb": self.peak["total_rss"] / 2**20,
                "cgroup_cache_peak_mb": self.peak["total_cache"] / 2**20,
                "cgroup_mapped_file_peak_mb": self.peak["total_mapped_file"] / 2**20}

    def __exit__(self, *_: object) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()
        for _ in range(50):  # processes may still be ending: a cgroup with members cannot be removed
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.2)
