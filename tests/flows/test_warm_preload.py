"""A warm worker's runs start with the forkserver's objects frozen and medic's run modules already imported
(flows.warm_preload): the collector in a run leaves the inherited pages shared, and a run does not import
paramiko or medic's plugins into memory of its own."""

from __future__ import annotations

import os
import subprocess
import sys

# In a process of its own: the forkserver it starts ends with it. The child is forked from the warm forkserver
# exactly as a run is (flows.warm_worker.forkserver), then reports what it inherited before importing anything.
SCRIPT = r"""
import gc, sys

def inherited(conn):
    conn.send((gc.get_freeze_count(), "paramiko" in sys.modules, "medic.plugins.checks" in sys.modules,
               "medic.plugins.collector.app" in sys.modules))

if __name__ == "__main__":
    from medic.flows.warm_worker import forkserver
    ctx = forkserver()
    here, there = ctx.Pipe()
    child = ctx.Process(target=inherited, args=(there,))
    child.start()
    print(*here.recv())
    child.join()
"""


def test_a_forked_run_starts_with_the_preload_frozen_and_the_run_modules_imported(tmp_path):
    script = tmp_path / "fork_once.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    frozen, paramiko, checks, web_app = done.stdout.split()
    assert int(frozen) > 100_000  # Prefect's and medic's objects, out of the child's collections
    assert (paramiko, checks) == ("True", "True")  # imported once in the forkserver, shared by every run
    assert web_app == "False"  # the collector's web application is no part of a run


# Four threads of a forked run each allocate from the C library; glibc prints one "Arena N:" block per arena.
ARENAS = r"""
import ctypes, threading

def allocate(conn):
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    held, go = [], threading.Barrier(4)

    def one():
        go.wait()
        held.extend(libc.malloc(1000) for _ in range(100))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    libc.malloc_stats()
    conn.send("done")

if __name__ == "__main__":
    import sys
    from medic.flows.warm_worker import forkserver
    ctx = forkserver()
    here, there = ctx.Pipe()
    child = ctx.Process(target=allocate, args=(there,))
    child.start()
    here.recv()
    child.join()
"""


def test_a_forked_runs_threads_share_at_most_two_malloc_arenas(tmp_path):
    script = tmp_path / "arenas.py"
    script.write_text(ARENAS)
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False,
                          env=env)
    assert done.returncode == 0, done.stderr
    arenas = [line for line in done.stderr.splitlines() if line.startswith("Arena ")]
    assert 1 <= len(arenas) <= 2, done.stderr[-2000:]  # glibc's default would give each of the 4 threads one
