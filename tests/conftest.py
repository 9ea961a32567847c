"""Shared fixtures: a loaded plugin session and a registry for engine tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

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
