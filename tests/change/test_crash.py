"""Crash safety: SIGKILL the runner at every instrumented point and at 50 random moments of a change; after
``medic recover`` every file is as before the run (or as after it, when the run had committed), no temporary
file is left and a second recover changes nothing."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from change_helpers import long_command_playbook, make_tree, processes_with, snapshot, temp_leftovers

from medic.plugins.change.safety.journal import journals, read

from .conftest import HERE, medic

POINTS = [
    "after_begin",
    "after_backup_tmp",
    "after_intent",
    "before_rename",
    "after_action",
    "after_done",
    "before_commit",
    "after_commit",
]
RANDOM_KILLS = 50



def _run_args(root: Path, fail_verify: bool) -> list[str]:
    args = ["run", str(HERE / "crash.yaml"), "--engine", "inline", "-i", f"root={root}"]
    return args + (["-i", "expect=workers = 999"] if fail_verify else [])


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The tree before the run and after a complete, committed run."""
    base = tmp_path_factory.mktemp("crash-ref")
    root = base / "tree"
    make_tree(root)
    before = snapshot(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    env.update(MEDIC_STATE_DIR=str(base / "state"), XDG_CONFIG_HOME=str(base / "cfg"))
    medic(*_run_args(root, False), env=env, check=True)
    return {"before": before, "after": snapshot(root), "root": root}  # type: ignore[dict-item]


def _env(work: Path, fault: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    env.update(MEDIC_STATE_DIR=str(work / "state"), XDG_CONFIG_HOME=str(work / "cfg"))
    if fault:
        env["MEDIC_FAULT"] = fault
    return env


_PROVIDERS: dict = {}


def _recover_in_process(state: Path) -> list:
    """The code `medic recover` runs, without starting an interpreter (the random cases use it mostly)."""
    from medic.core.session import Session
    from medic.plugins.change.safety.catalogue import Catalogue
    from medic.plugins.change.safety.rollback import recover

    if not _PROVIDERS:
        table = Session(config={}).registry.tables["backup_providers"]
        _PROVIDERS.update({n: table[n] for n in table})
    return recover(state, _PROVIDERS, Catalogue(state / "backups"))


def _check_recovered(
    work: Path, root: Path, states: dict, fail_verify: bool, cli_twice: bool = True, cli_first: bool = True
) -> str:
    env = _env(work, None)
    logs = [read(p) for p in journals(work / "state" / "journal")]
    committed = any(log.committed for log in logs)
    if cli_first:
        first = medic("recover", env=env)
        assert first.returncode == 0, first.stdout + first.stderr
    else:
        reports = _recover_in_process(work / "state")
        assert all(r.ok and "still running" not in r.status for r in reports), reports
    want = states["after"] if committed and not fail_verify else states["before"]
    got = snapshot(root)
    assert got == want, "after recover the tree is neither as before nor as committed: " + "; ".join(
        f"{log.path.name}: {[r['type'] for r in log.records]}" for log in logs
    )
    assert temp_leftovers(root, work / "state") == []
    assert all(read(p).end is not None for p in journals(work / "state" / "journal"))
    if cli_twice:
        second = medic("recover", env=env)
        assert second.returncode == 0 and second.stdout.strip() == "nothing to recover"
    else:  # the random cases check the no-op in-process: the same code, without a second interpreter start
        assert _recover_in_process(work / "state") == []
    assert snapshot(root) == want
    return "committed" if committed else "rolled back"


def _case(
    base: Path,
    name: str,
    states: dict,
    fault: str | None,
    delay: float | None,
    fail_verify: bool = False,
    cli_first: bool = True,
) -> str:
    work = base / name
    root = work / "tree"
    make_tree(root)
    env = _env(work, fault)
    if delay is None:
        proc = medic(*_run_args(root, fail_verify), env=env)
        assert proc.returncode == -signal.SIGKILL, f"{fault} was not reached: {proc.stdout}{proc.stderr}"
    else:  # a random moment: SIGKILL after the journal appears
        p = subprocess.Popen(
            [sys.executable, "-m", "medic.cli.main", *_run_args(root, fail_verify)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        jdir = work / "state" / "journal"
        deadline = time.monotonic() + 60
        while (
            p.poll() is None and time.monotonic() < deadline and not (jdir.is_dir() and any(jdir.iterdir()))
        ):
            time.sleep(0.001)
        time.sleep(delay)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
    return _check_recovered(work, root, states, fail_verify, cli_twice=delay is None, cli_first=cli_first)


@pytest.mark.parametrize("fail_verify", [False, True], ids=["verify-passes", "verify-fails"])
def test_kill_at_every_point(tmp_path: Path, states: dict, fail_verify: bool) -> None:
    points = POINTS if not fail_verify else [*POINTS[:-2], "after_undo"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda pt: _case(tmp_path, pt, states, pt, None, fail_verify), points))
    if not fail_verify:
        assert outcomes[-1] == "committed"  # killed after the commit record: recover marks it done
        assert outcomes[:-1] == ["rolled back"] * (len(points) - 1)


def test_kill_at_random_moments(tmp_path: Path, states: dict) -> None:
    rng = random.Random(int(os.environ.get("MEDIC_CRASH_SEED", "6")))
    phase = _measure_phase(tmp_path, states)
    cases = [(f"r{i}", rng.uniform(0, phase * 1.1), bool(i % 2), i % 5 == 0) for i in range(RANDOM_KILLS)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda c: _case(tmp_path, c[0], states, None, c[1], c[2], c[3]), cases))
    assert len(outcomes) == RANDOM_KILLS
    assert "rolled back" in outcomes


def _measure_phase(tmp_path: Path, states: dict) -> float:
    """How long the change phase lasts: from the journal's creation to the end of the process."""
    work = tmp_path / "measure"
    root = work / "tree"
    make_tree(root)
    p = subprocess.Popen(
        [sys.executable, "-m", "medic.cli.main", *_run_args(root, True)],
        env=_env(work, None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    jdir = work / "state" / "journal"
    while p.poll() is None and not (jdir.is_dir() and any(jdir.iterdir())):
        time.sleep(0.001)
    start = time.monotonic()
    p.wait()
    shutil.rmtree(work)
    return max(time.monotonic() - start, 0.05)



def test_a_command_action_dies_with_a_killed_runner(tmp_path: Path) -> None:
    """recover must never race an orphan still writing: the command is killed with its runner."""
    late = tmp_path / "late"
    script = f"sleep 12; touch {late}"  # long enough that only a kill keeps `late` away
    playbook = long_command_playbook(tmp_path / "long.yaml", script)
    p = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "run", str(playbook), "--engine", "inline"],
                         env=_env(tmp_path, None), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not processes_with(script) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_with(script), "the command never started"
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.monotonic() + 8
    while processes_with(script) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_with(script) == []
    assert not late.exists()
