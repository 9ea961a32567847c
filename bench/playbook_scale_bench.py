"""Large playbooks: whole `medic run PLAYBOOK --engine inline --json` from 50 to 5,000 steps, and where the time goes.

For each size N, a synthetic playbook of N steps (``{id: sI, check: system.os_info}``, as bench/engine_bench.py)
is run as a whole process, alternating with a 1-step playbook (the peer: the fixed cost of a run, start-up,
plugins, report), ``--repeat`` pairs. The per-step cost is each pair's (t_N - t_1) / (N - 1), median over the
pairs: flat per-step cost means the run scales linearly. A second table times the stages in one process (median of
``--repeat``): loading the playbook with libyaml's parser and with the pure-Python one, the inline engine, and the
run document (built and serialised once, as the history file and ``--json`` share it).

Usage: .venv/bin/python bench/playbook_scale_bench.py [--repeat 5] [--sizes 50,200,800,2000,5000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
MEDIC = [PY, "-m", "medic.cli.main"]

STAGES = """
import json, statistics, sys, time
from medic.core import history
from medic.core.engine import Engine
from medic.core.session import Session
from medic.kernel import yamlload
from medic.plugins.targets.local import LocalTarget

path, repeat = sys.argv[1], int(sys.argv[2])
session = Session(config={})
times = {"load_libyaml": [], "load_python": [], "engine": [], "document": []}
for _ in range(repeat):
    for name in ("python", "libyaml"):
        yamlload.LOADER = yamlload.LOADERS[name]
        t = time.perf_counter(); playbook = session.load_playbook(path)
        times["load_" + name].append(time.perf_counter() - t)
    t = time.perf_counter(); run = Engine(session.registry).run(playbook, [LocalTarget(session.registry.probes)], {})
    times["engine"].append(time.perf_counter() - t)
    t = time.perf_counter(); text = history.document(run)
    times["document"].append(time.perf_counter() - t)
print(json.dumps({k: statistics.median(v) for k, v in times.items()}))
"""


def synthetic_playbook(path: Path, steps: int) -> Path:
    lines = ["name: synthetic", "steps:"] + [f"  - {{id: s{i}, check: system.os_info}}" for i in range(steps)]
    path.write_text("\n".join(lines) + "\n")
    return path


def wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="50,200,800,2000,5000")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="medic-scale-"))
    env = {**os.environ, "MEDIC_STATE_DIR": str(work / "state"), "MEDIC_ENGINE": "inline"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code cached, as on a user's machine
    one = synthetic_playbook(work / "one.yaml", 1)
    wall([*MEDIC, "run", str(one), "--json"], env)  # warm caches
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.repeat} pairs, "
          f"load {os.getloadavg()[0]:.2f}")
    print("\n[whole process: medic run N-step playbook --engine inline --json, alternating with a 1-step run]")
    print(f"{'steps':>6} {'N-step run':>11} {'1-step run':>11} {'per step':>10}  pairs (ms/step)")
    for n in sizes:
        pb = synthetic_playbook(work / f"steps{n}.yaml", n)
        big, small, per = [], [], []
        for _ in range(args.repeat):
            small.append(wall([*MEDIC, "run", str(one), "--json"], env))
            big.append(wall([*MEDIC, "run", str(pb), "--json"], env))
            per.append((big[-1] - small[-1]) / (n - 1) * 1000)
        pairs = ", ".join(f"{p:.3f}" for p in per)
        print(f"{n:>6} {statistics.median(big):>9.3f} s {statistics.median(small):>9.3f} s "
              f"{statistics.median(per):>7.3f} ms  [{pairs}]")
    print(f"\n[stages in one process, median of {args.repeat}; load {os.getloadavg()[0]:.2f}]")
    print(f"{'steps':>6} {'load (libyaml)':>15} {'load (python)':>14} {'engine':>9} {'document':>9}  "
          f"per step: libyaml load / engine / document")
    for n in sizes:
        out = subprocess.run([PY, "-c", STAGES, str(work / f"steps{n}.yaml"), str(args.repeat)], env=env,
                             capture_output=True, text=True, check=True).stdout
        t = json.loads(out)
        print(f"{n:>6} {t['load_libyaml']:>13.3f} s {t['load_python']:>12.3f} s {t['engine']:>7.3f} s "
              f"{t['document']:>7.3f} s  {t['load_libyaml'] / n * 1000:.3f} / {t['engine'] / n * 1000:.3f} / "
              f"{t['document'] / n * 1000:.3f} ms")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
