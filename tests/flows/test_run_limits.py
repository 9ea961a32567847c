"""A warm worker's run gets the worker's resource limits of the moment, as a cold run would, not those its
forkserver inherited when it started (flows.run_limits): a CPU limit in force then and lifted since killed a warm
run with SIGXCPU (signal 24) that a cold run survives."""

from __future__ import annotations

import signal
import subprocess
import sys

# In a process of its own (the limits must not touch pytest): a forkserver started under a 1 s CPU limit, the
# limit lifted in its parent, then the same 1.5 s of CPU forked plain (as before) and through with_limits.
SCRIPT = r"""
import multiprocessing, resource
from multiprocessing import forkserver
from medic.flows.run_limits import run_limits, with_limits

hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
resource.setrlimit(resource.RLIMIT_CPU, (1, hard))  # in force when the forkserver starts
ctx = multiprocessing.get_context("forkserver")
forkserver.ensure_running()
resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))  # lifted: a cold run started now has no CPU limit
BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.5: pass"
for target, args in ((exec, (BURN,)), (with_limits, (run_limits(), exec, BURN))):
    p = ctx.Process(target=target, args=args)
    p.start()
    p.join()
    print(p.exitcode)
"""


def test_a_forked_run_carries_the_workers_limits_not_the_forkservers():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    plain, limited = (int(x) for x in done.stdout.split())
    assert plain == -signal.SIGXCPU  # the mechanism: the forkserver's frozen limit kills the plain fork
    assert limited == 0  # with the worker's limits of the moment it runs to its end, as a cold run does
