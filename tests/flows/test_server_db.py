"""flows/server_db.py: the temporary server skips Prefect's migration check only on a database medic can see is at
the installed Prefect's newest migration, and only when no setting could name another database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from medic.flows import server_db

MIGRATE = ("import asyncio; from prefect.server.database import provide_database_interface; "
           "asyncio.run(provide_database_interface().create_db())")


@pytest.fixture(scope="module")
def migrated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PREFECT_HOME whose database Prefect itself created and migrated (as a first cold run leaves it)."""
    home = tmp_path_factory.mktemp("prefect-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    subprocess.run([sys.executable, "-c", MIGRATE], env={**env, "PREFECT_HOME": str(home)}, check=True, timeout=600,
                   cwd=home, capture_output=True)
    return home


@pytest.fixture
def home(migrated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in [k for k in os.environ if k.startswith("PREFECT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PREFECT_HOME", str(migrated_home))
    monkeypatch.chdir(migrated_home)  # no prefect.toml, .env or pyproject.toml here
    yield migrated_home


def test_the_heads_read_from_the_scripts_are_alembics_own() -> None:
    from alembic.script import ScriptDirectory
    from prefect.server.database.alembic_commands import alembic_config
    from prefect.server.database.orm_models import AioSqliteORMConfiguration

    config = alembic_config()
    config.set_main_option("version_locations", str(AioSqliteORMConfiguration().versions_dir))
    assert server_db.migration_heads() == set(ScriptDirectory.from_config(config).get_heads()) != set()


def test_a_database_at_the_newest_migration_is_started_without_the_check(home: Path) -> None:
    assert server_db.migrated()
    assert not server_migrates(home)


def test_the_server_checks_its_migrations_as_usual_elsewhere(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://u@127.0.0.1/db")
    assert not server_db.migrated()  # a database configured in the environment
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL")
    (tmp_path / "prefect.toml").write_text('[server.database]\nconnection_url = "sqlite+aiosqlite:///x.db"\n')
    monkeypatch.chdir(tmp_path)
    assert not server_db.migrated()  # ... or in a prefect.toml Prefect would read here
    monkeypatch.chdir(home)
    assert server_db.migrated()
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "fresh"))
    assert not server_db.migrated()  # no database yet: the server creates it
    assert server_migrates(tmp_path / "fresh")


def test_an_older_database_is_migrated_by_the_server(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    older = tmp_path / "older"
    older.mkdir()
    (older / "prefect.db").write_bytes((home / "prefect.db").read_bytes())
    with sqlite3.connect(older / "prefect.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9725c1cbee35'")
    monkeypatch.setenv("PREFECT_HOME", str(older))
    assert not server_db.migrated()


def server_migrates(home: Path) -> bool:
    """Does the temporary server, started as medic starts it for a run in this PREFECT_HOME, run Prefect's migration
    check? Alembic is imported for that alone, in the process that serves (medic's: flows/thread_server.py)."""
    script = ("import sys; from medic.flows import prefect_env; prefect_env.configure(); "
              "server = prefect_env.spawn_temporary_server(); server.wait_ready(300); "
              "print('alembic' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    home.mkdir(exist_ok=True)
    out = subprocess.run([sys.executable, "-c", script], env={**env, "PREFECT_HOME": str(home)}, cwd=home,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()[-1] == "True"
