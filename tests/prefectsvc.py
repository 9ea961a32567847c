"""One real ``prefect server start`` for the whole test session, with an auth string and no telemetry.

Registered as a plugin by tests/conftest.py (``pytest_plugins``), so any test asks for ``prefect_service``.
The server runs as a subprocess in its own process group on a free 127.0.0.1 port with a temporary
PREFECT_HOME (its SQLite database lives there) and ``PREFECT_SERVER_API_AUTH_STRING`` set: clients must send
the same string (``PREFECT_API_AUTH_STRING``, in ``env``) or get 401; ``/api/health`` stays open, so the
fixture waits on it. The whole group is stopped at the end of the session.

``PrefectService.env`` is what a subprocess (``medic worker``, ``medic serve``, ``medic run``) needs to talk to
this server: ``PREFECT_API_URL``, ``PREFECT_API_AUTH_STRING``, its own PREFECT_HOME and medic's quiet defaults.
In-process use: ``monkeypatch.setenv`` each item of ``service.env`` (Prefect reads its settings from the
environment when a client is created).
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

STARTUP_TIMEOUT = 120.0  # a cold start (imports + SQLite migrations) takes ~10 s idle, much more on a loaded CI
AUTH_STRING = "medic-test:s3cret-for-tests"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

QUIET = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}


@dataclass
class PrefectService:
    api_url: str  # http://127.0.0.1:PORT/api
    auth_string: str
    home: Path  # the server's PREFECT_HOME (database, server.log)
    env: dict[str, str] = field(default_factory=dict)  # for client subprocesses: merge into os.environ

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header Prefect's clients send for ``PREFECT_API_AUTH_STRING`` (HTTP basic)."""
        token = base64.b64encode(self.auth_string.encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        """os.environ plus this server's client settings plus ``extra``: the env for a ``medic`` subprocess."""
        return {**os.environ, **self.env, **extra}

    def log_tail(self, size: int = 4000) -> str:
        log = self.home / "server.log"
        return log.read_text(errors="replace")[-size:] if log.exists() else ""


def medic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``medic ARGS`` in a subprocess with ``env`` (a service's subprocess_env)."""
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


class Api:
    """The REST API as Prefect's UI uses it (httpx, the auth header), for tests."""

    def __init__(self, service: PrefectService) -> None:
        self.http = httpx.Client(base_url=service.api_url, headers=service.headers, timeout=30)

    def post(self, path: str, body: Any) -> httpx.Response:
        # Prefect's SQLite answers 503 when it is locked by a busy worker: ask again, as Prefect's own client does
        for pause in (0.2, 0.5, 1, 2, 4):
            answer = self.http.post(path, json=body)
            if answer.status_code not in (429, 502, 503):
                return answer
            time.sleep(pause)
        return answer

    def deployments(self) -> list[dict[str, Any]]:
        answer = self.post("/deployments/filter", {"flows": {"name": {"any_": ["medic-playbook"]}}})
        answer.raise_for_status()
        return list(answer.json())

    def deployment(self, name: str) -> dict[str, Any]:
        answer = self.http.get(f"/deployments/name/medic-playbook/{name}")
        answer.raise_for_status()
        return dict(answer.json())

    def start(self, name: str, parameters: dict[str, Any]) -> str:
        answer = self.post(f"/deployments/{self.deployment(name)['id']}/create_flow_run",
                           {"parameters": parameters})
        answer.raise_for_status()
        return str(answer.json()["id"])

    def wait(self, run_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.http.get(f"/flow_runs/{run_id}").json()
            if run["state"]["type"] in FINAL or time.monotonic() > deadline:
                return dict(run)
            time.sleep(0.25)

    def artifacts(self, run_id: str) -> dict[str, Any]:
        answer = self.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
        return {a["key"]: a for a in answer.json()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(api_url + "/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _prefect_command() -> list[str]:
    """The venv's ``prefect`` beside the running interpreter (the tests' own venv), else ``python -m prefect``."""
    beside = Path(sys.executable).with_name("prefect")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "prefect"]


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


def start_service(base: Path, **settings: str) -> tuple[PrefectService, subprocess.Popen[Any]]:
    """Start the server under ``base`` (``settings``: more of its environment) and wait until /api/health
    answers; raises with the log tail if not. A port found free can be taken before the server binds it: a
    server that exits before it is healthy is started again on another port (three tries)."""
    for attempt in range(3):
        try:
            return _start_once(base / f"try-{attempt}", settings)
        except _ExitedEarly:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class _ExitedEarly(RuntimeError):
    pass


def _start_once(base: Path, settings: dict[str, str]) -> tuple[PrefectService, subprocess.Popen[Any]]:
    server_home, client_home = base / "server-home", base / "client-home"
    server_home.mkdir(parents=True)
    client_home.mkdir()
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    server_env = {**os.environ, **QUIET, "PREFECT_HOME": str(server_home), "PREFECT_UI_ENABLED": "false",
                  "PREFECT_SERVER_API_AUTH_STRING": AUTH_STRING, **settings}
    for key in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_API_KEY", "PREFECT_PROFILE"):
        server_env.pop(key, None)
    log = open(server_home / "server.log", "wb")  # noqa: SIM115 - closed when the process is stopped
    process = subprocess.Popen(
        [*_prefect_command(), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        env=server_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    service = PrefectService(
        api_url=api_url, auth_string=AUTH_STRING, home=server_home,
        env={**QUIET, "PREFECT_API_URL": api_url, "PREFECT_API_AUTH_STRING": AUTH_STRING,
             "PREFECT_HOME": str(client_home)},
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _healthy(api_url):
        if process.poll() is not None or time.monotonic() > deadline:
            exited = process.poll() is not None
            _stop(process)
            error = _ExitedEarly if exited else RuntimeError
            raise error(f"prefect server start did not become healthy at {api_url}:\n{service.log_tail()}")
        time.sleep(0.2)
    return service, process


@pytest.fixture(scope="session")
def prefect_service() -> Iterator[PrefectService]:
    """A real Prefect server for the session (started on first use, stopped at the end)."""
    base = Path(tempfile.mkdtemp(prefix="medic-prefect-"))
    service, process = start_service(base)
    try:
        yield service
    finally:
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)
