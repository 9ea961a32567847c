"""Benchmark: logs.error_rate's scan (probe log_scan) over a 200 MB log, side by side with grep -ciE.

Usage: .venv/bin/python bench/logs_bench.py [--size-mb 200] [--repeat 5] [--error-pct 2] [--path
/tmp/medic-bench.log]

Generates the log once (kept in /tmp for later runs), warms the page cache, then for each repetition runs, one
after the other: the whole ``grep -ciE <default pattern>`` process; medic's scan in a fresh Python process
(timed inside that process around the call, and as a whole process from outside); and the whole command a user
types, ``medic run PLAYBOOK --engine inline --json`` with a one-step playbook running ``logs.error_rate`` over
the whole file (``lines: 0``). Reported: median wall times, MB/s, peak RSS and the ratios grep/medic (medic's
throughput as a fraction of grep's) for the scan alone and for both whole processes. Targets: >= 1/3 of grep's
throughput for the scan, >= 0.5 for the whole processes (issue 12), RSS < 100 MB, top messages included.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PATTERN = "error|exception|fatal|critical|traceback|panic|segfault"
INFO = [
    "INFO request served path=/api/items/{n} status=200 in {ms} ms",
    "DEBUG cache hit key=user:{n} ttl={ms}",
    "INFO user {n} logged in from 10.{a}.{b}.{c}",
    "WARN slow query took {ms} ms: SELECT * FROM orders WHERE id={n}",
    "INFO scheduled job {hex} finished in {ms} ms",
]
ERRORS = [
    "ERROR database connection to 10.0.{a}.{b}:5432 lost after {ms} ms (request id {hex})",
    "ERROR upstream timed out after {ms} ms calling http://10.{a}.{b}.{c}:8080/api/items/{n}",
    "CRITICAL disk write failed on /dev/sdb errno={a} block={n}",
    "ERROR unhandled exception in worker-{a}: KeyError('customer_{n}')",
]


def generate(path: Path, size_mb: int, error_pct: float, seed: int = 7) -> None:
    rng = random.Random(seed)
    target = size_mb * 1024 * 1024
    start = time.time() - 86400
    written = 0
    with open(path, "w") as fh:
        i = 0
        while written < target:
            lines = []
            for _ in range(10000):
                tmpl = rng.choice(ERRORS) if rng.random() * 100 < error_pct else rng.choice(INFO)
                ts = (
                    time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start + i * 0.04)) + f".{i % 1000:03d}Z"
                )
                msg = tmpl.format(
                    n=rng.randrange(1, 10**6),
                    ms=rng.randrange(1, 5000),
                    a=rng.randrange(256),
                    b=rng.randrange(256),
                    c=rng.randrange(256),
                    hex=f"{rng.getrandbits(48):012x}",
                )
                lines.append(f"{ts} app01 svc[{1000 + i % 50}]: {msg}\n")
                i += 1
            block = "".join(lines)
            fh.write(block)
            written += len(block)


MEDIC = """
import json, resource, sys, time
from medic.probes.logs import log_scan
t = time.perf_counter()
out = log_scan(sys.argv[1], lines=0, engine=sys.argv[2], top=5)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "matches": out["matches"], "lines": out["lines_scanned"], "top": out["top"][:3]}))
"""


def run_grep(path: Path) -> tuple[float, int, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(["grep", "-ciE", PATTERN, str(path)], capture_output=True, check=True)
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, int(proc.stdout), rss if rss > before else 0


def run_medic(path: Path, engine: str) -> dict[str, object]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MEDIC, str(path), engine], capture_output=True, check=True, text=True
    )
    whole = time.perf_counter() - started
    result: dict[str, object] = json.loads(proc.stdout)
    result["whole"] = whole
    return result


def run_command(playbook: Path, env: dict[str, str], tree: Path | None = None) -> tuple[float, int]:
    """The whole ``medic run`` process (of this checkout, or of ``tree`` with its own venv): wall time and the
    match count it reported."""
    python = str(tree / ".venv/bin/python") if tree else sys.executable
    started = time.perf_counter()
    proc = subprocess.run([python, "-m", "medic.cli.main", "run", str(playbook), "--engine", "inline",
                           "--json"], capture_output=True, text=True, env=env, cwd=tree)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"medic run: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    (finding,) = json.loads(proc.stdout)["findings"]
    return wall, int(finding["evidence"]["matches"])


def command_setup(path: Path) -> tuple[Path, dict[str, str]]:
    playbook = Path(f"{path}.playbook.yaml")
    playbook.write_text(f"name: log-errors\nsteps:\n  - id: errors\n    check: logs.error_rate\n"
                        f"    with: {{path: {json.dumps(str(path))}, lines: 0}}\n")
    env = {**os.environ, "MEDIC_STATE_DIR": f"{path}.state"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code cached, as on a user's machine
    return playbook, env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--error-pct", type=float, default=2.0)
    ap.add_argument("--path", type=Path, default=Path("/tmp/medic-bench-200mb.log"))
    ap.add_argument("--python-engine", action="store_true", help="also time the pure-Python engine (slow)")
    ap.add_argument("--other", type=Path, help="also time `medic run` of this checkout (its .venv), in pairs")
    args = ap.parse_args()
    if not args.path.exists() or abs(args.path.stat().st_size - args.size_mb * 2**20) > 2**20:
        print(f"generating {args.size_mb} MB log at {args.path} ...", flush=True)
        generate(args.path, args.size_mb, args.error_pct)
    size_mb = args.path.stat().st_size / 2**20
    with open(args.path, "rb") as fh:  # warm the page cache so both sides read from memory
        while fh.read(1 << 24):
            pass
    playbook, env = command_setup(args.path)
    run_command(playbook, env)  # byte-code compiled once, like an installed medic (and its plugin index written)
    if args.other:
        run_command(playbook, env, args.other)
    grep_t, medic_t, medic_rss, py_t, whole_t, command_t, other_t = [], [], [], [], [], [], []
    matches = grep_count = command_count = 0
    top: object = None
    for i in range(args.repeat):
        if args.other and i % 2:  # the other checkout's run before this one's in every second repetition
            other_t.append(run_command(playbook, env, args.other)[0])
        wall, grep_count, _rss = run_grep(args.path)
        grep_t.append(wall)
        m = run_medic(args.path, "auto")
        medic_t.append(float(m["wall"]))  # type: ignore[arg-type]
        whole_t.append(float(m["whole"]))  # type: ignore[arg-type]
        wall, command_count = run_command(playbook, env)
        command_t.append(wall)
        if args.other and not i % 2:
            other_t.append(run_command(playbook, env, args.other)[0])
        medic_rss.append(int(m["rss_kb"]))  # type: ignore[call-overload]
        matches, top = int(m["matches"]), m["top"]  # type: ignore[call-overload]
        if args.python_engine:
            py_t.append(float(run_medic(args.path, "python")["wall"]))  # type: ignore[arg-type]
    g, md = statistics.median(grep_t), statistics.median(medic_t)
    print(
        f"log: {args.path} {size_mb:.0f} MB, {args.error_pct:g}% error lines, cpus={os.cpu_count()}, "
        f"load={os.getloadavg()[0]:.2f}"
    )
    print(f"grep -ciE        median {g:6.3f} s  {size_mb / g:7.0f} MB/s  count={grep_count}")
    print(
        f"medic log_scan   median {md:6.3f} s  {size_mb / md:7.0f} MB/s  matches={matches}  "
        f"peak RSS {max(medic_rss) / 1024:.0f} MB"
    )
    if py_t:
        p = statistics.median(py_t)
        print(f"medic (python)   median {p:6.3f} s  {size_mb / p:7.0f} MB/s")
    wh, cm = statistics.median(whole_t), statistics.median(command_t)
    print(f"whole processes: grep -ciE {g:.3f} s, python+log_scan {wh:.3f} s, medic run (1 step, inline, --json) "
          f"{cm:.3f} s [{', '.join(f'{c:.2f}' for c in command_t)}]")
    print(
        f"ratio medic/grep throughput: scan alone {g / md:.2f} (target >= 0.33); whole process python+log_scan "
        f"{g / wh:.2f}, medic run {g / cm:.2f} (target >= 0.5); counts agree: "
        f"{matches == grep_count == command_count}"
    )
    pairs = ", ".join(f"{a / b:.2f}" for a, b in zip(grep_t, command_t, strict=True))
    print(f"whole process, each repetition: grep / medic run {pairs}")
    if other_t:
        om = statistics.median(other_t)
        print(f"other checkout {args.other}: medic run {om:.3f} s [{', '.join(f'{c:.2f}' for c in other_t)}], "
              f"grep / its run {g / om:.2f}; this / other per pair "
              f"{', '.join(f'{a / b:.2f}' for a, b in zip(command_t, other_t, strict=True))}, median "
              f"{statistics.median(a / b for a, b in zip(command_t, other_t, strict=True)):.2f}")
    print("top repeated messages:")
    for t in top:  # type: ignore[attr-defined]
        print(f"  {t['count']:>7}x {t['message'][:110]}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0 if matches == grep_count == command_count else 1


if __name__ == "__main__":
    sys.exit(main())
