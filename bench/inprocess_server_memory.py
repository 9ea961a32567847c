"""Where medic's process memory goes with Prefect's temporary server in it (flows/thread_server.py): its RSS and
high-water mark once the server serves, after Prefect's client and medic's flow module are imported, after one bare
flow run against it (bench/bare_flow.py, a process of its own), after gc.collect() and after glibc's malloc_trim(0).

Usage: PREFECT_HOME=$(mktemp -d) .venv/bin/python bench/inprocess_server_memory.py   (run it twice in one home:
the second start finds the database migrated)
"""

import ctypes
import gc
import os
import subprocess
import sys

from medic.flows import prefect_env


def rss(label: str) -> None:
    with open("/proc/self/status") as status:
        fields = [line.split()[:2] for line in status if line.startswith(("VmHWM", "VmRSS"))]
    print(f"{label:<18}", "  ".join(f"{k} {int(v) >> 10} MB" for k, v in fields), flush=True)


def main() -> None:
    os.environ.pop("PREFECT_API_URL", None)
    prefect_env.configure()
    server = prefect_env.spawn_temporary_server()
    assert server is not None
    server.wait_ready(300)
    rss("ready")
    prefect_env.use_temporary_server()
    import medic.flows.runner  # noqa: F401 - what a run imports on top of the server

    rss("client imported")
    env = {**os.environ, "PREFECT_API_URL": server.api_url}
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "bare_flow.py")], env=env, capture_output=True, check=True)
    rss("after a flow")
    gc.collect()
    rss("gc.collect")
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    rss("malloc_trim(0)")


if __name__ == "__main__":
    main()
