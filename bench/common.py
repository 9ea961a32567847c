"""Helpers shared by the benchmarks: timing a command several times, peak RSS, medians."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Timing:
    label: str
    walls: list[float]
    peak_rss_mb: float

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    def line(self) -> str:
        walls = ", ".join(f"{w:.2f}" for w in self.walls)
        return f"{self.label:<44} median {self.median:7.3f} s  [{walls}]  peak RSS {self.peak_rss_mb:.0f} MB"


def time_command(label: str, argv: Sequence[str], repeat: int = 3, env: dict[str, str] | None = None,
                 ok: tuple[int, ...] = (0, 1)) -> Timing:
    """Run argv ``repeat`` times; wall times and the largest peak RSS of the child (via wait4)."""
    walls, peaks = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - started)
        code = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.returncode = code
        if code not in ok:
            raise SystemExit(f"{label}: exit {code}\n{stderr[-2000:]}")
        peaks.append(usage.ru_maxrss / 1024)
    return Timing(label, walls, max(peaks))


def self_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
