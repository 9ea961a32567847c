"""Memory of Prefect's temporary server alone, started as medic starts it (flows/prefect_env.py), with extra
interpreter flags or environment, to try settings before putting them in flows/prefect_env.py.

Usage: .venv/bin/python bench/server_memory.py ["-OO"] [--server-args "--http h11"] [KEY=VALUE ...]
(``--server-args``: more options for the uvicorn command line)

Starts the server in a fresh PREFECT_HOME, waits for /api/health, reads its RSS and PSS (/proc/PID/smaps_rollup),
runs one bare flow against it (bench/bare_flow.py, a separate process) and reads them again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


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
    server_args: list[str] = []
    if "--server-args" in argv:
        at = argv.index("--server-args")
        server_args = argv[at + 1].split()
        del argv[at : at + 2]
    flags = argv[0].split() if argv and argv[0].startswith("-") else []
    extra = dict(kv.split("=", 1) for kv in argv[bool(flags):])
    home = tempfile.mkdtemp(prefix="medic-server-mem-")
    os.environ.update({"PREFECT_HOME": home, **extra})
    from medic.flows import prefect_env

    prefect_env.configure()
    server = prefect_env.TemporaryServer()
    popen = subprocess.Popen

    def with_flags(args: list[str], **kwargs: Any) -> Any:
        return popen([args[0], *flags, *args[1:], *server_args], **kwargs)

    started = time.perf_counter()
    subprocess.Popen = with_flags  # type: ignore[assignment, misc]
    try:
        server.spawn()
    finally:
        subprocess.Popen = popen  # type: ignore[misc]
    server.wait_ready(300)
    ready = time.perf_counter() - started
    assert server.process is not None
    at_start = memory(server.process.pid)
    env = {**os.environ, "PREFECT_API_URL": server.api_url}
    flow = subprocess.run([sys.executable, str(HERE / "bare_flow.py")], env=env, capture_output=True)
    after = memory(server.process.pid)
    server.stop()
    print(f"flags {flags or '-'} server args {server_args or '-'} env {extra or '-'}: ready in {ready:.1f} s; "
          f"RSS/PSS ready {at_start['Rss']}/{at_start['Pss']} MB, after one flow {after['Rss']}/{after['Pss']} MB "
          f"(flow exit {flow.returncode}); "
          f"load {os.getloadavg()[0]:.2f}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
