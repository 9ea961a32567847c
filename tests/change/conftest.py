"""Fixtures of the change-safety tests: the medic CLI as a subprocess, file trees, and a real PostgreSQL.

PostgreSQL comes from the Debian package (tests/setup-services.sh installs it): a fresh cluster in a temporary
data directory, listening on 127.0.0.1 at a free port with its own socket directory, run as a non-root user
(postgres refuses root) and stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from change_helpers import snapshot, temp_leftovers  # noqa: F401 - used by the tests through this module

HERE = Path(__file__).parent


def medic(
    *args: str, env: dict[str, str], check: bool = False, **kw: Any
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "medic.core.cli.main", *args],
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, Any]]:
    bindir = _pg_bin()
    if bindir is None or not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL is not installed (run tests/setup-services.sh)")
    base = Path(tempfile.mkdtemp(prefix="medic-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = base / "data"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(base / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "bindir": bindir}
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
