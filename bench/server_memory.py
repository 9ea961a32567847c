"""Memory of Prefect's temporary server alone, started as medic starts it (flows/prefect_env.py: a thread of the
process that runs the flow, flows/thread_server.py), with extra interpreter flags or environment, to try settings
before putting them in flows/prefect_env.py.

Usage: .venv/bin/python bench/server_memory.py ["-OO"] [KEY=VALUE ...]

Starts, in a fresh PREFECT_HOME, a Python process that only starts the temporary server (Prefect's client is
imported with it, as in ``medic run``) and waits until it serves; reads that process's RSS and PSS
(/proc/PID/smaps_rollup), runs one bare flow against it (bench/bare_flow.py, a separate process) and reads them
again. (Until session 13 the server was a uvicorn process of its own and this measured that process.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVE = ("import sys; from medic.flows import prefect_env; prefect_env.configure(); "
         "server = prefect_env.spawn_temporary_server(); server.wait_ready(300); print(server.api_url, flush=True); "
         "sys.stdin.read()")


def memory(pid: int) -> dict[str, int]:
    found = {}
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("Rss", "Pss"):
                found[key] = int(value.split()[0]) >> 10
    return found


def main() -> None:
    argv = sys.argv[1:]
    flags = argv[0].split() if argv and argv[0].startswith("-") else []
    extra = dict(kv.split("=", 1) for kv in argv[bool(flags):])
    home = tempfile.mkdtemp(prefix="medic-server-mem-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"PREFECT_HOME": home, **extra})
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, *flags, "-c", SERVE], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    api_url = server.stdout.readline().strip()
    ready = time.perf_counter() - started
    at_start = memory(server.pid)
    flow = subprocess.run([sys.executable, str(HERE / "bare_flow.py")], env={**env, "PREFECT_API_URL": api_url},
                          capture_output=True)
    after = memory(server.pid)
    server.stdin.close()  # the server process ends (its main thread returns: the server stops)
    server.wait(60)
    print(f"flags {flags or '-'} env {extra or '-'}: ready in {ready:.1f} s; RSS/PSS ready "
          f"{at_start['Rss']}/{at_start['Pss']} MB, after one flow {after['Rss']}/{after['Pss']} MB "
          f"(flow exit {flow.returncode}); load {os.getloadavg()[0]:.2f}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
