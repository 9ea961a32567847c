"""A warm worker's forkserver and its forked runs: memory with and without flows.warm_preload, interleaved pairs.

    .venv/bin/python bench/warm_fork_memory.py [--pairs 5] [--runs 2]

Each sample is a process of its own that starts a forkserver as ``medic worker`` does, with the worker's
``PRELOAD`` ("after": the plugins and probes runs use imported there, then ``gc.freeze()``) or without its last
entry ("before": the preload of main), forks ``--runs`` processes from it that do what a run's process does to
its memory apart from the network (import the plugin and probe modules a run imports, allocate and drop 300 000
small objects, let the collector run), then sums RSS, PSS and USS (``/proc/PID/smaps_rollup``) of the forkserver
and its runs while they are all alive. Pairs alternate which variant goes first. Prints medians per variant, the
ratio after / before, and the load average (the machine is shared: other sessions' load is in every figure).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
from multiprocessing import forkserver
from typing import Any

from fleet_memory import rollup


def run_like(conn: Any, names: list[str]) -> None:
    """In a forked process: a run's imports and allocations, then wait to be measured."""
    import gc
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the same modules the preload tolerates failing
            continue
    churn = [{"i": i, "s": str(i)} for i in range(300_000)]
    del churn
    for _ in range(3):
        gc.collect()
    conn.send(os.getpid())
    conn.recv()


def sample(variant: str, runs: int) -> dict[str, Any]:
    from medic.flows import warm_worker

    names = ["paramiko", *_run_modules()]
    preload = warm_worker.PRELOAD if variant == "after" else warm_worker.PRELOAD[:-1]
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(preload)
    forkserver.ensure_running()
    pipes, procs = [], []
    for _ in range(runs):
        here, there = ctx.Pipe()
        proc = ctx.Process(target=run_like, args=(there, names))
        proc.start()
        pipes.append(here)
        procs.append(proc)
    pids = [p.recv() for p in pipes]
    server_pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    mems = [m for m in (rollup(pid) for pid in [server_pid, *pids]) if m]
    for p in pipes:
        p.send("done")
    for proc in procs:
        proc.join()
    return {k: sum(m[k] for m in mems) / 2**20 for k in ("rss", "pss", "uss")}


def _run_modules() -> list[str]:
    # in this (measuring) process only: importing warm_preload here preloads and freezes this process, not the
    # forkserver, which is a fresh interpreter started by multiprocessing
    from medic.flows.warm_preload import run_modules

    return run_modules()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--runs", type=int, default=2, help="processes forked from the forkserver (a worker's runs)")
    ap.add_argument("--variant", choices=("before", "after"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        print(json.dumps(sample(args.variant, args.runs)))
        return 0
    print(f"load average at the start: {os.getloadavg()}")
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for i in range(args.pairs):
        for variant in ("before", "after") if i % 2 == 0 else ("after", "before"):
            done = subprocess.run([sys.executable, __file__, "--variant", variant, "--runs", str(args.runs)],
                                  capture_output=True, text=True, check=True)
            results[variant].append(json.loads(done.stdout.splitlines()[-1]))
            m = results[variant][-1]
            print(f"pair {i} {variant:6} RSS {m['rss']:6.1f}  PSS {m['pss']:6.1f}  USS {m['uss']:6.1f} MB", flush=True)
    med = {v: {k: statistics.median(r[k] for r in rs) for k in ("rss", "pss", "uss")} for v, rs in results.items()}
    for k in ("rss", "pss", "uss"):
        print(f"median {k.upper()}: before {med['before'][k]:.1f} MB, after {med['after'][k]:.1f} MB, "
              f"after/before {med['after'][k] / med['before'][k]:.2f}")
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
