"""Warm workers' runs are forked by medic's own fork server (flows.fork_server), not multiprocessing's: one server
shared by the workers (each run with its own worker's environment and output), no resource tracker beside it, a
single-threaded server, exit codes and signals reported as multiprocessing did, the worker's resource limits of the
moment in each run, and runs that outlive a worker killed with SIGKILL.

Each test runs scripts in processes of their own (the "workers": the server ends with the last of them), with a
``MEDIC_FORKSERVER_GROUP`` of the test's own so no other test's server is shared; the targets live in a module
written beside them, which the server imports by name as it imports ``run_engine``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TARGETS = r"""
import gc, os, sys, time

def report(path):
    with open(path, "w") as f:
        f.write(f"{gc.get_freeze_count()} {'paramiko' in sys.modules} {'medic.plugins.checks' in sys.modules} "
                f"{'medic.plugins.collector.app' in sys.modules} {os.getsid(0) == os.getpid()}")

def whose(path):
    print("a line from the run", file=sys.stderr, flush=True)
    with open(path, "w") as f:
        f.write(f"{os.environ.get('WHO')} {os.getppid()}")

def leave(code):
    sys.exit(code)

def fail():
    raise ValueError("a run's own error")

def hold(path, seconds):
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(seconds)

def outlive(path, seconds):
    time.sleep(seconds)
    with open(path, "w") as f:
        f.write("done")

def open_files(count):
    held = [open(os.devnull) for _ in range(count)]
    assert len(held) == count

def arenas():
    import ctypes, threading
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    held, go = [], threading.Barrier(4)

    def one():
        go.wait()
        held.extend(libc.malloc(1000) for _ in range(100))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    libc.malloc_stats()
"""

HEAD = r"""
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
import forktargets as t
from medic.flows.run_limits import run_limits
from medic.flows.warm_worker import forkserver
out = sys.argv[1] + "/out"
"""


def script_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "forktargets.py").write_text(TARGETS)
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    return {**env, "MEDIC_FORKSERVER_GROUP": str(tmp_path), **extra}


def run_script(tmp_path: Path, body: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", HEAD + body, str(tmp_path)], capture_output=True, text=True,
                          timeout=timeout, check=False, env=script_env(tmp_path))


# A worker that runs ``whose`` each time it reads a line naming the output file, and prints the line it wrote.
WORKER = r"""
server = forkserver()
for line in sys.stdin:
    p = server.start(t.whose, (line.strip(),), run_limits())
    p.join()
    print(open(line.strip()).read(), server.process.pid if server.process else 0, flush=True)
"""


def test_workers_share_one_server_each_run_with_its_own_workers_environment_and_output(tmp_path):
    def worker(who: str, group: str = "") -> subprocess.Popen[str]:
        env = script_env(tmp_path, WHO=who, **({"MEDIC_FORKSERVER_GROUP": group} if group else {}))
        return subprocess.Popen([sys.executable, "-c", HEAD + WORKER, str(tmp_path)], env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ask(proc: subprocess.Popen[str], name: str) -> list[str]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{tmp_path / name}\n")
        proc.stdin.flush()
        return proc.stdout.readline().split()

    first = worker("A")
    second = None
    try:
        who_a, server_a, started_a = ask(first, "a1")
        second = worker("B")  # once A's server runs: started together, either could have started it
        who_b, server_b, started_b = ask(second, "b1")
        assert (who_a, who_b) == ("A", "B")  # each run has its own worker's environment
        assert server_a == server_b == started_a and started_b == "0"  # one server, started by the first
        first.kill()  # the worker that started the server dies: the server goes on for the other
        first.wait(timeout=30)
        assert ask(second, "b2")[:2] == ["B", server_a]
        alone = worker("C", group=f"{tmp_path}-other")  # another group: a server of its own
        assert ask(alone, "c1")[1] != server_a
        assert alone.stdin is not None
        alone.stdin.close()
        assert alone.wait(timeout=60) == 0
    finally:
        first.kill()
        if second is not None and second.stdin is not None:
            second.stdin.close()
            second.wait(timeout=60)
    assert second is not None and second.stderr is not None
    assert "a line from the run" in second.stderr.read()  # the run wrote to its own worker's standard error
    assert wait_gone(int(server_a), 30)  # the last worker gone, the server ended


def test_a_run_starts_frozen_with_the_run_modules_in_its_own_session_and_no_resource_tracker(tmp_path):
    done = run_script(tmp_path, r"""
import psutil
server = forkserver()
p = server.start(t.report, (out,), run_limits())
p.join()
threads = len(os.listdir(f"/proc/{server.process.pid}/task"))
children = [" ".join(c.cmdline()) for c in psutil.Process().children(recursive=True)]
print(p.exitcode, threads, len(children), open(out).read())
""")
    assert done.returncode == 0, done.stderr
    code, threads, children, frozen, paramiko, checks, web_app, session = done.stdout.split()
    assert (code, threads) == ("0", "1")  # a single-threaded server: forking it is clean
    assert children == "1"  # the server alone: no resource tracker beside it (multiprocessing's forkserver had one)
    assert int(frozen) > 100_000  # Prefect's and medic's objects, out of the run's collections (warm_preload)
    assert (paramiko, checks, web_app) == ("True", "True", "False")  # preloaded, shared; no web application
    assert session == "False"  # the run sets up its session itself (run_engine), not the server


def test_exit_codes_and_signals_are_reported_as_multiprocessing_did(tmp_path):
    done = run_script(tmp_path, r"""
server = forkserver()
codes = []
for target, args in ((t.leave, (None,)), (t.leave, (3,)), (t.fail, ())):
    p = server.start(target, args, run_limits())
    p.join()
    codes.append(p.exitcode)
p = server.start(t.hold, (out, 60), run_limits())
while not os.path.exists(out) or not open(out).read():
    time.sleep(0.05)
os.kill(p.pid, signal.SIGKILL)  # what Prefect's hard kill does to a run
p.join()
print(*codes, p.exitcode)
""")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "3", "1", str(-signal.SIGKILL)]
    assert "ValueError: a run's own error" in done.stderr  # a run's traceback goes to the worker's log


def test_each_run_gets_the_workers_limits_of_the_moment_not_the_servers(tmp_path):
    done = run_script(tmp_path, r"""
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # in force when the server starts
server = forkserver()
server.start(t.leave, (0,), run_limits()).join()  # the server has imported its preload under that limit
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # raised: a cold run started now may open 1024 files
codes = []
for limits in ({}, run_limits()):  # {}: the server's own limits, as a plain fork of it would have
    p = server.start(t.open_files, (600,), limits)
    p.join()
    codes.append(p.exitcode)
print(*codes)
""")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "0"]  # 600 files: refused under the server's 256, opened under the worker's
    assert "Too many open files" in done.stderr


def test_the_server_ends_with_its_worker_and_the_run_goes_on(tmp_path):
    done = run_script(tmp_path, r"""
server = forkserver()
p = server.start(t.outlive, (out, 3), run_limits())
print(server.process.pid, p.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the worker killed: no clean-up of any kind
""")
    assert done.returncode == -signal.SIGKILL
    server, run = (int(x) for x in done.stdout.split())
    assert wait_gone(server, 30)  # it saw its socket close and exited
    assert wait_gone(run, 30)
    assert (tmp_path / "out").read_text() == "done"  # the run finished its work, as a cold run outlives its worker


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


# Four threads of a forked run each allocate from the C library; glibc prints one "Arena N:" block per arena.
ARENAS = r"""
server = forkserver()
p = server.start(t.arenas, (), run_limits())
p.join()
print(p.exitcode)
"""



def test_a_forked_runs_threads_share_at_most_two_malloc_arenas(tmp_path):
    done = run_script(tmp_path, ARENAS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]
    arenas = [line for line in done.stderr.splitlines() if line.startswith("Arena ")]
    assert 1 <= len(arenas) <= 2, done.stderr[-2000:]  # glibc's default would give each of the 4 threads one
