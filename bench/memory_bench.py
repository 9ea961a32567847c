"""Memory of a run, counted over the whole process tree: medic and every process it starts, sampled with psutil.
(Since session 14 Prefect's temporary server is a thread of medic's process, flows/thread_server.py: its memory is
in the medic column and the server column says "-"; a uvicorn process in the tree is still counted as the server.)

For each case the command runs ``--repeat`` times in a fresh PREFECT_HOME (cold: the temporary server starts,
creates its database and registers its blocks), and every ``--interval`` seconds the resident set sizes of the
process and all its descendants are summed, and so are their proportional set sizes (PSS, from
/proc/PID/smaps_rollup: pages shared between processes counted once). Printed per case: the median and largest peak
of the RSS sum, the median peak of the PSS sum, the peak of the largest single process (what `wait4`'s
ru_maxrss reports, the figure earlier benchmarks gave), and the peaks of medic's own process and of the server.
``--breakdown`` also prints, for each run, the processes alive at the peak of the tree's RSS with their RSS, PSS
and USS (pages no other process maps).
A forked probe child (a step with a timeout) shares its parent's pages until it exits: the RSS sum counts them
twice, the PSS sum once. Case ``again`` is ``cold`` in one PREFECT_HOME kept from a first, unmeasured run: a user's
later cold runs find Prefect's database there.

Usage: .venv/bin/python bench/memory_bench.py [--repeat 3] [--interval 0.05] [--breakdown] [--env KEY=VALUE ...]
(--env adds settings to every case, e.g. to try a Prefect setting before putting it in flows/prefect_env.py)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

PY = sys.executable
MEDIC = [PY, "-m", "medic.cli.main"]
HERE = Path(__file__).resolve().parent


SERVER: dict[str, int] = {}  # peak RSS of Prefect's server process (uvicorn), per case
ROOT: dict[str, int] = {}  # peak RSS of the command's own process (medic), per case


def smaps(pid: int) -> tuple[int, int]:
    """(PSS, USS) in bytes from /proc/PID/smaps_rollup: PSS splits shared pages between the processes using them,
    USS counts only the pages no other process maps (what ending this process would free)."""
    found = {"Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in found:
                    found[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return found["Pss"], found["Private_Clean"] + found["Private_Dirty"]


def role(proc: psutil.Process, root: psutil.Process) -> str:
    """What a process of the tree is: medic, Prefect's server, the probe zygote, a probe child, or its program."""
    if proc.pid == root.pid:
        return "medic"
    cmdline = proc.cmdline()
    if "uvicorn" in cmdline:
        return "server"
    parent = proc.parent()
    if any("zygote" in part for part in cmdline):  # medic's probe zygote (kernel/zygote.py) or a fork of it
        return "probe child (fork of zygote)" if parent is not None and parent.cmdline() == cmdline else "zygote"
    if cmdline == root.cmdline():
        return "probe child (fork of medic)"
    return os.path.basename(cmdline[0]) if cmdline else proc.name()


Row = tuple[str, int, int, int]  # role, RSS, PSS, USS


def tree_rss(root: psutil.Process) -> tuple[int, int, int, int, list[Row]]:
    """(sum of RSS over root and its descendants, sum of their PSS, largest single RSS, number of processes,
    one row per process)."""
    total = total_pss = largest = 0
    rows: list[Row] = []
    for proc in [root, *root.children(recursive=True)]:
        try:
            rss = proc.memory_info().rss
            what = role(proc, root)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if what == "medic":
            ROOT["peak"] = max(ROOT.get("peak", 0), rss)
        elif what == "server":
            SERVER["peak"] = max(SERVER.get("peak", 0), rss)
        proc_pss, uss = smaps(proc.pid)
        total, largest, total_pss = total + rss, max(largest, rss), total_pss + proc_pss
        rows.append((what, rss, proc_pss, uss))
    return total, total_pss, largest, len(rows), rows


def sample(argv: list[str], env: dict[str, str], interval: float
           ) -> tuple[float, int, int, int, int, float, list[Row]]:
    """Run argv; (wall, peak tree RSS, peak tree PSS, peak single RSS, most processes at once, exit code, the
    processes at the peak of the tree's RSS)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    root = psutil.Process(proc.pid)
    peak_tree = peak_pss = peak_one = most = 0
    at_peak: list[Row] = []
    while proc.poll() is None:
        try:
            total, total_pss, largest, count, rows = tree_rss(root)
        except psutil.NoSuchProcess:
            break
        if total > peak_tree:
            at_peak = rows
        peak_tree, peak_pss = max(peak_tree, total), max(peak_pss, total_pss)
        peak_one, most = max(peak_one, largest), max(most, count)
        time.sleep(interval)
    code = proc.wait()
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(argv)}: exit {code}")
    return time.perf_counter() - started, peak_tree, peak_pss, peak_one, most, code, at_peak


def breakdown(rows: list[Row]) -> str:
    """The processes at the peak, in MB: role RSS/PSS/USS each."""
    return "; ".join(f"{what} {rss >> 20}/{pss_ >> 20}/{uss >> 20}" for what, rss, pss_, uss in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE added to every case")
    ap.add_argument("--breakdown", action="store_true", help="print each run's processes at its peak")
    ap.add_argument("--cases", default="cold,again,bare,inline", help="which of cold,again,bare,inline to run")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medic-mem-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base.update({"MEDIC_STATE_DIR": str(work / "state"), "DO_NOT_TRACK": "1"})
    base.update(dict(kv.split("=", 1) for kv in args.env))
    cases = [
        ("cold", "medic run triage (cold: temporary server)", [*MEDIC, "run", "triage"], "fresh"),
        # the same, its PREFECT_HOME (Prefect's database) kept from an earlier run, as a user's later runs have it
        ("again", "medic run triage (cold, database kept)", [*MEDIC, "run", "triage"], "kept"),
        ("bare", "bare one-task flow (cold: temporary server)", [PY, str(HERE / "bare_flow.py")], "fresh"),
        ("inline", "medic run triage --engine inline", [*MEDIC, "run", "triage", "--engine", "inline"], None),
    ]
    cases = [c for c in cases if c[0] in args.cases.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
          f"sampling every {args.interval:g} s; extra env: {' '.join(args.env) or '(none)'}")
    print(f"{'case':<46} {'tree RSS':>9} {'(max)':>8} {'tree PSS':>9} {'one process':>12} {'medic':>7} "
          f"{'server':>7} {'procs':>6} {'wall':>8}")
    for _key, label, argv, home in cases:
        trees, psses, ones, walls, procs = [], [], [], [], []
        if home == "kept":
            subprocess.run(argv, env={**base, "PREFECT_HOME": str(work / "home-kept")}, capture_output=True)
        SERVER.clear()
        ROOT.clear()
        for i in range(args.repeat):
            env = dict(base)
            if home is not None:
                env["PREFECT_HOME"] = str(work / (f"home-{len(label)}-{i}" if home == "fresh" else "home-kept"))
            wall, tree, tree_pss, one, most, _, rows = sample(argv, env, args.interval)
            if args.breakdown:
                print(f"  #{i + 1} at the peak ({tree >> 20} MB), RSS/PSS/USS MB: {breakdown(rows)}")
            trees.append(tree >> 20)
            psses.append(tree_pss >> 20)
            ones.append(one >> 20)
            walls.append(wall)
            procs.append(most)
        server = f"{SERVER['peak'] >> 20} MB" if SERVER else "-"
        print(f"{label:<46} {statistics.median(trees):>6.0f} MB {max(trees):>5} MB {statistics.median(psses):>6.0f} MB "
              f"{statistics.median(ones):>9.0f} MB {ROOT.get('peak', 0) >> 20:>4} MB {server:>7} {max(procs):>6} "
              f"{statistics.median(walls):>6.2f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
