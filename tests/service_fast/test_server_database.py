"""``medic server start --database``: what is refused before any server starts, one line, exit 2, no secret shown.

The server on PostgreSQL itself is tests/service/test_fleet_postgres.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medic.plugins.server.database import parse


def start(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", "server", "start", "--port", "9", *args],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=60)


def test_a_password_in_the_url_is_refused_and_not_shown() -> None:
    out = start("--database", "postgresql://medic:Sup3rSecret@127.0.0.1:5432/prefect")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "holds a password" in out.stderr and "0600" in out.stderr and "Sup3rSecret" not in out.stderr


@pytest.mark.parametrize("url, wanted", [
    ("mysql://medic@127.0.0.1/prefect", "only PostgreSQL is supported"),
    ("postgresql://127.0.0.1:5432/prefect", "missing: user"),
    ("postgresql://medic@127.0.0.1:5432/", "missing: database"),
    ("postgresql://medic@127.0.0.1:port/prefect", "expected postgresql://USER@127.0.0.1:5432/DB"),
])
def test_a_bad_database_url_is_one_line_exit_2(url: str, wanted: str) -> None:
    out = start("--database", url)
    assert out.returncode == 2 and wanted in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_readable_password_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("Sup3rSecret\n")
    secret.chmod(0o644)
    out = start("--database", "postgresql://medic@127.0.0.1/prefect", "--database-password-file", str(secret))
    assert out.returncode == 2 and "mode 0644 lets other users read the database password" in out.stderr
    assert "Sup3rSecret" not in out.stderr


def test_the_server_gets_the_password_through_prefects_template_only(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("p@ss:word/1\n")
    secret.chmod(0o600)
    db = parse("postgresql://medic@127.0.0.1:5544/prefect", str(secret))
    env = db.server_env()
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"] == \
        "postgresql+asyncpg://medic:${PREFECT_API_DATABASE_PASSWORD}@127.0.0.1:5544/prefect"
    assert env["PREFECT_API_DATABASE_PASSWORD"] == "p%40ss%3Aword%2F1"  # Prefect pastes it into the URL
    assert "p@ss" not in db.describe() and "5544/prefect" in db.describe()
