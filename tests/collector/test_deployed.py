"""Triage on arrival through a real Prefect server: `medic collector serve` started with PREFECT_API_URL sends the
``medic.bundle.received`` event and creates a run of the deployment ``medic-playbook/triage`` (made here by
``medic deploy``, in a pool no worker serves: the run stays scheduled, its parameters are what is checked) with the
delivered bundle as its target, after the last PATCH's 204.

A Prefect server that holds every request (it answers one header byte a second, so no client timeout ends the
wait) shows the 204 and the receipt do not wait for the event or the submission. A deployment the server does not
have falls back to the local triage queue, and the case's record says why.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import Running, make_bundle, start_collector, upload, wait_for
from prefectsvc import Api, PrefectService, medic

POOL = "collector-tests"  # no worker polls it: a run created here stays scheduled


def triage_record(collector: Running, case_id: str, upload_id: str) -> dict[str, Any]:
    path = collector.directory / "cases" / case_id / f"triage-{upload_id}.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


@pytest.fixture(scope="module")
def deployed(prefect_service: PrefectService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    base = tmp_path_factory.mktemp("deployed")
    env = prefect_service.subprocess_env(XDG_STATE_HOME=str(base / "state"), XDG_CONFIG_HOME=str(base / "cfg"))
    done = medic(env, "deploy", "--pool", POOL, "--playbook", "triage")
    assert done.returncode == 0, done.stderr
    running = start_collector(base, env=prefect_service.env)
    try:
        yield running
    finally:
        running.server.stop()


def _deliver(collector: Running, tmp_path: Path, seed: int) -> tuple[bytes, str, str, Path]:
    """Upload a new bundle: (its bytes, upload id, case id, the delivered file)."""
    data = make_bundle(tmp_path / f"medic-bundle-{seed}.tar.gz", seed=seed).read_bytes()
    with collector.client(str(collector.enroll(f"pc-{seed}")["token"])) as client:
        location, receipt = upload(client, data)
    upload_id = location.rsplit("/", 1)[1]
    return data, upload_id, receipt["receipt"]["case_id"], collector.directory / "uploads" / f"{upload_id}.tar.gz"


def test_an_arriving_bundle_runs_the_triage_deployment_and_emits_the_event(
        deployed: Running, prefect_service: PrefectService, tmp_path: Path) -> None:
    data, upload_id, case_id, bundle = _deliver(deployed, tmp_path, seed=31)
    record = wait_for("the triage submission", lambda: (r := triage_record(deployed, case_id, upload_id))
                      .get("status") in ("submitted", "failed", "done") and r)
    assert record["status"] == "submitted" and record["deployment"] == "medic-playbook/triage", record
    api = Api(prefect_service)
    run = api.http.get(f"/flow_runs/{record['flow_run_id']}").json()
    assert run["deployment_id"] == api.deployment("triage")["id"]
    assert run["parameters"] == {"targets": [f"bundle:{bundle}"]} and bundle.read_bytes() == data
    assert f"case:{case_id}" in run["tags"] and run["state"]["type"] == "SCHEDULED"
    digest = hashlib.sha256(data).hexdigest()
    query = {"filter": {"event": {"name": ["medic.bundle.received"]},
                        "resource": {"id": [f"medic.bundle.{digest}"]}}}
    events = wait_for("the event to be stored",  # Prefect stores events in batches
                      lambda: api.post("/events/filter", query).json()["events"])
    [event] = events  # sent once: by the collector after the 204, not also by the server plugin's hook
    assert event["payload"]["upload_id"] == upload_id and event["payload"]["bundle_path"] == str(bundle)
    assert event["resource"]["medic.agent.name"] == "pc-31" and event["payload"]["bundle_size"] == len(data)


def test_without_the_deployment_the_bundle_is_triaged_here(prefect_service: PrefectService,
                                                           tmp_path_factory: pytest.TempPathFactory,
                                                           tmp_path: Path) -> None:
    # the session's server is shared: make sure no earlier test left a deployment of this playbook behind
    api = Api(prefect_service)
    for deployment in api.deployments():
        if deployment["name"] == "slow-system":
            assert api.http.delete(f"/deployments/{deployment['id']}").status_code in (200, 204, 404)
    running = start_collector(tmp_path_factory.mktemp("undeployed"), extra_config="triage_playbook: slow-system\n",
                              env=prefect_service.env)
    try:
        _, upload_id, case_id, _ = _deliver(running, tmp_path, seed=32)
        record = wait_for("the local triage", lambda: (r := triage_record(running, case_id, upload_id))
                          .get("status") in ("done", "failed", "skipped") and r)
    finally:
        running.server.stop()
    assert record["status"] == "done", record
    assert "not submitted to medic-playbook/slow-system" in record["note"] and "triaged here" in record["note"]
    assert (running.directory / "cases" / case_id / f"findings-{upload_id}.json").is_file()


class HoldingServer:
    """Accepts HTTP requests and answers none of them until released: one header byte a second keeps any
    client's read timeout from ending the wait."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api"
        self.requests: list[bytes] = []
        self.released = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            self.requests.append(conn.recv(65536))
            try:
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\n")
                while not self.released.wait(1):
                    conn.sendall(b"X")  # the start of a header that never ends
            except OSError:
                return

    def close(self) -> None:
        self.released.set()
        self.sock.close()


def test_a_server_that_never_answers_does_not_hold_the_upload(tmp_path_factory: pytest.TempPathFactory,
                                                              tmp_path: Path) -> None:
    holding = HoldingServer()
    env = {"PREFECT_API_URL": holding.url, "PREFECT_API_AUTH_STRING": "x"}
    running = start_collector(tmp_path_factory.mktemp("holding"), env=env)
    try:
        _, upload_id, case_id, bundle = _deliver(running, tmp_path, seed=33)
        # the last PATCH had its 204 and the receipt is signed while the event is still waiting for an answer
        wait_for("the event to reach the server", lambda: holding.requests)
        assert holding.requests[0].startswith(b"POST /api/events") and not holding.released.is_set(), \
            holding.requests
        record = triage_record(running, case_id, upload_id)
        assert bundle.is_file() and record.get("status") == "queued", (record, running.server.log.read_text())
    finally:
        holding.close()
        running.server.stop()
