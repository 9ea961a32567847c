"""Benchmark: logs.error_rate's scan (probe log_scan) side by side with grep -ciE, as whole processes on both sides.

Usage: .venv/bin/python bench/logs_bench.py [--size-mb 200] [--repeat 5] [--error-pct 2] [--path
/tmp/medic-bench-200mb.log] [--parts N] [--other TREE] [--installed VENV]

Generates the log once (kept in /tmp for later runs), warms the page cache, then in each repetition runs, in
turn (the order reversed every second repetition, so neither side always runs first): the whole ``grep -ciE
<default pattern>`` process; medic's scan in a fresh Python process (timed inside that process around the call,
and as a whole process from outside); and the whole commands a user types: ``medic logs scan FILE --json`` (the
probe as a command, no playbook), and ``medic run PLAYBOOK --engine inline --json`` with a one-step playbook
running ``logs.error_rate`` over the whole file (``lines: 0``). Reported:
median wall and CPU times (user + system of the process and every child it waited for: grep, wc, head), MB/s,
peak RSS, the ratios grep/medic of wall and of CPU time (medic's throughput as a fraction of grep's) for the scan
alone and for both whole processes, each repetition's pair, and the load average before and after. Targets:
>= 1/3 of grep's throughput for the scan, >= 0.5 for the whole processes (issue 12), RSS < 100 MB, top messages
included. ``--parts N`` makes the in-process scan read the file as at most N parts (1: one grep) whatever the
load; ``medic run`` always uses its default (one part per usable core, one grep when the machine is busy).
``--installed VENV`` also times ``medic run`` of a venv where medic is installed from its wheels, as users install
it (the checkout's editable install adds a meta-path finder to every start-up), run from outside the checkout.
``--other TREE`` also times another checkout's ``medic run`` (its ``.venv``), on the log and on the one-line log,
in the same repetitions, and prints the per-repetition ratios of both.
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
from medic.probes import logparts
from medic.probes.logs import log_scan
if sys.argv[3] != "0":
    logparts.free_cores = lambda: int(sys.argv[3])
t = time.perf_counter()
out = log_scan(sys.argv[1], lines=0, engine=sys.argv[2], top=5)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "matches": out["matches"], "lines": out["lines_scanned"], "top": out["top"][:3]}))
"""


def _cpu() -> float:
    """User + system seconds of every waited-for child so far (a child's own waited-for children included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_grep(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of the whole ``grep -ciE`` process (its output to a pipe: grep stops at the first
    match when its output is /dev/null) and its count."""
    cpu, t = _cpu(), time.perf_counter()
    proc = subprocess.run(["grep", "-ciE", PATTERN, str(path)], capture_output=True, check=True)
    return time.perf_counter() - t, _cpu() - cpu, int(proc.stdout)


def run_medic(path: Path, engine: str, parts: int = 0) -> dict[str, object]:
    cpu, started = _cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", MEDIC, str(path), engine, str(parts)], capture_output=True, check=True, text=True
    )
    whole = time.perf_counter() - started
    result: dict[str, object] = json.loads(proc.stdout)
    result["whole"], result["cpu"] = whole, _cpu() - cpu
    return result


def run_command(playbook: Path, env: dict[str, str], tree: Path | None = None,
                venv: Path | None = None) -> tuple[float, float, int, int]:
    """The whole ``medic run`` process (of this checkout, of ``tree`` with its own venv, or of an installed
    ``venv`` run from /): wall and CPU seconds, the match count it reported and its peak RSS in KiB (``wait4``:
    the medic process, not its children)."""
    python = str(tree / ".venv/bin/python") if tree else str(venv / "bin/python") if venv else sys.executable
    if venv:
        tree, env = Path("/"), {k: v for k, v in env.items() if k != "PYTHONPATH"}
    cpu, started = _cpu(), time.perf_counter()
    proc = subprocess.Popen([python, "-m", "medic.cli.main", "run", str(playbook), "--engine", "inline", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tree)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"medic run: exit {code}\n{err[-2000:]}")
    (finding,) = json.loads(out)["findings"]
    return wall, _cpu() - cpu, int(finding["evidence"]["matches"]), usage.ru_maxrss


def run_logs_scan(path: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """The whole ``medic logs scan FILE --json`` process (the console script a user types): wall and CPU seconds
    (its children included) and the match count it printed."""
    medic = str(Path(sys.executable).with_name("medic"))
    cpu, started = _cpu(), time.perf_counter()
    proc = subprocess.run([medic, "logs", "scan", str(path), "--json"], capture_output=True, text=True, env=env,
                          check=True)
    return time.perf_counter() - started, _cpu() - cpu, int(json.loads(proc.stdout)["matches"])


def command_setup(path: Path) -> tuple[Path, Path, dict[str, str]]:
    """The one-step playbook over ``path`` and the same over a one-line log (medic run's fixed cost: start-up,
    playbook, plugins, engine, report and history, with next to nothing to scan)."""
    playbooks = []
    for log, suffix in ((path, "playbook"), (Path(f"{path}.one-line"), "fixed.playbook")):
        if log != path:
            log.write_text("2026-12-07T00:00:00Z app01 svc[1]: ERROR one line\n")
        playbook = Path(f"{path}.{suffix}.yaml")
        playbook.write_text(f"name: log-errors\nsteps:\n  - id: errors\n    check: logs.error_rate\n"
                            f"    with: {{path: {json.dumps(str(log))}, lines: 0}}\n")
        playbooks.append(playbook)
    env = {**os.environ, "MEDIC_STATE_DIR": f"{path}.state"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code cached, as on a user's machine
    return playbooks[0], playbooks[1], env


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--error-pct", type=float, default=2.0)
    ap.add_argument("--path", type=Path, default=Path("/tmp/medic-bench-200mb.log"))
    ap.add_argument("--parts", type=int, default=0, help="the in-process scan: at most N parts (0: its default)")
    ap.add_argument("--python-engine", action="store_true", help="also time the pure-Python engine (slow)")
    ap.add_argument("--other", type=Path, help="also time `medic run` of this checkout (its .venv), in pairs")
    ap.add_argument("--installed", type=Path, metavar="VENV", help="also time `medic run` of this venv (wheels)")
    args = ap.parse_args()
    if not args.path.exists() or abs(args.path.stat().st_size - args.size_mb * 2**20) > 2**20:
        print(f"generating {args.size_mb} MB log at {args.path} ...", flush=True)
        generate(args.path, args.size_mb, args.error_pct)
    size_mb = args.path.stat().st_size / 2**20
    with open(args.path, "rb") as fh:  # warm the page cache so both sides read from memory
        while fh.read(1 << 24):
            pass
    playbook, fixed_playbook, env = command_setup(args.path)
    run_command(playbook, env)  # byte-code compiled once, like an installed medic (and its plugin index written)
    if args.other:
        run_command(playbook, env, args.other)
    if args.installed:
        run_command(playbook, env, venv=args.installed)
    load_before = os.getloadavg()[0]
    t: dict[str, list[float]] = {k: [] for k in ("grep", "grep_cpu", "scan", "whole", "whole_cpu", "run",
                                                 "run_cpu", "other", "other_cpu", "python", "fixed",
                                                 "fixed_cpu", "installed", "installed_cpu", "other_fixed",
                                                 "other_fixed_cpu", "logs", "logs_cpu")}
    matches = grep_count = command_count = logs_count = 0
    medic_rss: list[int] = []
    run_rss: list[int] = []
    top: object = None

    def grep() -> None:
        nonlocal grep_count
        wall, cpu, grep_count = run_grep(args.path)
        t["grep"].append(wall)
        t["grep_cpu"].append(cpu)

    def scan() -> None:
        nonlocal matches, top
        m = run_medic(args.path, "auto", args.parts)
        t["scan"].append(float(m["wall"]))  # type: ignore[arg-type]
        t["whole"].append(float(m["whole"]))  # type: ignore[arg-type]
        t["whole_cpu"].append(float(m["cpu"]))  # type: ignore[arg-type]
        medic_rss.append(int(m["rss_kb"]))  # type: ignore[call-overload]
        matches, top = int(m["matches"]), m["top"]  # type: ignore[call-overload]

    def command() -> None:
        nonlocal command_count
        wall, cpu, command_count, rss = run_command(playbook, env)
        run_rss.append(rss)
        t["run"].append(wall)
        t["run_cpu"].append(cpu)

    def logs() -> None:
        nonlocal logs_count
        wall, cpu, logs_count = run_logs_scan(args.path, env)
        t["logs"].append(wall)
        t["logs_cpu"].append(cpu)

    def fixed() -> None:
        wall, cpu, _count, _rss = run_command(fixed_playbook, env)
        t["fixed"].append(wall)
        t["fixed_cpu"].append(cpu)

    def other() -> None:
        wall, cpu, _count, _rss = run_command(playbook, env, args.other)
        t["other"].append(wall)
        t["other_cpu"].append(cpu)

    def other_fixed() -> None:
        wall, cpu, _count, _rss = run_command(fixed_playbook, env, args.other)
        t["other_fixed"].append(wall)
        t["other_fixed_cpu"].append(cpu)

    def installed() -> None:
        wall, cpu, _count, _rss = run_command(playbook, env, venv=args.installed)
        t["installed"].append(wall)
        t["installed_cpu"].append(cpu)

    for i in range(args.repeat):
        order = [grep, scan, logs, command, fixed, *([other, other_fixed] if args.other else []),
                 *([installed] if args.installed else [])]
        for step in order if i % 2 == 0 else order[::-1]:  # every second repetition in the reverse order
            step()
        if args.python_engine:
            t["python"].append(float(run_medic(args.path, "python")["wall"]))  # type: ignore[arg-type]
    report(args, size_mb, t, load_before)
    agree = matches == grep_count == command_count == logs_count
    print(f"counts: grep {grep_count}, scan {matches}, medic logs scan {logs_count}, medic run {command_count}; "
          f"agree: {agree}; peak RSS: in-process scan {max(medic_rss) / 1024:.0f} MB, "
          f"medic run {max(run_rss) / 1024:.0f} MB")
    print("top repeated messages:")
    for entry in top:  # type: ignore[attr-defined]
        print(f"  {entry['count']:>7}x {entry['message'][:110]}")
    return 0 if agree else 1


def report(args: argparse.Namespace, size_mb: float, t: dict[str, list[float]], load_before: float) -> None:
    g, gc = _median(t["grep"]), _median(t["grep_cpu"])
    print(f"log: {args.path} {size_mb:.0f} MB, {args.error_pct:g}% error lines, cpus={os.cpu_count()}, "
          f"{args.repeat} repetitions, load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'':34}{'wall':>9}{'CPU':>9}{'MB/s':>7}{'grep/medic wall':>17}{'CPU':>6}")
    rows = [("grep -ciE (whole process)", g, gc),
            ("log_scan timed in its process", _median(t["scan"]), None),
            ("python + log_scan (whole process)", _median(t["whole"]), _median(t["whole_cpu"])),
            ("medic logs scan FILE --json", _median(t["logs"]), _median(t["logs_cpu"])),
            ("medic run --engine inline --json", _median(t["run"]), _median(t["run_cpu"])),
            ("medic run, a one-line log (fixed)", _median(t["fixed"]), _median(t["fixed_cpu"]))]
    if t["other"]:
        rows.append((f"medic run of {args.other}", _median(t["other"]), _median(t["other_cpu"])))
        rows.append(("  the same, one-line log (fixed)", _median(t["other_fixed"]), _median(t["other_fixed_cpu"])))
    if t["installed"]:
        rows.append(("medic run, installed from wheels", _median(t["installed"]), _median(t["installed_cpu"])))
    if t["python"]:
        rows.append(("log_scan, pure-Python engine", _median(t["python"]), None))
    for label, wall, cpu in rows:
        cpu_text = f"{cpu:9.3f}" if cpu is not None else f"{'':9}"
        ratio_cpu = f"{gc / cpu:6.2f}" if cpu else ""
        print(f"{label:34}{wall:9.3f}{cpu_text}{size_mb / wall:7.0f}{g / wall:17.2f}{ratio_cpu}")
    pairs = [a / b for a, b in zip(t["grep"], t["logs"], strict=True)]
    print(f"each repetition, grep / medic logs scan wall: {', '.join(f'{p:.2f}' for p in pairs)} (median "
          f"{_median(pairs):.2f}; target >= 0.5)")
    pairs = [a / b for a, b in zip(t["grep"], t["run"], strict=True)]
    print(f"each repetition, grep / medic run wall: {', '.join(f'{p:.2f}' for p in pairs)} (median "
          f"{_median(pairs):.2f}; target >= 0.5)")
    print(f"medic run's fixed cost (one-line log) against twice grep's whole process: {_median(t['fixed']):.3f} s vs "
          f"{2 * g:.3f} s (the target needs the whole run, scan included, within the latter)")
    if t["installed"]:
        pairs = [a / b for a, b in zip(t["grep"], t["installed"], strict=True)]
        print(f"each repetition, grep / installed medic run wall: {', '.join(f'{p:.2f}' for p in pairs)} (median "
              f"{_median(pairs):.2f}; target >= 0.5)")
    if t["other"]:
        per = [a / b for a, b in zip(t["run"], t["other"], strict=True)]
        print(f"each repetition, this medic run / {args.other}'s: {', '.join(f'{p:.2f}' for p in per)} "
              f"(median {_median(per):.2f})")
        per = [a / b for a, b in zip(t["fixed"], t["other_fixed"], strict=True)]
        cpu = [a / b for a, b in zip(t["fixed_cpu"], t["other_fixed_cpu"], strict=True)]
        print(f"each repetition, this fixed cost / {args.other}'s: wall {', '.join(f'{p:.2f}' for p in per)} (median "
              f"{_median(per):.2f}), CPU median {_median(cpu):.2f}")


if __name__ == "__main__":
    sys.exit(main())
