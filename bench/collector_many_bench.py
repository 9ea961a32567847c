"""Two of issue 13's collector benchmarks, same collector, same run:

``--agents N`` (default 20): N agents, each enrolled, upload a bundle of ``--mib`` MiB (default 50) at the same
time; every receipt must be valid (each ``medic-agent upload`` exits 0 only after checking the receipt's signature,
key id and its own hash, and prints the case id); the aggregate throughput (N x size / wall time from the first
start to the last receipt) is compared with one agent uploading the same bundle alone, timed the same way
(``--repeat`` singles, their median). Target: aggregate ≥ 0.8 of the single upload.

``--one-click``: the one-file agent served by the collector (``GET /agent/medic-agent.pyz``) run as the support
engineer's one line, ``python3 -I medic-agent.pyz collect --upload URL --code CODE --pin sha256:HEX``, against
``python3 -I medic-agent.pyz collect`` alone (same profile, default ``default``), in interleaved pairs. Target: the
one click ≤ 2 x the collection alone.

    .venv/bin/python bench/collector_many_bench.py [--agents 20] [--mib 50] [--repeat 3] [--one-click]
                                                   [--profile default]
"""

from __future__ import annotations

import argparse
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from collector_bench import make_bundle, triage_settled  # noqa: E402
from collector_helpers import Running, pin, start_collector  # noqa: E402

AGENT = str(Path(sys.executable).with_name("medic-agent"))
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def agent(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AGENT, *args], capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "MEDIC_AGENT_STATE_DIR": str(state)})


def enrolled(running: Running, state: Path, name: str) -> Path:
    done = agent(state, "enroll", running.server.url, "--code", running.code(name, 1 << 40), "--pin", pin(running))
    if done.returncode != 0:
        raise SystemExit(f"enroll {name} failed: {done.stderr[-500:]}")
    return state


def upload(state: Path, bundle: Path) -> tuple[float, float, str]:
    """(start, end, case id) of one ``medic-agent upload --keep``; a refused or unverified receipt stops the bench."""
    started = time.perf_counter()
    done = agent(state, "upload", str(bundle), "--keep")
    ended = time.perf_counter()
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"upload from {state.name} failed ({done.returncode}): {done.stderr[-500:]}")
    return started, ended, done.stdout.strip()


def many(args: argparse.Namespace, running: Running, base: Path) -> None:
    bundles = [make_bundle(base / f"b{i}.tar.gz", args.mib) for i in range(args.agents + args.repeat)]
    size = bundles[0].stat().st_size
    states = [enrolled(running, base / f"agent{i}", f"many{i}") for i in range(args.agents + args.repeat)]
    singles = []
    for i in range(args.repeat):  # one agent alone, its own bundle (a delivered one is answered from the dedupe)
        start, end, _ = upload(states[args.agents + i], bundles[args.agents + i])
        singles.append(end - start)
        triage_settled(running.directory, i + 1)  # the triage of a bundle must not overlap the next timing
    load = os.getloadavg()[0]
    with ThreadPoolExecutor(max_workers=args.agents) as pool:
        runs = list(pool.map(upload, states[:args.agents], bundles[:args.agents]))
    wall = max(end for _, end, _ in runs) - min(start for start, _, _ in runs)
    cases = {case for _, _, case in runs}
    mib = size / (1 << 20)
    single = statistics.median(singles)
    print(f"{args.agents} agents x {mib:.0f} MiB at once: {len(runs)} receipts verified by their agents, "
          f"{len(cases)} case(s) (bundles of one host join its case); wall {wall:.2f} s, "
          f"aggregate {args.agents * mib / wall:.0f} MiB/s "
          f"(each upload {statistics.median(e - s for s, e, _ in runs):.2f} s median, "
          f"{max(e - s for s, e, _ in runs):.2f} s max); load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    times = ", ".join(f"{t:.2f}" for t in singles)
    print(f"one agent alone: median {single:.2f} s, {mib / single:.0f} MiB/s [{times}]")
    print(f"aggregate / single throughput: {(args.agents * mib / wall) / (mib / single):.2f} (target >= 0.8)")


def one_click(args: argparse.Namespace, running: Running, base: Path) -> None:
    context = ssl.create_default_context(cafile=str(running.ca))
    with urllib.request.urlopen(f"{running.server.url}/agent/medic-agent.pyz", context=context, timeout=300) as got:
        pyz = base / "medic-agent.pyz"
        pyz.write_bytes(got.read())
    alone, click = [], []
    for i in range(args.repeat):
        for kind in ("alone", "click") if i % 2 == 0 else ("click", "alone"):  # alternate who goes first
            work = base / f"{kind}{i}"
            work.mkdir()
            env = {"PATH": "/usr/bin:/bin", "HOME": str(work / "home"), "LC_ALL": "C.UTF-8"}
            argv = [PYTHON, "-I", str(pyz), "collect", "--quiet", "--profile", args.profile]
            if kind == "click":
                argv += ["--upload", running.server.url, "--code", running.code(f"click{i}", 1 << 40),
                         "--pin", pin(running)]
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, cwd=work, env=env, timeout=1800)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"{kind} failed ({done.returncode}): {done.stderr[-800:]}")
            (alone if kind == "alone" else click).append(elapsed)
        print(f"pair {i + 1}: collect {alone[-1]:.2f} s, collect --upload {click[-1]:.2f} s, "
              f"ratio {click[-1] / alone[-1]:.2f}; load {os.getloadavg()[0]:.1f}", flush=True)
    ratio = statistics.median(c / a for a, c in zip(alone, click, strict=True))
    print(f"one click (profile {args.profile}): collect alone median {statistics.median(alone):.2f} s, "
          f"collect --upload median {statistics.median(click):.2f} s; median of the pairs' ratios {ratio:.2f} "
          f"(target <= 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--mib", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one-click", action="store_true", help="time the one-file agent's one line instead")
    parser.add_argument("--profile", default="default", help="the collection profile (--one-click)")
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        running = start_collector(base / "c", extra_config="default_quota: 1TiB\nenroll_per_minute: 1000\n")
        try:
            (one_click if args.one_click else many)(args, running, base)
        finally:
            running.server.stop()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
