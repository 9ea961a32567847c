"""How long the agent waits at the end of each PATCH: one upload with the agent in this process (so its waits for
the collector's answers can be timed) to a real `medic collector serve` on 127.0.0.1, and, with ``--strace``, the
collector's fsync and fdatasync calls (the upload's file, SQLite's WAL) counted and summed.

    .venv/bin/python bench/collector_stall.py [--mib 200] [--chunk BYTES] [--strace]

The wait covers what the collector still has to read of the body when the agent's last send returns (the socket
buffers), the PATCH's end (last parts hashed and written, fsync, the SQLite commit, the verifier told) and the
answer's way back; nothing is sent meanwhile.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from collector_bench import AGENT, bench_collector, make_bundle, triage_settled  # noqa: E402

from medic.agent.uplink import http11  # noqa: E402

WAITED = {"s": 0.0, "patches": 0}
_answer = http11.Connection._answer


def _timed_answer(self: http11.Connection, method: str) -> Any:
    started = time.perf_counter()
    try:
        return _answer(self, method)
    finally:
        WAITED["s"] += time.perf_counter() - started
        WAITED["patches"] += method == "PATCH"


def syncs(trace: Path) -> str:
    found: dict[str, list[float]] = collections.defaultdict(list)
    for line in trace.read_text().splitlines():
        match = re.search(r"\b(fsync|fdatasync)\(\d+.*<([\d.]+)>", line)
        if match:
            found[match.group(1)].append(float(match.group(2)))
    return "; ".join(f"{name} {len(times)} calls, {sum(times):.2f} s" for name, times in sorted(found.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=32 << 20)
    parser.add_argument("--strace", action="store_true")
    args = parser.parse_args()
    http11.Connection._answer = _timed_answer  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bundle = make_bundle(base / "medic-bundle-bench.tar.gz", args.mib)
        running, pin = bench_collector(base / "c")
        os.environ["MEDIC_AGENT_STATE_DIR"] = str(base / "state")
        subprocess.run([AGENT, "enroll", running.server.url, "--code", running.code("stall", 1 << 40), "--pin", pin],
                       check=True, capture_output=True)
        from medic.agent.uplink.progress import Progress
        from medic.agent.uplink.state import load_enrollment
        from medic.agent.uplink.upload import deliver

        tracer = None
        if args.strace:
            tracer = subprocess.Popen(["strace", "-f", "-T", "-e", "trace=fsync,fdatasync", "-o",
                                       str(base / "strace.txt"), "-p", str(running.server.proc.pid)],
                                      stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # attached
        try:
            started = time.perf_counter()
            deliver(bundle, load_enrollment(), Progress(quiet=True), keep=True, chunk_size=args.chunk)
            wall = time.perf_counter() - started
        finally:
            if tracer is not None:
                tracer.terminate()
                tracer.wait()
        traced = f"; collector: {syncs(base / 'strace.txt')}" if tracer is not None else ""
        patches = max(int(WAITED["patches"]), 1)
        print(f"{args.mib} MiB in {args.chunk >> 20} MiB PATCHes: wall {wall:.2f} s, waiting for answers "
              f"{WAITED['s']:.2f} s over {patches} PATCHes ({WAITED['s'] / patches * 1000:.1f} ms each){traced}; "
              f"load {os.getloadavg()[0]:.1f}")
        triage_settled(running.directory, 1)
        running.server.stop()


if __name__ == "__main__":
    main()
