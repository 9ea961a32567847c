"""Issue 16 item 5: a step's timeout ends the step's work. ``timeout: 2`` on a 20 s command: the step reports
``error`` after about 2 s, the command's process is gone (checked by its pid), and the terminal shows no Prefect
log line or traceback. Both engines, the real ``medic`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # killed, waiting for init to reap it
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("engine", ["inline", pytest.param("prefect", marks=pytest.mark.slow)])
def test_a_timed_out_step_kills_its_command_and_prints_no_traceback(engine: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    book = tmp_path / "slow.yaml"
    book.write_text(f"""
name: slow
steps:
  - id: slow
    check: change.command_succeeds
    timeout: 2
    with: {{argv: [sh, -c, "echo $$ > {pidfile}; exec sleep 20"]}}
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(MEDIC_STATE_DIR=str(tmp_path / "state"), PREFECT_HOME=str(tmp_path / "prefect"))
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", str(book), "--engine", engine, "--json"],
                         capture_output=True, text=True, env=env, timeout=300)
    wall = time.monotonic() - started
    assert out.returncode == 3, out.stderr[-3000:]  # only an error: nothing was checked
    doc = json.loads(out.stdout)
    (step,) = doc["steps"]["local"]
    assert step["status"] == "error" and "timed out after 2 s" in step["error"] and step["attempts"] == 1
    assert doc["duration_s"] < 10  # a hang bound, not a benchmark: the 20 s command did not run out its time
    if engine == "inline":
        assert wall < 15  # nor did anything wait for it at exit
    pid = int(pidfile.read_text())
    assert gone(pid), f"the command (pid {pid}) outlived its step"
    assert "Traceback" not in out.stderr + out.stdout
    assert "prefect" not in out.stderr.lower(), out.stderr[-3000:]


def test_a_timed_out_step_is_retried_afresh_and_each_attempt_is_bounded(tmp_path: Path) -> None:
    book = tmp_path / "slow.yaml"
    book.write_text("""
name: slow
steps:
  - {id: slow, check: change.command_succeeds, timeout: 1, retries: 2, with: {argv: [sleep, "20"]}}
""")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", str(book), "--engine", "inline", "--json"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MEDIC_STATE_DIR": str(tmp_path / "state")})
    (step,) = json.loads(out.stdout)["steps"]["local"]
    assert step["attempts"] == 3 and "timed out after 1 s" in step["error"]  # each attempt ran the command again
    assert time.monotonic() - started < 15
