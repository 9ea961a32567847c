"""Issue 16 item 14: Ctrl-C (SIGINT, once or twice in quick succession) ends ``medic run`` with exactly one line,
``medic: interrupted``, exit 130: no traceback, nothing printed after it, and nothing the run started left
running. SIGINT is sent to the real ``medic`` command while a step's program runs, on both engines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def interrupt(tmp_path: Path, engine: str, signals: int, timeout: str) -> None:
    pidfile = tmp_path / "pid"
    pidfile.unlink(missing_ok=True)
    book = tmp_path / "wait.yaml"
    book.write_text(f"""
name: wait
steps:
  - id: wait
    check: change.command_succeeds
    {timeout}
    with: {{argv: [sh, -c, "echo $$ > {pidfile}; exec sleep 30"]}}
  - {{id: after, check: system.uptime}}
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(MEDIC_STATE_DIR=str(tmp_path / "state"), PREFECT_HOME=str(tmp_path / "prefect"), COLUMNS="200")
    proc = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "run", str(book), "--engine", engine],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 240
    while not pidfile.exists() or not pidfile.read_text().strip():  # the step's program is running
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    started = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    for _ in range(signals):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err + out, err[-3000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1:] == ["medic: interrupted"] and err.count("interrupted") == 1, err[-3000:]
    assert "after" not in out and "Command succeeds" not in out  # no result, no late step line
    time.sleep(0.5)
    assert all(gone(pid) for pid in started), [psutil.Process(p).cmdline() for p in started if not gone(p)]


@pytest.mark.parametrize("signals", [1, 2, 2, 2])
@pytest.mark.parametrize("timeout", ["timeout: 60", ""])
def test_ctrl_c_inline_ends_with_one_line_and_exit_130(tmp_path: Path, signals: int, timeout: str) -> None:
    interrupt(tmp_path, "inline", signals, timeout)


@pytest.mark.slow
def test_ctrl_c_twice_under_prefect_ends_with_one_line_and_exit_130(tmp_path: Path) -> None:
    interrupt(tmp_path, "prefect", 2, "timeout: 60")
