"""Upload throughput over TLS on loopback: `medic-agent upload` to `medic collector serve` vs `curl -T` to a minimal
standard-library PUT server with the same certificate, same run, same file. Prints medians and the ratio.

    .venv/bin/python bench/collector_bench.py [--mib 480] [--repeat 3]
    .venv/bin/python bench/collector_bench.py --kills 20 [--mib 480] [--repeat 3] [--seed 13]

``--kills N``: instead, pairs of uploads of the same bundle, one uninterrupted and one whose agent is killed with
SIGKILL N times at seeded random offsets (a new `medic-agent upload` each time, resuming from HEAD), each pair
run back to back; prints both times, the added share of each pair and its median. A kill point is a random chunk
boundary plus a random fraction of one chunk's time (from the pair's uninterrupted run), so the kill lands at a
random place in the PATCH in flight.

The bundle is a real medic bundle of random members (so the collector verifies and signs a receipt); ``--mib
1023`` is the issue's 1 GiB: a file of 1023.1 MiB, under the collector's default max_bundle_size of 1 GiB, whose
reader caps follow it (caps.py); 1024 MiB of members make a file a little over it (413).
Each agent run enrolls a new agent (the collector answers a bundle an agent already delivered from its dedupe).

``--agent pyz`` (with ``--kills``): the agent is the one-file ``medic-agent.pyz`` fetched from the collector, run
as the support engineer's line runs it (``python3 -I medic-agent.pyz``, the system Python where there is one, its
extraction cache in the run's directory, its byte code written there on the first run, -I ignoring
PYTHONDONTWRITEBYTECODE): what an end user's restart costs, without this venv's editable-install hooks.

``--bytecode cached`` (default): the agent's processes use byte code compiled once before the timings (in the
run's temporary directory, PYTHONPYCACHEPREFIX), as an installed agent does (pip compiles at install; the .pyz's
extracted cache keeps its own). A session that exports PYTHONDONTWRITEBYTECODE otherwise makes every new
`medic-agent` process compile medic's modules from source (the editable install has none compiled), which is what
``--bytecode source`` reproduces: the runs before 2026-12-07 were made that way.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import random
import resource
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from collector_helpers import free_port, start_collector  # noqa: E402

from medic.kernel.bundle import BundleWriter  # noqa: E402

AGENT = str(Path(sys.executable).with_name("medic-agent"))
SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


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


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds: of process ``pid`` (all its threads) from /proc, else of this process's waited-for
    children plus its own (the PUT server is a thread of this process)."""
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    kids, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    return kids.ru_utime + kids.ru_stime + own.ru_utime + own.ru_stime


def triage_settled(collector: Path, done: int, timeout: float = 600) -> int:
    """Wait until ``done`` triage records of the collector say done, failed or skipped (the triage of a 480 MiB
    bundle reads and extracts it after its receipt: it must not run during the next timed upload)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [json.loads(p.read_text()).get("status") for p in collector.glob("cases/*/triage-*.json")]
        if sum(state in ("done", "failed", "skipped") for state in states) >= done:
            return done
        time.sleep(0.2)
    raise SystemExit(f"the collector's triage did not finish {done} bundles in {timeout:.0f} s")


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed


CHUNK = 32 << 20  # medic-agent's default --chunk-size


@dataclass
class Interruption:
    """Where one kill's time went: the part of the PATCH in flight that was lost (from the last acknowledgement
    to the kill), the restart (kill to the new process's "resumed" event: Python, imports, state, TLS, HEAD),
    and the re-sent chunk's round trip (to its acknowledgement); retries: backoff pauses the new process made."""

    lost: float = 0.0
    restart: float = 0.0
    resend: float = 0.0
    retries: int = 0
    kept: int = 0  # bytes of the cut PATCH the collector kept (its checked prefixes): the resumed offset past the ack


def killed_upload(agent: list[str], bundle: Path, env: dict[str, str], kills: int, chunk_s: float,
                  rng: random.Random, chunk: int) -> tuple[float, list[Interruption]]:
    """Upload with ``kills`` kill -9s of the agent: (seconds from the first start to the receipt, one
    Interruption per kill)."""
    chunks = -(-bundle.stat().st_size // chunk)
    if kills >= chunks - 1:
        raise SystemExit(f"--kills {kills}: the bundle has only {chunks} chunks of {chunk >> 20} MiB")
    targets = sorted(rng.sample(range(1, chunks - 1), kills))  # not after the last ack: the receipt comes fast
    done: list[Interruption] = []
    current: Interruption | None = None
    killed_at, resumed_at, acked_offset = 0.0, 0, 0
    started = time.perf_counter()
    while True:
        proc = subprocess.Popen([*agent, "upload", str(bundle), "--keep", "--json", "--chunk-size", str(chunk)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
        assert proc.stdout is not None
        acked = time.perf_counter()
        for line in proc.stdout:
            now, event = time.perf_counter(), json.loads(line)
            if current is not None:
                if event["event"] == "resumed":
                    current.restart, resumed_at = now - killed_at, event["offset"]
                    current.kept = max(resumed_at - acked_offset, 0)
                elif event["event"] == "retry":
                    current.retries += 1
                elif event["event"] == "chunk" and event["offset"] > resumed_at:  # not the bar's start
                    current.resend = now - killed_at - current.restart
                    done.append(current)
                    current = None
            if event["event"] == "chunk":
                acked, acked_offset = now, event["offset"]
                if targets and event["offset"] >= targets[0] * chunk:
                    targets.pop(0)
                    time.sleep(rng.uniform(0, chunk_s))  # into the PATCH now in flight
                    proc.send_signal(signal.SIGKILL)
                    killed_at = time.perf_counter()
                    if current is not None:  # killed again before its re-sent chunk was acknowledged
                        done.append(current)
                    current = Interruption(lost=killed_at - acked)
                    break
        _, err = proc.communicate()
        if proc.returncode == 0:
            return time.perf_counter() - started, done + ([current] if current is not None else [])
        if proc.returncode != -signal.SIGKILL:
            raise SystemExit(f"medic-agent upload failed ({proc.returncode}): {err[-500:]}")


def startup(argv: list[str], repeat: int = 5) -> float:
    """Median seconds of a command that only starts Python (and imports)."""
    return statistics.median(timed(argv) for _ in range(repeat))


AGENT_MODULES = "import medic.agent.cli, medic.agent.uplinkcli, medic.agent.uplink.upload, medic.agent.uplink.receipt"


def bytecode(mode: str, base: Path) -> None:
    """The byte code the agent's processes (started with this process's environment) find: compiled once here,
    or none (each process compiles medic's modules from source)."""
    if mode == "source":
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        os.environ.pop("PYTHONPYCACHEPREFIX", None)
        return
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
    timed([sys.executable, "-c", AGENT_MODULES])
    timed([AGENT, "--version"])


def fetch_pyz(running: Any, base: Path) -> list[str]:
    """The agent as the one-click line runs it: ``python3 -I medic-agent.pyz`` served by this collector."""
    context = ssl.create_default_context(cafile=str(running.ca))
    pyz = base / "medic-agent.pyz"
    with urllib.request.urlopen(f"{running.server.url}/agent/medic-agent.pyz", context=context, timeout=600) as got:
        pyz.write_bytes(got.read())
    os.environ["MEDIC_AGENT_CACHE"] = str(base / "agent-cache")  # not -I's business: MEDIC_*, not PYTHON*
    timed([SYSTEM_PYTHON, "-I", str(pyz), "--version"])  # extracts once, as the first click does
    return [SYSTEM_PYTHON, "-I", str(pyz)]


def bench_collector(home: Path) -> tuple[Any, str]:
    """A collector in ``home`` with room for any bundle, and its certificate's pin for ``medic-agent enroll``."""
    running = start_collector(home, extra_config="default_quota: 1TiB\n")
    pem = (home / "pki" / "server.pem").read_text()
    return running, "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def kill_bench(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bytecode(args.bytecode, base)
        bundle = make_bundle(base / "medic-bundle-bench.tar.gz", args.mib)
        mib = bundle.stat().st_size / (1 << 20)
        running, pin = bench_collector(base / "c")
        agent = fetch_pyz(running, base) if args.agent == "pyz" else [AGENT]
        pairs = []
        cpu_added = []  # per pair: the CPU seconds (agent side + collector) the kills added, as a share
        try:
            for i in range(args.repeat):
                envs = []
                for variant in ("plain", "killed"):  # a new agent each: the collector dedupes a delivered bundle
                    env = {"MEDIC_AGENT_STATE_DIR": str(base / f"state-{variant}{i}")}
                    timed([*agent, "enroll", running.server.url, "--code",
                           running.code(f"{variant}{i}", 1 << 40), "--pin", pin], env)
                    envs.append(env)
                pid = running.server.proc.pid
                before = cpu_seconds(), cpu_seconds(pid)
                plain = timed([*agent, "upload", str(bundle), "--keep", "--chunk-size", str(args.chunk)], envs[0])
                plain_cpu = cpu_seconds() - before[0], cpu_seconds(pid) - before[1]
                chunk_s = plain * args.chunk / bundle.stat().st_size
                triage_settled(running.directory, 2 * i + 1)  # its triage must not run during the next upload
                before = cpu_seconds(), cpu_seconds(pid)
                killed, parts = killed_upload(agent, bundle, envs[1], args.kills, chunk_s, rng, args.chunk)
                # CPU seconds a kill adds (agents + this process; the collector): steadier than wall time on a
                # loaded machine, where a new process waits for a core
                killed_cpu = cpu_seconds() - before[0], cpu_seconds(pid) - before[1]
                cpu = [(killed_cpu[0] - plain_cpu[0]) / max(len(parts), 1),
                       (killed_cpu[1] - plain_cpu[1]) / max(len(parts), 1)]
                cpu_added.append(sum(killed_cpu) / sum(plain_cpu) - 1)
                triage_settled(running.directory, 2 * i + 2)
                pairs.append((plain, killed, len(parts)))
                per = (killed - plain) / max(len(parts), 1)
                med = {k: statistics.median(getattr(p, k) for p in parts) if parts else 0.0
                       for k in ("lost", "restart", "resend")}
                kept = statistics.median(p.kept for p in parts) if parts else 0
                print(f"pair {i + 1}: uninterrupted {plain:.2f} s, with {len(parts)} kills {killed:.2f} s "
                      f"(+{(killed / plain - 1) * 100:.0f} %); per kill {per:.3f} s; medians per kill: lost part "
                      f"of the PATCH in flight {med['lost']:.3f} s, kill -> resumed {med['restart']:.3f} s, "
                      f"resumed -> re-sent chunk acknowledged {med['resend']:.3f} s (a chunk takes {chunk_s:.3f} s "
                      f"uninterrupted); kept of the cut PATCH {kept / 2**20:.1f} MiB (median); retries "
                      f"{sum(p.retries for p in parts)}; CPU per kill: agent {cpu[0]:.3f} s, "
                      f"collector {cpu[1]:.3f} s; CPU added {cpu_added[-1] * 100:+.0f} %; "
                      f"load {os.getloadavg()[0]:.1f}",
                      flush=True)
        finally:
            running.server.stop()
        python = startup([sys.executable, "-c", "pass"])
        imports = startup([sys.executable, "-c", AGENT_MODULES])
        version = startup([*agent, "--version"])
    print(f"a new process, medians of 5: Python with this venv's site {python:.3f} s; with the agent's upload "
          f"imports {imports:.3f} s (byte code: {args.bytecode}); `{' '.join(Path(a).name for a in agent)} "
          f"--version` {version:.3f} s; load {os.getloadavg()[0]:.1f}")
    added = statistics.median(k / p - 1 for p, k, _ in pairs)
    # On a loaded machine the wall times swing by seconds between two uploads; the CPU both sides spent does not
    # wait for a core, so its share is the steadier sign of what the kills cost (not the target, which is wall time)
    print(f"CPU seconds (agent side + collector) added by the kills, median of the pairs: "
          f"{statistics.median(cpu_added) * 100:+.0f} % (pairs {', '.join(f'{c * 100:+.0f}' for c in cpu_added)})")
    print(f"bundle {mib:.0f} MiB, {args.kills} kills, {args.repeat} pairs, agent {args.agent}: median "
          f"uninterrupted {statistics.median(p for p, _, _ in pairs):.2f} s, with kills "
          f"{statistics.median(k for _, k, _ in pairs):.2f} s; median added {added * 100:.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=480)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kills", type=int, default=0, metavar="N",
                        help="time uploads with N kill -9s of the agent against uninterrupted ones")
    parser.add_argument("--seed", type=int, default=13, help="of the kill offsets (--kills)")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="medic-agent --chunk-size (bytes)")
    parser.add_argument("--agent", choices=("venv", "pyz"), default="venv",
                        help="--kills: this venv's medic-agent, or the collector's medic-agent.pyz on python3 -I")
    parser.add_argument("--bytecode", choices=("cached", "source"), default="cached",
                        help="the agent's processes find compiled byte code (as installed), or compile from source")
    args = parser.parse_args()
    if args.kills:
        kill_bench(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bytecode(args.bytecode, base)
        bundle = make_bundle(base / "medic-bundle-bench.tar.gz", args.mib)
        size = bundle.stat().st_size
        running, pin = bench_collector(base / "c")
        pki = base / "c" / "pki"
        put, port = put_server(pki / "server.pem", pki / "server.key", base / "sink")
        agent, curl, cpu = [], [], []
        try:
            for i in range(args.repeat):
                env = {"MEDIC_AGENT_STATE_DIR": str(base / f"state{i}")}
                timed([AGENT, "enroll", running.server.url, "--code", running.code(f"bench{i}", 1 << 40),
                       "--pin", pin], env)
                mine, col = cpu_seconds(), cpu_seconds(running.server.proc.pid)
                agent.append(timed([AGENT, "upload", str(bundle), "--keep", "--chunk-size", str(args.chunk)], env))
                medic_cpu = cpu_seconds() - mine + cpu_seconds(running.server.proc.pid) - col
                triage_settled(running.directory, i + 1)  # not while curl runs
                mine = cpu_seconds()
                curl.append(timed(["curl", "-sS", "-f", "--cacert", str(pki / "ca.pem"), "-T", str(bundle),
                                   f"https://127.0.0.1:{port}/bundle"]))
                cpu.append((medic_cpu, cpu_seconds() - mine))
                print(f"pair {i + 1}: agent {agent[-1]:.2f} s, curl {curl[-1]:.2f} s, "
                      f"ratio {curl[-1] / agent[-1]:.2f}; CPU agent + collector {cpu[-1][0]:.2f} s, curl + PUT "
                      f"server {cpu[-1][1]:.2f} s; load {os.getloadavg()[0]:.1f}", flush=True)
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
    pairs = statistics.median(c_ / a_ for a_, c_ in zip(agent, curl, strict=True))
    print(f"throughput ratio agent/curl {c / a:.2f} (of the medians), {pairs:.2f} (median of the pairs' ratios); "
          f"collector peak RSS {hwm.split(':')[1].strip()}")
    print(f"CPU seconds per upload, medians: agent + collector {statistics.median(m for m, _ in cpu):.2f}, curl + "
          f"PUT server {statistics.median(c for _, c in cpu):.2f} (the collector's triage of each bundle, after "
          "its receipt, is waited for outside both timings)")


if __name__ == "__main__":
    main()
