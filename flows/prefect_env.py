"""Prefect settings medic applies before Prefect is imported: no telemetry, quiet logs, a local home."""

from __future__ import annotations

import os
import threading

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
    "PREFECT_TASKS_REFRESH_CACHE": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
}


def configure() -> None:
    """Set defaults without overriding what the user exported (their PREFECT_API_URL etc. win)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


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

                SubprocessASGIServer().start()
        except Exception:  # noqa: S110 - the flow run repeats this and reports any error properly
            pass

    thread = threading.Thread(target=work, name="prefect-warm-up", daemon=True)
    thread.start()
    return thread
