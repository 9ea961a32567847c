"""A playbook's ``triggers:`` start its deployment when a matching event arrives; a bundle's arrival is one.

Real parts: the session's Prefect server, ``medic deploy`` and one ``medic worker`` subprocess. Events are sent
through the REST API (``POST /events``) as any producer would, and through the collector's hook
(``collector_bundle_received``, all plugins loaded): the server plugin emits ``medic.bundle.received`` and the
cases plugin still answers with the case. The triggered runs carry the event's values as typed parameters,
checked by the playbook's inputs; template text in an event stays text.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prefectsvc import Api, PrefectService, medic

PLAYBOOK = """\
    name: on-bundle
    description: Looks at an arrived bundle.
    inputs:
      bundle: {type: string, description: the bundle's path on the collector}
      size: {type: int, default: 0, description: its size in bytes}
      note: {type: string, default: "", description: the agent's note}
    targets: [local]
    triggers:
      - event: medic.bundle.received
        match: {medic.agent.name: "web-*"}
        inputs: {bundle: payload.bundle_path, size: payload.bundle_size, note: payload.note}
    steps:
      - id: arrived
        title: The bundle is there
        verify: change.file_contains
        with: {path: "{{ inputs.bundle }}", pattern: "bundle"}
"""
TEMPLATE_TEXT = "{{ inputs.bundle }}"


@pytest.fixture(scope="module")
def site(prefect_service: PrefectService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("trig")
    (base / "books").mkdir()
    (base / "books" / "on-bundle.yaml").write_text(textwrap.dedent(PLAYBOOK))
    (base / "config.yaml").write_text(f"playbook_paths: [{base / 'books'}]\n")
    (base / "bundle.tar").write_text("a bundle\n")
    env = prefect_service.subprocess_env(MEDIC_CONFIG=str(base / "config.yaml"), XDG_STATE_HOME=str(base / "state"),
                                         XDG_CONFIG_HOME=str(base / "cfg"), PREFECT_WORKER_QUERY_SECONDS="1")
    plan = medic(env, "deploy", "--pool", "trig", "--playbook", "on-bundle", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    for _ in range(2):  # twice: the trigger is replaced, not duplicated
        out = medic(env, "deploy", "--pool", "trig", "--playbook", "on-bundle")
        assert out.returncode == 0, out.stderr
    worker = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "trig"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    api = Api(prefect_service)
    yield {"base": base, "env": env, "api": api, "plan": plan.stdout,
           "deployment": api.deployment("on-bundle")["id"]}
    worker.terminate()
    worker.wait(timeout=30)


def event(agent: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "occurred": datetime.now(UTC).isoformat(), "event": "medic.bundle.received",
            "resource": {"prefect.resource.id": f"medic.bundle.{uuid.uuid4().hex}", "medic.agent.name": agent},
            "related": [], "payload": payload}


def runs_of(api: Api, deployment: str) -> list[dict[str, Any]]:
    return list(api.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment]}}}).json())


def wait_for_run(api: Api, deployment: str, note: str, timeout: float = 120) -> dict[str, Any]:
    """The one run this test's event started, told apart by its note (pytest-randomly orders the tests)."""
    deadline = time.monotonic() + timeout
    while not (mine := [r for r in runs_of(api, deployment) if r["parameters"].get("note") == note]):
        assert time.monotonic() < deadline, f"no triggered run with note {note!r}"
        time.sleep(0.5)
    [run] = mine
    return api.wait(run["id"])


def test_deploy_compiles_the_trigger_once(site: dict[str, Any]) -> None:
    assert "trigger on medic.bundle.received where {'medic.agent.name': 'web-*'}" in site["plan"]
    automations = [a for a in site["api"].post("/automations/filter", {}).json()
                   if a["name"].startswith("medic: on-bundle on medic.bundle.received")]
    [automation] = automations
    assert automation["trigger"]["expect"] == ["medic.bundle.received"]
    assert automation["trigger"]["match"] == {"medic.agent.name": "web-*"}
    [action] = automation["actions"]
    assert action["type"] == "run-deployment" and action["deployment_id"] == site["deployment"]
    assert set(action["parameters"]) == {"bundle", "size", "note"}  # field paths, compiled by medic


def test_an_event_from_the_rest_api_starts_a_run_with_typed_inputs(site: dict[str, Any]) -> None:
    api: Api = site["api"]
    bundle = str(site["base"] / "bundle.tar")
    ignored = event("db-1", {"bundle_path": bundle, "bundle_size": 1, "note": ""})
    wanted = event("web-7", {"bundle_path": bundle, "bundle_size": 1234, "note": TEMPLATE_TEXT})
    answer = api.post("/events", [ignored, wanted])
    assert answer.status_code == 204, answer.text
    run = wait_for_run(api, site["deployment"], TEMPLATE_TEXT)
    assert run["parameters"] == {"bundle": bundle, "size": 1234, "note": TEMPLATE_TEXT}
    assert run["state"]["type"] == "COMPLETED", run["state"]
    report = api.artifacts(run["id"])["medic-report"]["data"]
    assert TEMPLATE_TEXT in report  # the note is data: shown as sent, never rendered
    time.sleep(3)  # the db-1 event matched nothing: no run has its size
    assert [r for r in runs_of(api, site["deployment"]) if r["parameters"].get("size") == 1] == []


def test_an_arriving_bundle_emits_the_event_and_still_opens_a_case(site: dict[str, Any],
                                                                    prefect_service: PrefectService,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.core import pluginmanager

    for key, value in prefect_service.env.items():
        monkeypatch.setenv(key, value)
    upload = {"agent_id": "ag-2", "agent_name": "web-2", "upload_id": "u-trig", "bundle_sha256": "d" * 64,
              "bundle_size": 9, "host": "web-2", "note": "slow"}
    case = pluginmanager.load().hook.collector_bundle_received(upload=upload,
                                                               bundle_path=str(site["base"] / "bundle.tar"))
    assert case and case.startswith("C-")  # the cases plugin answered after the server plugin sent the event
    new = wait_for_run(site["api"], site["deployment"], "slow")
    assert new["parameters"]["size"] == 9 and new["state"]["type"] == "COMPLETED", new["state"]
    query = {"filter": {"event": {"name": ["medic.bundle.received"]}, "resource": {"id": [f"medic.bundle.{'d' * 64}"]}}}
    deadline = time.monotonic() + 60
    while not (events := site["api"].post("/events/filter", query).json()["events"]):
        assert time.monotonic() < deadline, "the event was not stored"  # Prefect stores events in batches
        time.sleep(0.5)
    [sent] = events
    assert sent["resource"]["medic.agent.id"] == "ag-2" and sent["payload"]["upload_id"] == "u-trig"
    assert json.dumps(sent["payload"]).count("slow") == 1
