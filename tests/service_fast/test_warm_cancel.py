"""Cancelling a running run from the UI stops it on ``medic worker --start warm``, whose runs share one executor
context (control channel, cancellation observer) for the worker's life (flows/warm_worker.py), and leaves the
other run of the same worker running to its end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import psutil
import pytest
from prefectsvc import Api, PrefectService, medic

SLEEPY = """\
    name: warm-sleepy
    description: Waits until a file exists, then passes.
    inputs:
      release: {type: string, description: the run waits until this file exists}
    targets: [local]
    steps:
      - id: sleepy
        verify: change.command_succeeds
        timeout: 170
        with: {argv: [sh, -c, "while [ ! -e '{{ inputs.release }}' ]; do sleep 0.2; done"]}
"""


def until(what: str, test: Any, proc: subprocess.Popen[bytes], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := test()):
        assert proc.poll() is None and time.monotonic() < deadline, what
        time.sleep(0.25)
    return found


def test_a_cancelled_run_stops_and_its_sibling_completes(prefect_service: PrefectService,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("warmcancel")
    (base / "books").mkdir()
    (base / "books" / "warm-sleepy.yaml").write_text(textwrap.dedent(SLEEPY))
    (base / "config.yaml").write_text(f"playbook_paths: [{base / 'books'}]\n")
    env = prefect_service.subprocess_env(MEDIC_CONFIG=str(base / "config.yaml"), XDG_STATE_HOME=str(base / "state"),
                                         PREFECT_WORKER_QUERY_SECONDS="1")
    deployed = medic(env, "deploy", "--pool", "cancel-pool", "--playbook", "warm-sleepy")
    assert deployed.returncode == 0, deployed.stderr
    api = Api(prefect_service)
    log = open(base / "worker.log", "wb")  # noqa: SIM115 - closed after the process ends
    worker = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "cancel-pool"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        doomed = api.start("warm-sleepy", {"release": str(base / "never")})
        sibling = api.start("warm-sleepy", {"release": str(base / "released")})

        def running() -> list[dict[str, Any]]:
            runs = [api.http.get(f"/flow_runs/{r}").json() for r in (doomed, sibling)]
            return runs if all(r["state"]["type"] == "RUNNING" and r.get("infrastructure_pid") for r in runs) else []

        doomed_run, _ = until("both runs are running", running, worker)
        pid = int(doomed_run["infrastructure_pid"])
        # as Prefect's UI cancels a run
        answer = api.post(f"/flow_runs/{doomed}/set_state", {"state": {"type": "CANCELLING", "name": "Cancelling"},
                                                             "force": True})
        assert answer.status_code in (200, 201), answer.text
        ended = until("the cancelled run ends", lambda: api.wait(doomed, timeout=1)["state"]["type"] == "CANCELLED"
                      and api.http.get(f"/flow_runs/{doomed}").json(), worker, timeout=90)
        assert ended["state"]["type"] == "CANCELLED"
        until("its process is gone", lambda: not psutil.pid_exists(pid) or
              psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, worker, timeout=30)
        assert api.http.get(f"/flow_runs/{sibling}").json()["state"]["type"] == "RUNNING"
        (base / "released").write_text("go\n")
        assert api.wait(sibling, timeout=120)["state"]["type"] == "COMPLETED", (base / "worker.log").read_text()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        log.close()
