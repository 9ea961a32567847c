"""What leaving ``medic run``'s fast path costs: a normal exit (interpreter teardown) beside ``os._exit``.

Each child imports what the fast path has imported by its end (medic's follower and renderer, rich, websockets,
httpx), writes ``time.time()`` to stderr, then exits normally or with ``os._exit`` (what cli/quick_exit.py does);
this script notes when the child is gone. Interleaved pairs, medians, the load average before and after.

    .venv/bin/python bench/exit_cost_bench.py --repeat 8
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import os, sys, time
from medic.cli import quick_exit, remote_follow, remote_render, run_events
import httpx, rich.console, websockets.sync.client
sys.stderr.write(f"{time.time()}\n")
if sys.argv[1] == "os._exit":
    sys.stdout.flush(); sys.stderr.flush(); os._exit(0)
"""


def load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    print(load())
    gone: dict[str, list[float]] = {"normal exit": [], "os._exit": []}
    for pair in range(args.repeat):
        for mode in (list(gone) if pair % 2 == 0 else list(reversed(gone))):
            child = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
            gone[mode].append(time.time() - float(child.stderr.strip().splitlines()[-1]))
    for mode, seconds in gone.items():
        print(f"{mode:<12} median {statistics.median(seconds):.3f} s  [{', '.join(f'{s:.3f}' for s in seconds)}]")
    print(load())


if __name__ == "__main__":
    main()
