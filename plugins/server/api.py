"""A small client of Prefect's REST API over httpx, for the commands that must not import Prefect.

``medic run`` (the fast path), ``medic runs`` and ``medic doctor server`` use it: importing Prefect takes a second
or more, an HTTP request a few milliseconds. Only the endpoints medic needs, each returning the server's JSON.
Errors are one line: the server cannot be reached (exit 3), it refused the auth string (401, exit 3), or it
answered an error naming the object asked for (exit 2 for a 404 or a refused request, else 3).
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any

import httpx

from medic.kernel.errors import MedicError, UsageError
from medic.plugins.server.settings import AUTH_FILE_ENV, CA_ENV, ServerSettings

FLOW_NAME = "medic-playbook"
FINDINGS_KEY = "medic-findings"
REPORT_KEY = "medic-report"
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")
RETRY_STATUS = (429, 502, 503)
RETRIES = 4


def auth_header(auth: str) -> dict[str, str]:
    """What Prefect's own clients send for ``PREFECT_API_AUTH_STRING``: HTTP basic with the string as is."""
    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


class ServerUnreachable(MedicError):
    """Nothing answers at PREFECT_API_URL (exit 3): ``medic run --submit auto`` then runs here."""


class PrefectAPI:
    def __init__(self, settings: ServerSettings, timeout: float = 10.0) -> None:
        self.settings = settings
        headers = auth_header(settings.auth) if settings.auth else {}
        verify: Any = os.environ.get(CA_ENV) or True
        self.http = httpx.Client(base_url=settings.url + "/", headers=headers, timeout=timeout, verify=verify)

    def __enter__(self) -> PrefectAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, what: str, json: Any = None, missing_ok: bool = False) -> Any:
        """One call; ``what`` names the object in error lines (e.g. "deployment medic-playbook/triage").
        A 404 is None with ``missing_ok``, else a one-line error (exit 2)."""
        url = self.settings.url
        try:
            answer = self._send(method, path, json)
        except httpx.TimeoutException:
            raise MedicError(f"the Prefect server at PREFECT_API_URL={url} did not answer in time "
                             f"({what})") from None
        except httpx.HTTPError as exc:
            raise ServerUnreachable(f"the Prefect server at PREFECT_API_URL={url} cannot be reached ({_reason(exc)}): "
                             f"start it (medic server start) or unset PREFECT_API_URL") from None
        if answer.status_code == 401:
            raise MedicError(f"the Prefect server at {url} refused the auth string (401 Unauthorized; from "
                             f"{self.settings.auth_source}): it must equal the server's "
                             f"PREFECT_SERVER_API_AUTH_STRING (set {AUTH_FILE_ENV} to a 0600 file holding it)")
        if answer.status_code == 404 and missing_ok:
            return None
        if answer.status_code == 404:
            raise UsageError(f"no {what} on the Prefect server at {url}")
        if answer.status_code >= 400:
            detail = _short(answer.text, 300)
            error = UsageError if answer.status_code in (400, 409, 422) else MedicError
            raise error(f"the Prefect server at {url} refused {what}: HTTP {answer.status_code} {detail}")
        return answer.json() if answer.content else None

    def _send(self, method: str, path: str, json: Any) -> httpx.Response:
        """One request; a busy server (429, 502, 503: SQLite locked, a proxy restarting) is asked again, as
        Prefect's own client does, at most RETRIES times."""
        for attempt in range(RETRIES + 1):
            answer = self.http.request(method, path.lstrip("/"), json=json)
            if answer.status_code not in RETRY_STATUS or attempt == RETRIES:
                break
            time.sleep(0.2 * 2**attempt)
        return answer

    def health(self) -> bool:
        return bool(self.request("GET", "health", "health check"))

    def deployment(self, playbook: str) -> dict[str, Any] | None:
        """The deployment ``medic-playbook/<playbook>``, or None when there is none."""
        name = f"{FLOW_NAME}/{playbook}"
        found = self.request("GET", f"deployments/name/{name}", f"deployment {name}", missing_ok=True)
        return dict(found) if found else None

    def create_flow_run(self, deployment_id: str, parameters: dict[str, Any], what: str) -> dict[str, Any]:
        return dict(self.request("POST", f"deployments/{deployment_id}/create_flow_run", f"a run of {what}",
                                 {"parameters": parameters}))

    def flow_run(self, run_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"flow_runs/{run_id}", f"flow run {run_id}"))

    def flow_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """Runs of the medic-playbook flow, newest first."""
        body = {"flows": {"name": {"any_": [FLOW_NAME]}}, "sort": "EXPECTED_START_TIME_DESC", "limit": limit}
        return list(self.request("POST", "flow_runs/filter", "flow runs of medic-playbook", body))

    def flow_runs_named(self, name: str) -> list[dict[str, Any]]:
        body = {"flow_runs": {"name": {"any_": [name]}}, "limit": 2}
        return list(self.request("POST", "flow_runs/filter", f"flow run {name}", body))

    def deployment_by_id(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"deployments/{deployment_id}", f"deployment {deployment_id}"))

    def task_runs(self, run_id: str) -> list[dict[str, Any]]:
        body = {"flow_runs": {"id": {"any_": [run_id]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 200}
        return list(self.request("POST", "task_runs/filter", f"task runs of flow run {run_id}", body))

    def logs(self, run_id: str, offset: int) -> list[dict[str, Any]]:
        body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC", "offset": offset,
                "limit": 200}
        return list(self.request("POST", "logs/filter", f"logs of flow run {run_id}", body))

    def artifacts(self, run_id: str) -> dict[str, dict[str, Any]]:
        """The run's medic artifacts by key (``medic-findings``, ``medic-report``), the newest of each."""
        body = {"artifacts": {"flow_run_id": {"any_": [run_id]}, "key": {"any_": [FINDINGS_KEY, REPORT_KEY]}},
                "sort": "CREATED_DESC"}
        found: dict[str, dict[str, Any]] = {}
        for art in self.request("POST", "artifacts/filter", f"artifacts of flow run {run_id}", body):
            found.setdefault(art["key"], art)
        return found

    def cancel(self, run_id: str) -> dict[str, Any]:
        body = {"state": {"type": "CANCELLING", "name": "Cancelling", "message": "cancelled with medic runs cancel"},
                "force": False}
        return dict(self.request("POST", f"flow_runs/{run_id}/set_state", f"cancelling flow run {run_id}", body))


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return f"TLS: {_short(text, 200)}; a private CA goes in {CA_ENV}"
    return _short(text, 200)


def findings_rows(artifact: dict[str, Any] | None) -> list[dict[str, str]]:
    """The rows of a ``medic-findings`` table artifact (Prefect stores the table as JSON text)."""
    import json

    if not artifact:
        return []
    data = artifact.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return []
    return [dict(row) for row in data] if isinstance(data, list) else []
