"""Probes under a step's deadline fork from the zygote (medic.kernel.zygote) once a flow's executor started it:
the same data as in-process, the caller's environment and directory, and the deadline still kills a hung probe with
its programs. A spec the zygote cannot find by name is forked by the caller as before."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from medic.core.deadline import Deadline, run_probe_bounded
from medic.kernel import zygote
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec
from medic.probes.files import command_output


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(*pids: int) -> bool:
    until = time.monotonic() + 10  # a hang bound, not a speed test
    while not all(gone(p) for p in pids) and time.monotonic() < until:
        time.sleep(0.05)
    return all(gone(p) for p in pids)


@pytest.fixture
def started() -> Iterator[zygote.Zygote]:
    yield zygote.start()
    zygote.stop()


def bounded(spec: ProbeSpec, call: ProbeCall, expire_once: Path | None = None) -> ProbeResult:
    """Run under a deadline; with ``expire_once``, the deadline passes once that file has two words."""
    deadline = Deadline()
    token = deadline.activate()

    def expire_when_written() -> None:
        assert expire_once is not None
        until = time.monotonic() + 60
        while not (expire_once.exists() and len(expire_once.read_text().split()) == 2) and time.monotonic() < until:
            time.sleep(0.05)
        deadline.expire()

    if expire_once:
        threading.Thread(target=expire_when_written, daemon=True).start()
    try:
        return run_probe_bounded(spec, call)
    finally:
        from medic.core import deadline as deadline_mod

        deadline_mod._CURRENT.reset(token)


def test_a_probe_runs_in_a_child_of_the_zygote_with_the_callers_environment(started, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDIC_ZYGOTE_TEST", "set after the zygote started")
    script = 'read -r _ _ _ ppid _ < /proc/$PPID/stat; echo "$ppid|$MEDIC_ZYGOTE_TEST|$(pwd)"'
    result = bounded(command_output.spec, ProbeCall.make("command_output", argv=["sh", "-c", script]))
    assert result.ok, result.error
    parent, env, cwd = result.data["stdout"].strip().split("|")
    assert int(parent) == started.process.pid  # the probe's process is the zygote's child, not this process's
    assert env == "set after the zygote started" and cwd == str(tmp_path)
    assert result.data == bounded(command_output.spec, ProbeCall.make("command_output", argv=["sh", "-c", script])
                                  ).data


def test_a_hung_probe_from_the_zygote_is_killed_with_its_programs(started, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pids = tmp_path / "pids"
    script = f"sleep 300 & echo $PPID $! > {pids}; wait"
    call = ProbeCall.make("command_output", argv=["sh", "-c", script], timeout=600.0)
    began = time.monotonic()
    result = bounded(command_output.spec, call, expire_once=pids)
    assert not result.ok and result.error == "stopped: its step timed out"
    assert time.monotonic() - began < 90  # a hang bound: the step did not wait for the 300 s sleep
    child, sleeper = (int(p) for p in pids.read_text().split())
    assert wait_gone(child, sleeper)


def test_a_spec_the_zygote_cannot_find_by_name_is_forked_here(started) -> None:  # type: ignore[no-untyped-def]
    spec = ProbeSpec("shape", lambda: {"pid": os.getppid(), "tuple": (1, 2)})
    result = bounded(spec, ProbeCall.make("shape"))
    assert result.ok and result.data == {"pid": os.getpid(), "tuple": (1, 2)}


def test_the_zygote_and_its_probes_end_when_their_caller_is_killed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pids = tmp_path / "pids"
    caller = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from medic.core.deadline import Deadline, run_probe_bounded
        from medic.kernel import zygote
        from medic.kernel.models import ProbeCall
        from medic.probes.files import command_output
        zygote.start()
        Deadline().activate()
        run_probe_bounded(command_output.spec, ProbeCall.make(
            "command_output", argv=["sh", "-c", "sleep 300 & echo $PPID $! > {pids}; wait"], timeout=600.0))
    """)])
    until = time.monotonic() + 60
    while not (pids.exists() and len(pids.read_text().split()) == 2):
        assert caller.poll() is None and time.monotonic() < until
        time.sleep(0.05)
    the_zygote = psutil.Process(caller.pid).children()[0].pid
    caller.kill()
    caller.wait()
    assert wait_gone(the_zygote, *(int(p) for p in pids.read_text().split()))
