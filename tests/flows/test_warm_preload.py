"""A warm worker's runs start with the forkserver's objects frozen and medic's run modules already imported
(flows.warm_preload): the collector in a run leaves the inherited pages shared, and a run does not import
paramiko or medic's plugins into memory of its own."""

from __future__ import annotations

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
