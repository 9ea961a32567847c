"""Upload throughput over TLS on loopback: `medic-agent upload` to `medic collector serve` vs `curl -T` to a minimal
standard-library PUT server with the same certificate, same run, same file. Prints medians and the ratio.

    .venv/bin/python bench/collector_bench.py [--mib 480] [--repeat 3]
    .venv/bin/python bench/collector_bench.py --kills 20 [--mib 480] [--repeat 3] [--seed 13]

``--kills N``: instead, pairs of uploads of the same bundle, one uninterrupted and one whose agent is killed with
SIGKILL N times at seeded random offsets (a new `medic-agent upload` each time, resuming from HEAD), each pair
run back to back; prints both times, the added share of each pair and its median. A kill point is a random chunk
boundary plus a random fraction of one chunk's time (from the pair's uninterrupted run), so the kill lands at a
random place in the PATCH in flight.

The bundle is a real medic bundle of random members (so the collector verifies and signs a receipt); the default
480 MiB stays under the bundle reader's default 512 MiB total cap, which a 1 GiB bundle would exceed (refused, 422).
Each agent run enrolls a new agent (the collector answers a bundle an agent already delivered from its dedupe).
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import random
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from collector_helpers import free_port, start_collector  # noqa: E402

from medic.kernel.bundle import BundleWriter  # noqa: E402

AGENT = str(Path(sys.executable).with_name("medic-agent"))


def make_bundle(path: Path, mib: int) -> Path:
    with BundleWriter(path, host="bench") as writer:
        for i in range(0, mib, 32):
            writer.add_bytes(f"logs/{i}.bin", os.urandom(min(32, mib - i) << 20))
    return path


class Put(http.server.BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        left = int(self.headers["Content-Length"])
        with open(self.server.sink, "wb") as out:  # type: ignore[attr-defined]
            while left:
                block = self.rfile.read(min(left, 1 << 20))
                if not block:
                    break
                out.write(block)
                left -= len(block)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def put_server(cert: Path, key: Path, sink: Path) -> tuple[http.server.HTTPServer, int]:
    server = http.server.HTTPServer(("127.0.0.1", free_port()), Put)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.sink = sink  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed


CHUNK = 8 << 20  # medic-agent's default --chunk-size


def killed_upload(bundle: Path, env: dict[str, str], kills: int, chunk_s: float, rng: random.Random
                  ) -> tuple[float, int, list[float]]:
    """Upload with ``kills`` kill -9s of the agent: (seconds from the first start to the receipt, kills made,
    seconds from each kill to the new process's first event: Python's start, imports, state, TLS, HEAD)."""
    chunks = -(-bundle.stat().st_size // CHUNK)
    if kills >= chunks - 1:
        raise SystemExit(f"--kills {kills}: the bundle has only {chunks} chunks of {CHUNK >> 20} MiB")
    targets = sorted(rng.sample(range(1, chunks - 1), kills))  # not after the last ack: the receipt comes fast
    made, restarts, killed_at = 0, [], 0.0
    started = time.perf_counter()
    while True:
        proc = subprocess.Popen([AGENT, "upload", str(bundle), "--keep", "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
        assert proc.stdout is not None
        for line in proc.stdout:
            if killed_at:
                restarts.append(time.perf_counter() - killed_at)
                killed_at = 0.0
            event = json.loads(line)
            if event["event"] == "chunk" and targets and event["offset"] >= targets[0] * CHUNK:
                targets.pop(0)
                time.sleep(rng.uniform(0, chunk_s))  # into the PATCH now in flight
                proc.send_signal(signal.SIGKILL)
                killed_at = time.perf_counter()
                break
        _, err = proc.communicate()
        if proc.returncode == 0:
            return time.perf_counter() - started, made, restarts
        if proc.returncode != -signal.SIGKILL:
            raise SystemExit(f"medic-agent upload failed ({proc.returncode}): {err[-500:]}")
        made += 1


def kill_bench(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bundle = make_bundle(base / "medic-bundle-bench.tar.gz", args.mib)
        mib = bundle.stat().st_size / (1 << 20)
        running = start_collector(base / "c", extra_config="default_quota: 1TiB\n")
        pki = base / "c" / "pki"
        pin = "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert((pki / "server.pem").read_text())).hexdigest()
        pairs = []
        try:
            for i in range(args.repeat):
                envs = []
                for variant in ("plain", "killed"):  # a new agent each: the collector dedupes a delivered bundle
                    env = {"MEDIC_AGENT_STATE_DIR": str(base / f"state-{variant}{i}")}
                    timed([AGENT, "enroll", running.server.url, "--code",
                           running.code(f"{variant}{i}", 1 << 40), "--pin", pin], env)
                    envs.append(env)
                plain = timed([AGENT, "upload", str(bundle), "--keep"], envs[0])
                chunk_s = plain * CHUNK / bundle.stat().st_size
                killed, made, restarts = killed_upload(bundle, envs[1], args.kills, chunk_s, rng)
                pairs.append((plain, killed, made))
                print(f"pair {i + 1}: uninterrupted {plain:.2f} s, with {made} kills {killed:.2f} s "
                      f"(+{(killed / plain - 1) * 100:.0f} %; per kill {(killed - plain) / max(made, 1):.2f} s, "
                      f"of which kill -> resumed median {statistics.median(restarts or [0]):.2f} s and the lost "
                      f"part of a chunk {chunk_s / 2:.2f} s on average), load {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            running.server.stop()
    added = statistics.median(k / p - 1 for p, k, _ in pairs)
    print(f"bundle {mib:.0f} MiB, {args.kills} kills, {args.repeat} pairs: median "
          f"uninterrupted {statistics.median(p for p, _, _ in pairs):.2f} s, with kills "
          f"{statistics.median(k for _, k, _ in pairs):.2f} s; median added {added * 100:.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=480)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kills", type=int, default=0, metavar="N",
                        help="time uploads with N kill -9s of the agent against uninterrupted ones")
    parser.add_argument("--seed", type=int, default=13, help="of the kill offsets (--kills)")
    args = parser.parse_args()
    if args.kills:
        kill_bench(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bundle = make_bundle(base / "medic-bundle-bench.tar.gz", args.mib)
        size = bundle.stat().st_size
        running = start_collector(base / "c", extra_config="default_quota: 1TiB\n")
        pki = base / "c" / "pki"
        pin = "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert((pki / "server.pem").read_text())).hexdigest()
        put, port = put_server(pki / "server.pem", pki / "server.key", base / "sink")
        agent, curl = [], []
        try:
            for i in range(args.repeat):
                env = {"MEDIC_AGENT_STATE_DIR": str(base / f"state{i}")}
                timed([AGENT, "enroll", running.server.url, "--code", running.code(f"bench{i}", 1 << 40),
                       "--pin", pin], env)
                agent.append(timed([AGENT, "upload", str(bundle), "--keep"], env))
                curl.append(timed(["curl", "-sS", "-f", "--cacert", str(pki / "ca.pem"), "-T", str(bundle),
                                   f"https://127.0.0.1:{port}/bundle"]))
            assert (base / "sink").stat().st_size == size
            hwm = next(line for line in Path(f"/proc/{running.server.proc.pid}/status").read_text().splitlines()
                       if line.startswith("VmHWM"))
        finally:
            running.server.stop()
            put.shutdown()
    mib = size / (1 << 20)
    a, c = statistics.median(agent), statistics.median(curl)
    print(f"bundle {mib:.0f} MiB, {args.repeat} runs each, TLS on 127.0.0.1")
    print(f"medic-agent upload -> collector  median {a:.2f} s ({mib / a:.0f} MiB/s)  "
          f"[{', '.join(f'{t:.2f}' for t in agent)}]")
    print(f"curl -T -> stdlib PUT server      median {c:.2f} s ({mib / c:.0f} MiB/s)  "
          f"[{', '.join(f'{t:.2f}' for t in curl)}]")
    print(f"throughput ratio agent/curl {c / a:.2f}; collector peak RSS {hwm.split(':')[1].strip()}")


if __name__ == "__main__":
    main()
