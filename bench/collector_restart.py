"""A restarted one-click agent, A/B: this tree's `medic-agent.pyz` against one built from git revision BASE, on
``python3 -I``, interleaved, both resuming the same unfinished upload; wall time from the start of the process to
its "resumed" event (Python, the .pyz's bootstrap, imports, state, TLS, HEAD) and the CPU the process used by then.

    .venv/bin/python bench/collector_restart.py [--base main] [--rounds 30]

BASE's archive holds BASE's medic.kernel, medic.agent and medic.probes and BASE's bootstrap (its pyz.py), with
this tree's PyYAML and psutil. Each process is killed with SIGKILL as soon as it says "resumed" (what a kill
costs before its first byte is resent); the extraction caches and byte code are warmed first, as a restart finds them.
"floor" is the least any Python agent can do to resume (FLOOR, also a zipapp on python3 -I): read the state, a TLS
handshake with the pin checked, HEAD; no medic code.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipapp
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from collector_bench import SYSTEM_PYTHON, fetch_pyz, make_bundle, timed  # noqa: E402
from collector_helpers import start_collector  # noqa: E402


def base_pyz(ours: Path, base: str, work: Path) -> Path:
    """``ours`` with BASE's medic packages and bootstrap."""
    stage = work / "stage"
    with zipfile.ZipFile(ours) as archive:
        archive.extractall(stage)
    listing = subprocess.run(["git", "-C", str(REPO), "archive", base, "agent", "kernel", "probes"],
                             capture_output=True, check=True).stdout
    source = work / "source"
    source.mkdir()
    (work / "base.tar").write_bytes(listing)
    with tarfile.open(work / "base.tar") as tar:
        tar.extractall(source, filter="data")
    for package in ("agent", "kernel", "probes"):
        shutil.rmtree(stage / "lib" / "medic" / package)
        shutil.copytree(source / package, stage / "lib" / "medic" / package)
    pyz_py = subprocess.run(["git", "-C", str(REPO), "show", f"{base}:plugins/collector/pyz.py"], capture_output=True,
                            text=True, check=True).stdout
    bootstrap = next(ast.literal_eval(node.value) for node in ast.parse(pyz_py).body if isinstance(node, ast.Assign)
                     and any(getattr(t, "id", "") == "BOOTSTRAP" for t in node.targets))
    (stage / "__main__.py").write_text(bootstrap)
    target = work / "base-medic-agent.pyz"
    zipapp.create_archive(stage, target, interpreter="/usr/bin/env python3", compressed=True)
    return target


FLOOR = """import hashlib, json, os, socket, ssl
state = os.environ["MEDIC_AGENT_STATE_DIR"]
with open(os.path.join(state, "enrollment.json")) as handle:
    enrollment = json.load(handle)
pending = os.path.join(state, "pending")
with open(os.path.join(pending, sorted(os.listdir(pending))[0])) as handle:
    location = json.load(handle)["location"]
host, port = "127.0.0.1", int(enrollment["url"].rsplit(":", 1)[1])
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
tls = context.wrap_socket(socket.create_connection((host, port)), server_hostname=host)
assert hashlib.sha256(tls.getpeercert(True)).hexdigest() == enrollment["pin"]
tls.sendall(("HEAD %s HTTP/1.1\\r\\nHost: %s:%d\\r\\nAuthorization: Bearer %s\\r\\nTus-Resumable: 1.0.0\\r\\n\\r\\n"
             % (location, host, port, enrollment["token"])).encode())
answer = tls.recv(65536).decode("latin-1").lower()
offset = int(answer.split("upload-offset:")[1].split()[0])
print(json.dumps({"event": "resumed", "offset": offset}), flush=True)
"""


def floor_pyz(work: Path) -> Path:
    """The least a restart can do in Python, as a zipapp too: read the state, TLS with the pin checked, HEAD."""
    stage = work / "floor"
    stage.mkdir()
    (stage / "__main__.py").write_text(FLOOR)
    zipapp.create_archive(stage, work / "floor.pyz", compressed=True)
    return work / "floor.pyz"


def restart(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds from start to "resumed", CPU seconds of the process, killed right then)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    wall = 0.0
    for line in proc.stdout:
        if json.loads(line)["event"] == "resumed":
            wall = time.perf_counter() - started
            proc.send_signal(signal.SIGKILL)
            break
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = -9
    proc.stdout.close()
    if not wall:
        raise SystemExit(f"{argv[:3]} never resumed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="main", help="git revision of the agent to compare with")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # -I ignores it anyway; the .pyz caches its byte code
        bundle = make_bundle(work / "medic-bundle-bench.tar.gz", 64)
        running = start_collector(work / "c", extra_config="default_quota: 1TiB\n")
        pem = (work / "c" / "pki" / "server.pem").read_text()
        pin = "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
        ours = fetch_pyz(running, work)
        agents = {"this tree": ours, f"{args.base}": [SYSTEM_PYTHON, "-I", str(base_pyz(Path(ours[-1]), args.base,
                                                                                          work))],
                  "floor": [SYSTEM_PYTHON, "-I", str(floor_pyz(work))]}
        env = {**os.environ, "MEDIC_AGENT_STATE_DIR": str(work / "state")}
        timed([*ours, "enroll", running.server.url, "--code", running.code("restart", 1 << 40), "--pin", pin], env)
        argv = ["upload", str(bundle), "--keep", "--json"]
        try:
            first = subprocess.Popen([*ours, *argv], stdout=subprocess.PIPE, text=True, env=env)
            assert first.stdout is not None
            for line in first.stdout:  # an unfinished upload to resume
                if json.loads(line)["event"] == "chunk":
                    first.send_signal(signal.SIGKILL)
                    break
            first.wait()
            first.stdout.close()
            for agent in agents.values():  # extraction and byte code, as a restart finds them
                restart([*agent, *argv], env)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in agents}
            for _ in range(args.rounds):
                for name, agent in agents.items():
                    results[name].append(restart([*agent, *argv], env))
        finally:
            running.server.stop()
    for name, rows in results.items():
        walls, cpus = [w * 1000 for w, _ in rows], [c * 1000 for _, c in rows]
        print(f"{name:>10}: start -> resumed median {statistics.median(walls):.1f} ms (min {min(walls):.1f}), "
              f"CPU median {statistics.median(cpus):.1f} ms, over {len(rows)} rounds")
    print(f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
