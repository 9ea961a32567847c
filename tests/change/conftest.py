"""Fixtures of the change-safety tests: the medic CLI as a subprocess, file trees, and a real PostgreSQL.

The PostgreSQL server fixture (``postgres``) lives in tests/conftest.py: the SSH tests use it too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from change_helpers import snapshot, temp_leftovers  # noqa: F401 - used by the tests through this module

HERE = Path(__file__).parent


def medic(
    *args: str, env: dict[str, str], check: bool = False, **kw: Any
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "medic.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"medic {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    e.update(
        MEDIC_STATE_DIR=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        MEDIC_ENGINE="inline",
        COLUMNS="200",
    )
    return e
