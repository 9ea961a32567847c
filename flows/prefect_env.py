"""Prefect settings medic applies before Prefect is imported: no telemetry, quiet logs, a local home."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

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


def configure() -> None:
    """Set defaults without overriding what the user exported (their PREFECT_API_URL etc. win)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


SERVER_LOG_NAME = "medic-temporary-server.log"
SERVER_LOG_MAX_BYTES = 1 << 20
_install_lock = threading.Lock()


def server_log_path() -> Path:
    """Where the temporary server's own output goes: beside Prefect's database in PREFECT_HOME."""
    from prefect.settings import get_current_settings

    return Path(get_current_settings().home).expanduser() / SERVER_LOG_NAME


def open_server_log(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > SERVER_LOG_MAX_BYTES:
        path.replace(path.with_name(path.name + ".1"))  # keep one old generation, bounded on disk
    return open(path, "ab")


def install_logged_temporary_server() -> None:
    """Make Prefect's temporary server write its output to a log file instead of medic's terminal.

    Prefect starts the server with the parent's stdout and stderr, and uvicorn and SQLAlchemy print
    tracebacks there when the server is stopped at exit (a cancelled connection reset, for instance). Those
    are the server's business, not the user's: a successful medic run must not show them. Prefect looks the
    server up in a per-port registry, so putting our subclass there first is enough; idempotent.
    """
    from prefect.server.api import server as server_module

    base = server_module.SubprocessASGIServer

    class LoggedTemporaryServer(base):  # type: ignore[misc, valid-type]
        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            # Same command and environment as Prefect 3.9's own method, output to the log file.
            import prefect
            from prefect.settings import get_current_settings

            server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                          "PREFECT__SERVER_FINAL": "1"}
            args = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                    "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                    "--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
            env = {**os.environ, **server_env,
                   **get_current_settings().to_environment_variables(exclude_unset=True)}
            with open_server_log(server_log_path()) as log:
                return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)

    with _install_lock:
        current = base._instances.get(None)
        if current is None or (type(current) is base and current.server_process is None):
            base._instances.pop(None, None)
            LoggedTemporaryServer()  # __new__ registers it under port None, where Prefect looks


def start_in_background() -> threading.Thread:
    """Import Prefect and start its temporary server while medic loads plugins, the playbook and targets.

    The server is a subprocess: it boots on the other core while this process does its own work, which takes
    most of medic's start-up off the critical path of a cold run. Errors are left for the real call to report.
    """

    def work() -> None:
        configure()
        try:
            if os.environ.get("PREFECT_API_URL"):
                import prefect  # noqa: F401
            else:
                from prefect.server.api.server import SubprocessASGIServer

                install_logged_temporary_server()
                SubprocessASGIServer().start()
        except Exception:  # noqa: S110 - the flow run repeats this and reports any error properly
            pass

    thread = threading.Thread(target=work, name="prefect-warm-up", daemon=True)
    thread.start()
    return thread
