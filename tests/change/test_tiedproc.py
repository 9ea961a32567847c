"""Commands of a change die with their runner (medic.plugins.change.safety.tiedproc)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medic.plugins.change.safety import tiedproc


def test_a_tied_command_runs_and_reports_like_subprocess_run() -> None:
    proc = tiedproc.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, b"out\n", b"err\n")
    with pytest.raises(FileNotFoundError):
        tiedproc.run(["no-such-program-medic"], timeout=5)


def test_a_command_whose_runner_is_already_gone_never_starts(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    argv = tiedproc.tied(["touch", str(marker)])
    argv[argv.index(str(os.getpid()))] = "1"  # as if the runner had died before the command began
    proc = subprocess.run(argv, capture_output=True, check=False)
    assert proc.returncode == 137 and not marker.exists()
    assert sys.executable == argv[0]
