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


# --- server.database in the configuration file: precedence option > variable > configuration ---

def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(body)
    return path


def configured(path: Path) -> dict[str, object]:
    from medic.core.config import load_config

    os.environ["MEDIC_CONFIG"] = str(path)
    try:
        return load_config()
    finally:
        del os.environ["MEDIC_CONFIG"]


def test_the_configuration_names_the_database_and_a_relative_password_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.plugins.server.database import DATABASE_ENV, PASSWORD_FILE_ENV, from_options

    monkeypatch.delenv(DATABASE_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_FILE_ENV, raising=False)
    (tmp_path / "db-pw").write_text("Sup3rSecret\n")
    (tmp_path / "db-pw").chmod(0o600)
    path = write_config(tmp_path, "state_dir: /tmp/x\nserver:\n  database: postgresql://cfg@127.0.0.1:5433/fromcfg\n"
                                  "  database_password_file: db-pw\n")
    db = from_options(None, None, configured(path), str(path))
    assert db is not None and (db.user, db.port, db.name, db.password) == ("cfg", 5433, "fromcfg", "Sup3rSecret")
    assert db.source == f"{path}:3:3: server.database" and f"{tmp_path}/db-pw (0600)" in db.describe()
    assert "Sup3rSecret" not in db.describe()


def test_the_option_beats_the_variable_which_beats_the_configuration(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.plugins.server.database import DATABASE_ENV, PASSWORD_FILE_ENV, from_options

    monkeypatch.delenv(PASSWORD_FILE_ENV, raising=False)
    path = write_config(tmp_path, "server: {database: 'postgresql://cfg@127.0.0.1/fromcfg'}\n")
    config = configured(path)
    monkeypatch.setenv(DATABASE_ENV, "postgresql://env@127.0.0.1/fromenv")
    flag = from_options("postgresql://flag@127.0.0.1/fromflag", None, config, str(path))
    env = from_options(None, None, config, str(path))
    assert flag is not None and (flag.name, flag.source) == ("fromflag", "--database")
    assert env is not None and (env.name, env.source) == ("fromenv", DATABASE_ENV)
    assert from_options("sqlite", None, config, str(path)) is None  # SQLite asked for on the command line
    monkeypatch.delenv(DATABASE_ENV)
    cfg = from_options(None, None, config, str(path))
    assert cfg is not None and cfg.name == "fromcfg" and cfg.source.startswith(f"{path}:1:")


@pytest.mark.parametrize("body, wanted", [
    ("server:\n  database: 'mysql://medic@127.0.0.1/prefect'\n", ":2:3: server.database mysql://"),
    ("server:\n  database: 'postgresql://medic@127.0.0.1:port/prefect'\n", ":2:3: server.database: Port"),
    ("server:\n  database: 5432\n", ":2:3: server.database: expected a string (a URL such as"),
    ("server:\n  databse: 'postgresql://medic@127.0.0.1/prefect'\n", ":2:3: server.databse: unknown setting"),
    ("server: postgresql://medic@127.0.0.1/prefect\n", ":1:1: server: expected a mapping with database"),
    ("server:\n  database_password_file: pw\n", ":2:3: server.database_password_file: a database password "
                                                "file is set but no PostgreSQL database"),
])
def test_a_bad_server_setting_names_the_file_and_line(tmp_path: Path, body: str, wanted: str) -> None:
    path = write_config(tmp_path, body)
    out = start(MEDIC_CONFIG=str(path))
    assert out.returncode == 2 and f"{path}{wanted}" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_password_in_the_configured_url_is_refused_and_never_shown(tmp_path: Path) -> None:
    path = write_config(tmp_path, "server:\n  database: postgresql://medic:Sup3rSecret@127.0.0.1:5432/prefect\n")
    out = start(MEDIC_CONFIG=str(path))
    assert out.returncode == 2 and f"{path}:2:3: server.database: the URL holds a password" in out.stderr
    assert "Sup3rSecret" not in out.stderr + out.stdout and "medic:***@" in out.stderr
