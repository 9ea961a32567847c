"""Prefect settings medic applies before Prefect is imported (no telemetry, quiet logs, a local home), and the
temporary Prefect server of a run when no server is configured.

Prefect would start that server itself (``SubprocessASGIServer``), but only after importing its whole server
package (FastAPI, SQLAlchemy, the API's models: about 85 MB) into medic's process just to build the command.
medic starts the same uvicorn command itself, before importing Prefect, so the server boots on the other core
while medic loads its plugins, and no server code is ever loaded in medic's own process. Prefect is then pointed at
it through its process-wide settings (not ``PREFECT_API_URL`` in the environment: that names a server the user
configured, and medic's probes need not inherit it). The server's output goes to a log file beside Prefect's
database; it is stopped when medic exits (after Prefect's own exit handlers have sent their last logs and events).
"""

from __future__ import annotations

import atexit
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from medic.flows import server_db
from medic.kernel.errors import MedicError

DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_SERVER_LEVEL": "CRITICAL",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
    "PREFECT_UI_ENABLED": "true",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_RESULTS_DEFAULT_SERIALIZER": "json",  # never pickle: see flows/results.py
    "PREFECT_TASKS_REFRESH_CACHE": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
}
# The temporary server: no UI, the services of Prefect's own temporary server only (ephemeral), one process.
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
POLL_S = 0.1
UVICORN_STARTUP_FAILURE = 3  # uvicorn's exit code when it cannot start (its port taken: another one is tried)


def configure() -> None:
    """Set defaults without overriding what the user exported (their PREFECT_API_URL etc. win)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


SERVER_LOG_NAME = "medic-temporary-server.log"
SERVER_LOG_MAX_BYTES = 1 << 20


def server_log_path() -> Path:
    """Where the temporary server's own output goes: beside Prefect's database in PREFECT_HOME."""
    return server_db.prefect_home() / SERVER_LOG_NAME


def open_server_log(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > SERVER_LOG_MAX_BYTES:
        path.replace(path.with_name(path.name + ".1"))  # keep one old generation, bounded on disk
    return open(path, "ab")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


class TemporaryServer:
    """Prefect's API server as a uvicorn process on a free loopback port, for this process's runs."""

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = server_log_path()
        self.error: MedicError | None = None  # why it could not start: every later call says the same

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def spawn(self) -> None:
        """Start the process (returns at once; :meth:`wait_ready` waits for it to answer)."""
        import importlib.util

        spec = importlib.util.find_spec("prefect")  # where Prefect is, without importing it
        app_dir = str(Path(spec.origin).parent.parent) if spec and spec.origin else "."
        self.port = free_port()
        args = [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--factory",
                "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
                "--log-level", "error", "--lifespan", "on", "--workers", "1", "--no-access-log"]
        with open_server_log(self.log) as log:
            # a database already at this Prefect's newest migration needs no check (8 MB less server): server_db.py
            env = {**os.environ, **SERVER_ENV, **(server_db.SKIP_MIGRATION if server_db.migrated() else {})}
            self.process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float) -> None:
        """Wait until ``/api/health`` answers 200; a MedicError naming the log file if it never does.

        As Prefect counts it, ``timeout`` is the time slept between polls: on a machine so busy that each poll
        takes long (load 40 on 2 cores here), the server gets the longer real time it then needs to boot.
        """
        waited = 0.0
        while self.error is None and self.process is not None and waited < timeout:
            code = self.process.poll()
            if code == UVICORN_STARTUP_FAILURE and port_taken(self.port):  # taken since free_port(): another
                self.spawn()
            elif code is not None:
                raise self.failed(f"it exited with code {code}")
            elif self._healthy():
                return
            time.sleep(POLL_S)
            waited += POLL_S
        raise self.error or self.failed(f"it did not answer within {timeout:g} s")

    def failed(self, why: str) -> MedicError:
        self.stop()
        self.error = MedicError(f"Prefect's temporary server could not be started ({why}); its output is in "
                                f"{self.log}. Start a server (medic server start) and set PREFECT_API_URL, or run "
                                f"with --engine inline")
        return self.error

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/api/health")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        """Terminate the server and wait for it (5 s, then kill): nothing of it outlives medic."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_lock = threading.Lock()
_server: dict[str, TemporaryServer] = {}


def spawn_temporary_server() -> TemporaryServer | None:
    """Start the temporary server unless ``PREFECT_API_URL`` names one; idempotent. Prefect need not be imported."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    with _lock:
        if "server" not in _server:
            server = TemporaryServer()
            server.spawn()
            _server["server"] = server
            atexit.register(server.stop)  # registered before Prefect's exit handlers, so it runs after them
        return _server["server"]


def on_temporary_server() -> bool:
    """Does Prefect talk to the temporary server medic started (nobody could open its UI)?"""
    from prefect.settings import get_current_settings

    ours = _server.get("server")
    return ours is not None and ours.error is None and get_current_settings().api.url == ours.api_url


def use_temporary_server(timeout: float | None = None) -> None:
    """Point Prefect at the temporary server once it answers, unless Prefect's settings already name a server
    (a profile's PREFECT_API_URL, a test harness) or forbid a temporary one. Idempotent."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL, get_current_settings

    settings = get_current_settings()
    if on_temporary_server():
        return  # already in use
    if settings.api.url or not settings.server.ephemeral.enabled:
        with _lock:
            if "server" in _server:
                _server.pop("server").stop()
        return
    server = spawn_temporary_server()
    if server is None:
        return
    server.wait_ready(timeout or settings.server.ephemeral.startup_timeout_seconds)
    root = prefect.context.GLOBAL_SETTINGS_CONTEXT
    if root.settings.api.url != server.api_url:  # what threads without a settings context of their own read
        prefect.context.GLOBAL_SETTINGS_CONTEXT = prefect.context.SettingsContext(
            profile=root.profile, settings=root.settings.copy_with_update(updates={PREFECT_API_URL: server.api_url}))


def start_in_background() -> threading.Thread:
    """Start the temporary server, then import Prefect, while medic loads plugins, the playbook and targets.

    The server is a subprocess: it boots on the other core while this process does its own work, which takes
    most of medic's start-up off the critical path of a cold run. Errors are left for the real call to report.
    """

    def work() -> None:
        configure()
        try:
            spawn_temporary_server()
            use_temporary_server()
        except Exception:  # noqa: S110 - run_with_prefect repeats this and reports any error properly
            pass

    thread = threading.Thread(target=work, name="prefect-warm-up", daemon=True)
    thread.start()
    return thread
