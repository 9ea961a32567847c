"""Shared fixtures: a loaded plugin session and a registry for engine tests, and a real PostgreSQL server.

PostgreSQL comes from the Debian package (tests/setup-services.sh installs it): a fresh cluster in a temporary
data directory, listening on 127.0.0.1 at a free port with its own socket directory, run as a non-root user
(postgres refuses root) and stopped at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgcluster import cluster_dir, pg_bin, start

# user_dir (tests/unprivileged.py); prefect_service, a real Prefect server (tests/prefectsvc.py)
pytest_plugins = ["unprivileged", "prefectsvc"]

# Session- and module-scoped servers (collector, Prefect workers, the cases page) start before the per-test
# isolation below: give the whole session its own state and configuration so none of them reaches the user's.
_SESSION_HOME = tempfile.mkdtemp(prefix="medic-tests-home-")
os.environ["XDG_STATE_HOME"] = os.path.join(_SESSION_HOME, "state")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SESSION_HOME, "config")
# (the agent's compiled redaction databases: stored once for the session's processes, never in the user's cache)
os.environ["MEDIC_AGENT_CACHE_DIR"] = os.path.join(_SESSION_HOME, "hyperscan")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never touch the user's real configuration or state directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("MEDIC_CONFIG", raising=False)
    monkeypatch.delenv("MEDIC_PLAYBOOK_PATH", raising=False)
    monkeypatch.delenv("MEDIC_DISABLE_PLUGINS", raising=False)
    yield


@pytest.fixture(scope="session")
def session():  # type: ignore[no-untyped-def]
    from medic.core.session import Session

    return Session(config={})


@pytest.fixture(scope="session")
def registry(session):  # type: ignore[no-untyped-def]
    return session.registry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_pg_bin, _start_postgres = pg_bin, start  # the names the PostgreSQL tests import


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, Any]]:
    bindir = _pg_bin()
    if bindir is None or not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL is not installed (run tests/setup-services.sh)")
    base, as_user = cluster_dir("medic-pg-")
    data = base / "data"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    port = _start_postgres(as_user, bindir, data, base)
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "bindir": bindir}
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)
