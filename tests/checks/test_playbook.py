"""A playbook built from catalogue checks validates and runs end to end on this machine (inline engine)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from medic.core.engine import Engine
from medic.kernel.models import Status
from medic.plugins.targets.local import LocalTarget

from . import logsamples, servers

PLAYBOOK = """
name: catalogue-smoke
description: catalogue checks with typed, templated parameters
version: 1
inputs:
  log: {type: string}
  conf: {type: string}
  sums: {type: list}
  port: {type: int}
  ports: {type: list}
targets: [local]
steps:
  - id: service
    group: Service
    steps:
      - id: listening
        check: services.port_listening
        with: {ports: "{{ inputs.ports }}"}
      - id: http
        check: network.http_request
        with: {url: "http://127.0.0.1:{{ inputs.port }}/redirect/1", warn_ms: 2000}
  - id: app
    group: Application
    steps:
      - id: errors
        check: logs.error_rate
        with: {path: "{{ inputs.log }}", lines: 0, warn_count: 50}
      - id: workers
        check: configuration.config_value
        with: {path: "{{ inputs.conf }}", key: server.workers, expected: 4}
      - id: drift
        check: configuration.checksum_drift
        with: {sums: "{{ inputs.sums }}"}
"""


def test_catalogue_playbook_runs(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "catalogue-smoke.yaml"
    book.write_text(PLAYBOOK)
    log = logsamples.app_log(tmp_path / "app.log", time.time())
    conf = tmp_path / "app.ini"
    conf.write_text("[server]\nworkers = 4\n")
    playbook = session.load_playbook(str(book))
    with servers.http_server() as base:
        port = int(base.rsplit(":", 1)[1])
        inputs = {
            "log": str(log),
            "conf": str(conf),
            "port": port,
            "ports": [port],
            "sums": [f"{hashlib.sha256(conf.read_bytes()).hexdigest()}  {conf}"],
        }
        result = Engine(session.registry).run(playbook, [LocalTarget(session.registry.probes)], inputs)
    by_check = {f.check: f for f in result.findings()}
    assert {c: str(f.status) for c, f in by_check.items()} == {
        "services.port_listening": "pass",
        "network.http_request": "pass",
        "logs.error_rate": "pass",
        "configuration.config_value": "pass",
        "configuration.checksum_drift": "pass",
    }
    assert result.status is Status.PASS, [f.summary for f in result.findings()]
    assert by_check["logs.error_rate"].evidence["matches"] == 14
