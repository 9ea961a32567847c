"""Triage on arrival through a Prefect server (``PREFECT_API_URL`` set when ``medic collector serve`` starts).

Each verified bundle goes to a bounded queue; one worker thread then, over Prefect's REST API (httpx, the server
plugin's client: plugins never import Prefect or the flows), sends the ``medic.bundle.received`` event (so
playbooks whose ``triggers:`` name it start too) and creates a run of the deployment
``medic-playbook/<triage_playbook>`` with the bundle as its only target (``bundle:PATH``), tagged with the case.
``triage-<upload>.json`` in the case's directory names the flow run; its findings and report are the run's
artifacts on the server (``medic runs show``).

None of this happens before the PATCH that delivered the last byte has its 204 (a full queue: the case says the
triage was skipped). When the server cannot be reached or has no such deployment, the bundle is triaged here by
the local queue instead (``triage.TriageQueue``), and the record says why.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from medic.kernel.errors import MedicError
from medic.plugins.collector.triage import BundleQueue, TriageQueue, write_status
from medic.plugins.server.api import FLOW_NAME, PrefectAPI
from medic.plugins.server.events import BUNDLE_RECEIVED, bundle_event
from medic.plugins.server.settings import ServerSettings

log = logging.getLogger("medic.collector.deployed")


def arrival_hooks(pm: Any) -> Any:
    """The plugin hooks as the collector calls them when it sends the event itself, after the 204: without the
    server plugin's ``collector_bundle_received``, which would send it while the last PATCH waits."""
    import medic.plugins.server as server_plugin

    class Hooks:
        collector_bundle_received = pm.subset_hook_caller(
            "collector_bundle_received", remove_plugins=[server_plugin] if pm.is_registered(server_plugin) else [])
        collector_bundle_triaged = pm.hook.collector_bundle_triaged

    return Hooks()


class DeployedTriage(BundleQueue):
    """Sends the event and creates the deployment's run; the local queue takes what the server does not."""

    def __init__(self, settings: ServerSettings, playbook: str, size: int, local: TriageQueue) -> None:
        self.settings, self.playbook, self.local = settings, playbook, local
        self.deployment = f"{FLOW_NAME}/{playbook}"
        super().__init__(size, "medic-collector-prefect")

    def submit(self, case_id: str, bundle: Path, case_dir: Path, info: dict[str, Any] | None = None,
               **fields: str) -> bool:
        return super().submit(case_id, bundle, case_dir, info, deployment=self.deployment, **fields)

    def stop(self) -> None:
        super().stop()
        self.local.stop()

    def run(self, case_id: str, bundle: Path, case_dir: Path, info: dict[str, Any], fields: dict[str, str]) -> None:
        with PrefectAPI(self.settings) as api:
            try:
                api.request("POST", "events", f"the {BUNDLE_RECEIVED} event", [bundle_event(info, str(bundle))])
            except MedicError as exc:  # the run is still worth creating: the bundle is here and verified
                log.warning("%s for bundle %s not sent: %s", BUNDLE_RECEIVED, bundle.name, exc)
            try:
                flow_run = self.create_run(api, case_id, bundle)
            except MedicError as exc:
                reason = f"not submitted to {self.deployment} at {self.settings.url}: {exc}; triaged here"
                log.warning("bundle %s: %s", bundle.name, reason)
                self.local.submit(case_id, bundle, case_dir, note=reason)
                return
        write_status(case_dir, bundle, status="submitted", deployment=self.deployment, server=self.settings.url,
                     flow_run_id=flow_run["id"], flow_run_name=flow_run.get("name"))

    def create_run(self, api: PrefectAPI, case_id: str, bundle: Path) -> dict[str, Any]:
        found = api.deployment(self.playbook)
        if found is None:
            raise MedicError(f"no deployment {self.deployment} (run `medic deploy --playbook {self.playbook}`)")
        body = {"parameters": {"targets": [f"bundle:{bundle}"]}, "tags": ["medic-collector", f"case:{case_id}"]}
        return dict(api.request("POST", f"deployments/{found['id']}/create_flow_run",
                                f"a run of {self.deployment}", body))
