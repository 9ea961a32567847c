"""A run starts when the server's event stream announces it, not at the next poll (flows/run_wakeup.py).

A ``medic worker`` and a ``medic serve`` polling every 10 s (Prefect's default): without the event stream a run
created at a random moment waits 5 s on average for the poll, at most 10 s; with it, the worker or runner asks for
it as soon as ``prefect.flow-run.Scheduled`` arrives. Each run's wait is read from the server's own timestamps
(created -> Pending), so the machine's load slows the run, not the measure.

The worker's runs also leave medic's plugin index alone after the first one: each run has a new working
directory, which must not make the index stale (flows/warm_worker.py ``pin_import_path``, ``_module_entrypoint``).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prefectsvc import Api, PrefectService, medic

PLAYBOOK = """\
    name: {name}
    description: One quick check, for the event wake-up tests.
    targets: [local]
    steps:
      - id: dns
        check: network.dns_resolve
        with: {{host: localhost}}
"""
POLL_S = "10"
RUNS = 3
MAX_WAIT_S = 2.0


@pytest.fixture(scope="module")
def site(prefect_service: PrefectService, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("wakeup")
    (base / "books").mkdir()
    for name in ("wake-worker", "wake-serve"):
        (base / "books" / f"{name}.yaml").write_text(textwrap.dedent(PLAYBOOK.format(name=name)))
    (base / "config.yaml").write_text(f"playbook_paths: [{base / 'books'}]\n")
    env = prefect_service.subprocess_env(MEDIC_CONFIG=str(base / "config.yaml"), XDG_STATE_HOME=str(base / "state"),
                                         XDG_CACHE_HOME=str(base / "cache"), PREFECT_WORKER_QUERY_SECONDS=POLL_S,
                                         PREFECT_RUNNER_POLL_FREQUENCY=POLL_S)
    return {"base": base, "env": env, "api": Api(prefect_service)}


def started(site: dict[str, Any], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    log = open(site["base"] / f"{args[0]}.log", "wb")  # noqa: SIM115 - closed after the process ends
    proc = subprocess.Popen([sys.executable, "-m", "medic.cli.main", *args], env=site["env"], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        log.close()


def waits_for_pending(site: dict[str, Any], name: str, proc: subprocess.Popen[bytes]) -> list[float]:
    """Start RUNS runs of ``name`` at random moments of the poll's interval; each one's created -> Pending."""
    api: Api = site["api"]
    deadline = time.monotonic() + 120
    while api.http.get(f"/deployments/name/medic-playbook/{name}").json().get("status") != "READY":
        assert proc.poll() is None and time.monotonic() < deadline, _log(site, proc)
        time.sleep(0.25)
    first = api.wait(api.start(name, {}), timeout=120)  # the first run also waits for the forkserver's imports
    assert first["state"]["type"] == "COMPLETED", (first["state"], _log(site, proc))
    indexes = plugin_indexes(site)
    waits = []
    for _ in range(RUNS):
        time.sleep(random.uniform(0, float(POLL_S)))
        run = api.wait(api.start(name, {}), timeout=120)
        assert run["state"]["type"] == "COMPLETED", (run["state"], _log(site, proc))
        states = api.http.get("/flow_run_states/", params={"flow_run_id": run["id"]}).json()
        pending = next(_at(s["timestamp"]) for s in states if s["type"] == "PENDING")
        waits.append(pending - _at(run["created"]))
    assert plugin_indexes(site) == indexes  # not rebuilt (importing every plugin) by each run
    return waits


def plugin_indexes(site: dict[str, Any]) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (Path(site["base"]) / "cache" / "medic").glob("plugins-*.json")}


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _log(site: dict[str, Any], proc: subprocess.Popen[bytes]) -> str:
    return "".join(p.read_text(errors="replace")[-3000:] for p in Path(site["base"]).glob("*.log"))


def test_a_worker_polling_every_10_s_starts_a_new_run_within_2_s(site: dict[str, Any]) -> None:
    deployed = medic(site["env"], "deploy", "--pool", "wake-pool", "--playbook", "wake-worker")
    assert deployed.returncode == 0, deployed.stderr
    for proc in started(site, "worker", "--pool", "wake-pool"):
        waits = waits_for_pending(site, "wake-worker", proc)
        print(f"created -> Pending: {[round(w, 2) for w in waits]}")
        assert max(waits) <= MAX_WAIT_S, waits


def test_medic_serve_polling_every_10_s_starts_a_new_run_within_2_s(site: dict[str, Any]) -> None:
    for proc in started(site, "serve", "--playbook", "wake-serve"):
        waits = waits_for_pending(site, "wake-serve", proc)
        print(f"created -> Pending: {[round(w, 2) for w in waits]}")
        assert max(waits) <= MAX_WAIT_S, waits
