"""What a warm run's start saves by keeping the forkserver's Prefect settings (flows.run_settings), side by side.

This process plays the forkserver: it imports Prefect and ``medic.flows.run_settings``, then forks ``--repeat``
pairs of children (which goes first alternates); in each child, with a worker-like environment and a fresh empty
working directory as a run has, one of: ``Settings()`` (what ``run_engine`` did for every run) or
``run_settings.for_run()`` (what it does now). Each child reports its wall and CPU time for that call.

    PREFECT_API_URL=http://127.0.0.1:9/api .venv/bin/python bench/run_settings_bench.py --repeat 21
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def child(kind: str, write: int, directory: str) -> None:
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings

    from medic.flows import run_settings

    os.chdir(directory)
    os.environ["PREFECT__FLOW_RUN_ID"] = "00000000-0000-0000-0000-000000000000"  # a run's own variable
    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "Settings()":
        SettingsContext(profile=get_settings_context().profile, settings=Settings())  # as run_engine did
        kept = False
    else:
        kept = run_settings.for_run().settings is get_settings_context().settings
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    os.write(write, json.dumps([wall, cpu, kept]).encode())
    os._exit(0)


def one(kind: str, directory: str) -> list[float]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        child(kind, write, directory)
    os.close(write)
    answer = json.loads(os.read(read, 4096))
    os.close(read)
    os.waitpid(pid, 0)
    return list(answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    from medic.flows import run_settings  # noqa: F401 - as the forkserver's preload: it notes what it read

    print("load average", " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    results: dict[str, list[list[float]]] = {"Settings()": [], "run_settings.for_run()": []}
    with tempfile.TemporaryDirectory(prefix="medic-settings-bench-") as directory:  # empty, as a run's
        for pair in range(args.repeat):
            kinds = list(results) if pair % 2 == 0 else list(reversed(results))
            for kind in kinds:
                results[kind].append(one(kind, directory))
    for kind, rows in results.items():
        walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
        print(f"{kind:<24} wall median {statistics.median(walls) * 1000:7.1f} ms  CPU median "
              f"{statistics.median(cpus) * 1000:7.1f} ms  (n={len(rows)}; kept: {sum(bool(r[2]) for r in rows)})")
    print("load average", " ".join(Path("/proc/loadavg").read_text().split()[:3]))


if __name__ == "__main__":
    main()
