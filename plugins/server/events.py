"""``medic.bundle.received``: the event a Prefect server gets when the collector accepts a bundle.

Prefect OSS has automations and deployment triggers but no webhooks: the collector tells the server itself, over
the REST API (``POST /events``), so a playbook whose ``triggers:`` name this event (medic deploy compiles them to
deployment triggers) starts on each arriving bundle. The resource is the bundle (by its digest) labelled with
the agent; the payload is the upload's fields and the bundle's path on the collector.

Emitting never holds up or fails a bundle's arrival: the bundle is already stored and its receipt signed, so a
server that is down or refuses is one warning line in the collector's log, and the cases plugin still opens the
case (this hook returns None: ``collector_bundle_received`` is firstresult).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from medic.kernel.errors import MedicError

BUNDLE_RECEIVED = "medic.bundle.received"
PAYLOAD_KEYS = ("agent_id", "agent_name", "upload_id", "bundle_sha256", "bundle_size", "host", "note")
log = logging.getLogger("medic.server.events")


def bundle_event(upload: dict[str, Any], bundle_path: str) -> dict[str, Any]:
    digest = str(upload.get("bundle_sha256") or upload.get("upload_id") or uuid.uuid4().hex)
    resource = {"prefect.resource.id": f"medic.bundle.{digest}",
                "prefect.resource.name": str(upload.get("upload_id") or digest),
                "medic.agent.id": str(upload.get("agent_id") or ""),
                "medic.agent.name": str(upload.get("agent_name") or ""),
                "medic.host": str(upload.get("host") or "")}
    payload = {k: upload.get(k) for k in PAYLOAD_KEYS} | {"bundle_path": bundle_path}
    return {"id": str(uuid.uuid4()), "occurred": datetime.now(UTC).isoformat(), "event": BUNDLE_RECEIVED,
            "resource": resource, "related": [], "payload": payload}


def emit(events: list[dict[str, Any]]) -> bool:
    """Send ``events`` to the server at PREFECT_API_URL; False (and no call) without one."""
    from medic.plugins.server.api import PrefectAPI
    from medic.plugins.server.settings import prepare

    settings = prepare()
    if settings is None:
        return False
    with PrefectAPI(settings) as api:
        api.request("POST", "events", f"{len(events)} event(s)", events)
    return True


def bundle_received(upload: dict[str, Any], bundle_path: str) -> None:
    try:
        emit([bundle_event(upload, bundle_path)])
    except MedicError as exc:  # the bundle is stored and acknowledged: a missed event is logged, not fatal
        log.warning("%s for bundle %s not sent: %s", BUNDLE_RECEIVED, upload.get("upload_id"), exc)
