"""medic and a long-running Prefect server, without importing Prefect.

- ``settings.py``: the rules of ``PREFECT_API_URL`` (loopback, or https with an auth string) and the auth string
  read from a 0600 file (``MEDIC_PREFECT_AUTH_FILE``), exported for Prefect through the environment only;
- ``api.py``: a small httpx client of Prefect's REST API (deployments, flow runs, logs, artifacts);
- ``doctor.py``: the command ``medic doctor server``;
- ``runs.py``: ``medic runs list|show|cancel`` against the server (the change plugin's ``medic runs`` hands
  over to it when ``PREFECT_API_URL`` is set);
- ``events.py``: the ``medic.bundle.received`` event sent when the collector accepts a bundle (the hook below
  runs first, sends, and answers None so the cases plugin still opens the case).

The fast path of ``medic run`` (submitting to a served deployment) is in ``medic.cli.remote_run``.
"""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.server import doctor

    doctor.register(subparsers)


@hookimpl(tryfirst=True)
def collector_bundle_received(upload: dict[str, Any], bundle_path: str) -> str | None:
    from medic.plugins.server.events import bundle_received

    bundle_received(upload, bundle_path)
    return None
