"""What ``medic run``'s fixed cost is made of: whole processes, interleaved, wall and CPU, the load printed.

Usage: .venv/bin/python bench/logs_fixed.py [--repeat 15] [--other TREE]

Each repetition runs, in turn (the order reversed every second repetition), fresh processes of this checkout's
venv: ``python -c pass`` (the interpreter with the venv's site), ``python -c "import medic.probes.logs"`` (the
log probe and the kernel it needs: what any Python process that scans a log with medic's probe imports),
``python -c "import medic.probes.logs; log_scan(one-line log)"``, and ``medic run PLAYBOOK --engine inline
--json`` with a one-step ``logs.error_rate`` playbook over a one-line log (the command's fixed cost), plus the
same command of another checkout (``--other TREE``, its own ``.venv``). Byte code is cached as on a user's
machine (``PYTHONDONTWRITEBYTECODE`` removed), the plugin index and the YAML cache warm (one run first).
Reported: median wall and CPU (user + system of the process and its waited-for children) per row, and the
difference of each row from the one before it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCAN = "from medic.probes.logs import log_scan; log_scan({path!r}, lines=0)"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rows(python: str, playbook: Path, log: Path, other: Path | None) -> dict[str, list[str]]:
    run = ["-m", "medic.cli.main", "run", str(playbook), "--engine", "inline", "--json"]
    out = {"python -c pass": [python, "-c", "pass"],
           "import medic.probes.logs": [python, "-c", "import medic.probes.logs"],
           "+ log_scan(one-line log)": [python, "-c", SCAN.format(path=str(log))],
           "medic run (one-line log)": [python, *run]}
    if other:
        out[f"medic run of {other}"] = [str(other / ".venv/bin/python"), *run]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--other", type=Path, help="also time `medic run` of this checkout (its .venv)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medic-fixed-"))
    log = work / "one.log"
    log.write_text("2026-12-07T00:00:00Z app01 svc[1]: ERROR one line\n")
    playbook = work / "one.yaml"
    playbook.write_text(f"name: log-errors\nsteps:\n  - id: errors\n    check: logs.error_rate\n"
                        f"    with: {{path: {str(log)!r}, lines: 0}}\n")
    env = {**os.environ, "MEDIC_STATE_DIR": str(work / "state")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte code cached, as on a user's machine
    table = rows(sys.executable, playbook, log, args.other)
    for argv in table.values():  # byte code, plugin index and YAML cache written once
        subprocess.run(argv, env=env, capture_output=True, check=False)
    walls: dict[str, list[float]] = {k: [] for k in table}
    cpus: dict[str, list[float]] = {k: [] for k in table}
    load_before = os.getloadavg()[0]
    for i in range(args.repeat):
        items = list(table.items())
        for label, argv in items if i % 2 == 0 else items[::-1]:
            cpu, started = _cpu(), time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, check=False)
            walls[label].append(time.perf_counter() - started)
            cpus[label].append(_cpu() - cpu)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{label}: exit {proc.returncode}\n{proc.stderr.decode()[-2000:]}")
    print(f"{args.repeat} interleaved repetitions, cpus={os.cpu_count()}, load average before {load_before:.2f}, "
          f"after {os.getloadavg()[0]:.2f}; PYTHONDONTWRITEBYTECODE unset (byte code cached)")
    print(f"{'':40}{'wall ms':>9}{'CPU ms':>9}{'+wall':>8}{'+CPU':>8}")
    previous: tuple[float, float] | None = None
    for label in table:
        wall, cpu = statistics.median(walls[label]) * 1000, statistics.median(cpus[label]) * 1000
        more = f"{wall - previous[0]:8.1f}{cpu - previous[1]:8.1f}" if previous else ""
        print(f"{label:40}{wall:9.1f}{cpu:9.1f}{more}")
        previous = (wall, cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
