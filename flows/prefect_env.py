"""Prefect settings medic applies before Prefect is imported (no telemetry, quiet logs, a local home), and the
temporary Prefect server of a run when no server is configured.

Prefect would start that server itself as a second Python process (``SubprocessASGIServer``), which imports Prefect
a second time and holds it for the run. medic serves the same app from a thread of its own process instead
(medic.flows.thread_server): Prefect is in memory once, for the client and the server, and a cold run's process
tree is about 80 MB smaller (bench/README.md, memory of a cold run). The thread starts as soon as ``medic run``
does, before Prefect is imported in the main thread, and Prefect is pointed at it through its process-wide
settings once it serves (not through ``PREFECT_API_URL`` in the environment: that names a server the user
configured, and medic's probes need not inherit it). The server's log lines go to a log file beside Prefect's
database; it is stopped when medic's main thread ends (after Prefect has sent its last logs and events).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import BinaryIO

from medic.flows import server_db
from medic.flows.thread_server import ThreadServer, stop_when_main_thread_ends

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


def server_log_path() -> Path:
    """Where the temporary server's own output goes: beside Prefect's database in PREFECT_HOME."""
    return server_db.prefect_home() / SERVER_LOG_NAME


def open_server_log(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > SERVER_LOG_MAX_BYTES:
        path.replace(path.with_name(path.name + ".1"))  # keep one old generation, bounded on disk
    return open(path, "ab")


_lock = threading.Lock()
_server: dict[str, ThreadServer] = {}


def spawn_temporary_server() -> ThreadServer | None:
    """Start the temporary server unless ``PREFECT_API_URL`` names one; idempotent. Prefect need not be imported."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    with _lock:
        if "server" not in _server:
            server = ThreadServer(server_log_path(), open_server_log)
            server.spawn()
            _server["server"] = server
            stop_when_main_thread_ends(server)
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

    The server's thread imports Prefect and its server code and starts the server while the main thread does
    medic's own work, which takes that work off the critical path of a cold run. Errors are left for the real
    call to report.
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
