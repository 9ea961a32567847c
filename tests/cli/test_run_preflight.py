"""Issue 16 items 3 and 11: what would fail after a run is refused before it starts (exit 2, one line), and a
report that cannot be written after the run loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLAYBOOK = "name: tiny\nsteps:\n  - id: up\n    check: system.uptime\n"


def medic(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(PLAYBOOK)
    return path


def _refused(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and all(w in lines[0] for w in words), out.stderr
    assert "up" not in out.stdout  # nothing ran


def test_a_report_in_a_missing_directory_is_refused_before_the_run(book: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    out = medic("run", str(book), "--engine", "inline", "--report", str(tmp_path / "nodir" / "r.md"),
                env={"MEDIC_STATE_DIR": str(state)})
    _refused(out, "--report", "does not exist")
    assert not (state / "runs").exists() or not any((state / "runs").iterdir())


def test_a_report_that_is_a_directory_is_refused_before_the_run(book: Path, tmp_path: Path) -> None:
    _refused(medic("run", str(book), "--engine", "inline", "--report", str(tmp_path)), "is a directory")


def test_an_unknown_engine_from_the_environment_is_refused(book: Path) -> None:
    _refused(medic("run", str(book), env={"MEDIC_ENGINE": "prefcet"}), "prefcet", "prefect, inline")


def test_an_unknown_notify_channel_is_refused_before_the_run(book: Path) -> None:
    _refused(medic("run", str(book), "--engine", "inline", "--notify", "emial:ops@example.org"), "emial")


def test_a_report_that_fails_after_the_run_still_shows_the_results(book: Path, tmp_path: Path) -> None:
    """The destination is writable when checked and gone when written (its directory is removed just before the
    report is written): the results still print, the run is kept, and the warning says where."""
    state = tmp_path / "state"
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    report = target_dir / "r.md"
    out = subprocess.run(
        [sys.executable, "-c",
         "import shutil, sys\n"
         "from medic.core import history\n"
         "real = history.write_report\n"
         f"def gone(*a, **k):\n    shutil.rmtree({str(target_dir)!r})\n    return real(*a, **k)\n"
         "history.write_report = gone\n"
         "from medic.cli.main import main\n"
         f"sys.exit(main(['run', {str(book)!r}, '--engine', 'inline', '--json', '--report', {str(report)!r}]))\n"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "MEDIC_STATE_DIR": str(state)})
    assert out.returncode in (0, 1), out.stderr
    document = json.loads(out.stdout)
    assert "could not write the report" in out.stderr and document["run_id"] in out.stderr
    assert (state / "runs" / f"{document['run_id']}.json").exists()
    assert "Traceback" not in out.stderr
