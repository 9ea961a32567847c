"""Where one upload's CPU goes, thread by thread: `medic-agent upload` of a bench bundle to `medic collector serve`
on 127.0.0.1 (as collector_bench.py runs them) under `perf record -a`, then the samples of the agent's and the
collector's threads summed per thread and per library (libcrypto: sha256 and AES-GCM; libz: gzip's crc32; libc:
memory copies; libpython: the interpreter; the kernel: socket, page cache, file system).

    .venv/bin/python bench/collector_profile.py [--mib 480] [--freq 999]

Needs perf (and the right to record the whole system). One sample is 1/freq s of CPU. Threads are told apart by
what they run: the collector's event loop is its main thread, the verifier the one with libz in it, the agent's
read-ahead threads (one per chunk) the many short ones. The bundle's creation and the triage after the receipt
are outside the recording.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from collector_bench import AGENT, bench_collector, make_bundle, triage_settled  # noqa: E402


def per_thread(data: Path, pids: list[int]) -> dict[tuple[str, int], collections.Counter[str]]:
    """{(command, thread id): samples per library} of the processes ``pids``."""
    out = subprocess.run(["perf", "script", "-i", str(data), "--pid", ",".join(map(str, pids)), "-F",
                          "comm,tid,ip,dso"], capture_output=True, text=True, check=True).stdout
    found: dict[tuple[str, int], collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1].isdigit():
            library = fields[-1].strip("()").rsplit("/", 1)[-1].split(".so")[0]
            found[(fields[0], int(fields[1]))][library] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=480)
    parser.add_argument("--freq", type=int, default=999)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bundle = make_bundle(base / "medic-bundle-bench.tar.gz", args.mib)
        running, pin = bench_collector(base / "c")
        env = {**os.environ, "MEDIC_AGENT_STATE_DIR": str(base / "state")}
        subprocess.run([AGENT, "enroll", running.server.url, "--code", running.code("profile", 1 << 40), "--pin",
                        pin], env=env, check=True, capture_output=True)
        collector = running.server.proc.pid
        perf = subprocess.Popen(["perf", "record", "-a", "-F", str(args.freq), "-o", str(base / "perf.data")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # perf is recording
        started = time.perf_counter()
        agent = subprocess.Popen([AGENT, "upload", str(bundle), "--keep"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        _, errors = agent.communicate()
        wall = time.perf_counter() - started
        perf.send_signal(signal.SIGINT)
        perf.wait()
        try:
            if agent.returncode != 0:
                raise SystemExit(f"medic-agent upload failed: {errors[-500:]}")
            threads = per_thread(base / "perf.data", [collector, agent.pid])
            triage_settled(running.directory, 1)
        finally:
            running.server.stop()
    print(f"{args.mib} MiB upload: {wall:.2f} s wall, load {os.getloadavg()[0]:.1f}; samples at {args.freq} Hz "
          f"(1 sample = {1000 / args.freq:.2f} ms of CPU)")
    totals = collections.Counter({key: sum(libs.values()) for key, libs in threads.items()})
    for side in ("medic", "medic-agent"):
        mine = [(key, n) for key, n in totals.most_common() if key[0] == side]
        print(f"{'collector' if side == 'medic' else 'agent'}: {sum(n for _, n in mine)} samples")
        for (_, tid), n in mine[:8]:
            role = " (main)" if tid == collector else ""
            libs = ", ".join(f"{lib} {k}" for lib, k in threads[(side, tid)].most_common(6))
            print(f"  thread {tid}{role}: {n}  [{libs}]")
        if len(mine) > 8:
            print(f"  {len(mine) - 8} more threads: {sum(n for _, n in mine[8:])}")


if __name__ == "__main__":
    main()
