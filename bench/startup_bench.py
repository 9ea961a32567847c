"""Start-up of small commands, this tree side by side with another checkout (main), interleaved pairs.

Usage: .venv/bin/python bench/startup_bench.py [--other /work/main] [--repeat 7]

For each command, the two trees' ``python -m medic.cli.main ARGS`` (each with its own venv and working directory)
run alternately, ``--repeat`` pairs, the order within a pair alternating too. Printed per command: the median wall
time of each side, the median of the per-pair ratios (this tree / other) and how many modules each side had
imported when the command returned (counted in a separate run, not timed). The load average is printed at the start
and the end. The inline triage run writes its history to a temporary MEDIC_STATE_DIR.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
COMMANDS = [["--version"], ["--help"], ["run", "triage", "--engine", "inline", "--json"], ["checks", "list"],
            ["plugins", "list"]]
COUNT = ("import sys\nfrom medic.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
         "sys.stdout.flush()\nsys.stderr.write(f'MODULES {len(sys.modules)}\\n')\n")


def once(tree: Path, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(tree / ".venv/bin/python"), "-m", "medic.cli.main", *args], cwd=tree, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{tree}: medic {' '.join(args)}: exit {done.returncode}")
    return wall


def modules(tree: Path, args: list[str], env: dict[str, str]) -> int:
    done = subprocess.run([str(tree / ".venv/bin/python"), "-c", COUNT, *args], cwd=tree, env=env,
                          capture_output=True, text=True)
    counts = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("MODULES ")]
    return int(counts[-1]) if counts else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--other", type=Path, default=Path("/work/main"))
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    state = tempfile.mkdtemp(prefix="medic-startup-")
    env = {**os.environ, "MEDIC_STATE_DIR": state, "MEDIC_ENGINE": "inline"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    trees = {"this": HERE, "other": args.other.resolve()}
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"this = {HERE}, other = {trees['other']}; {args.repeat} interleaved pairs")
    print(f"{'command':<40} {'other':>8} {'this':>8} {'ratio':>6}  {'modules other/this':>18}")
    for command in COMMANDS:
        for tree in trees.values():
            once(tree, command, env)  # warm the page cache and the bytecode of both sides
        walls: dict[str, list[float]] = {"this": [], "other": []}
        ratios = []
        for i in range(args.repeat):
            order = ["this", "other"] if i % 2 == 0 else ["other", "this"]
            pair = {side: once(trees[side], command, env) for side in order}
            for side, wall in pair.items():
                walls[side].append(wall)
            ratios.append(pair["this"] / pair["other"])
        counts = f"{modules(trees['other'], command, env)}/{modules(trees['this'], command, env)}"
        print(f"medic {' '.join(command):<34} {statistics.median(walls['other']):>6.3f} s "
              f"{statistics.median(walls['this']):>6.3f} s {statistics.median(ratios):>6.2f}  {counts:>18}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
