"""A lagging event store: the fleet parent does not take a live shard for a dead one, and still finds a dead one.

Under load the server stored heartbeat events 90 s and more after they occurred, and the parent set live shards
Crashed (bench/README-fleet.md). Here the lag is made on purpose, without load: a Prefect server of this module
whose event persister writes every ``FLUSH_S`` seconds only (its flush interval setting; a batch size out of
reach), so a run's newest stored heartbeat gets up to 30 + FLUSH_S seconds old, past the 35 s zombie window. Real
parts otherwise: ``medic deploy`` (its zombie automation removed: the parent's rule alone decides), two ``medic
worker`` subprocesses of one run each, four loopback OpenSSH hosts, ``medic fleet run --shards 2 --wait`` of a
playbook that waits on its hosts for a release file. One worker is SIGKILLed with its run; the other shard lives
on while its stored heartbeats fall behind. A third worker takes the dead shard's re-run and starts it slowly
(``SLOW_START_S``, past the window, as cold starts at load 100 do): Pending, no heartbeat yet, its worker alive.
Checked: the live shard ran once and completed although its newest stored heartbeat got older than the window
(the wall-clock rule set it Crashed); the dead one was set Crashed by the parent within the window plus one flush
plus polling, and ran again, its slow start not taken for a death; every host is reported once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prefectsvc import Api, PrefectService, _stop, medic, start_service
from proctree import descendants, kill_everything_under
from sshlab import SshLab

WINDOW_S = 35
FLUSH_S = 25
SLOW_START_S = WINDOW_S + FLUSH_S + 5  # past the window even once a probe waits a whole flush
SLEEPY = """\
    name: lag-slow
    description: Waits on each host for a release file, then passes.
    inputs:
      release: {type: string, description: the run waits on its hosts until this file exists}
    targets: [local]
    steps:
      - id: sleepy
        title: The host waits, then answers
        verify: change.command_succeeds
        with: {argv: [sh, -c, "while [ ! -e '{{ inputs.release }}' ]; do sleep 0.2; done"], timeout: 400}
"""


@pytest.fixture(scope="module")
def lagging() -> Iterator[PrefectService]:
    base = Path(tempfile.mkdtemp(prefix="medic-lag-"))
    # no triggers service: the parent's rule alone decides here, and an automation deleted after `medic deploy`
    # could still fire from the service's copy under load (a CI run saw the live shard set Crashed)
    service, process = start_service(base, PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL=str(FLUSH_S),
                                     PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE="100000",
                                     PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED="false")
    yield service
    _stop(process)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    lab = SshLab.start(tmp_path_factory.mktemp("laglab"), 4, "127.0.10")
    yield lab
    lab.stop()


def test_a_live_shard_behind_a_lagging_store_lives_and_a_dead_one_is_found(lagging: PrefectService, lab: SshLab,
                                                                          tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "lag-slow.yaml").write_text(textwrap.dedent(SLEEPY))
    (tmp_path / "config.yaml").write_text(f"playbook_paths: [{tmp_path / 'books'}]\n"
                                          f"deploy: {{heartbeat_s: 30, crashed_after_s: {WINDOW_S}}}\n")
    env = lagging.subprocess_env(MEDIC_CONFIG=str(tmp_path / "config.yaml"), XDG_STATE_HOME=str(tmp_path / "state"),
                                 PREFECT_WORKER_QUERY_SECONDS="1")
    deployed = medic(env, "deploy", "--pool", "lag", "--playbook", "lag-slow")
    assert deployed.returncode == 0, deployed.stderr
    api = Api(lagging)
    for automation in api.post("/automations/filter", {}).json():  # the parent's rule alone decides here
        api.http.delete(f"/automations/{automation['id']}").raise_for_status()
    release = tmp_path / "release"

    def worker(**extra: str) -> subprocess.Popen[bytes]:
        # cold: the slow start is a sitecustomize, which only a fresh interpreter reads (a warm run is forked)
        return subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "lag", "--limit", "1",
                                 "--start", "cold"],
                                env={**env, **extra}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    workers = [worker(), worker()]
    try:
        fleet = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "fleet", "run", "lag-slow", "--inventory",
                                  str(lab.inventory), "--shards", "2", "--wait", "-i", f"release={release}"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        victim, survivor = _one_run_each(api, workers, fleet)
        kill_everything_under(victim[0].pid)
        killed_at = time.monotonic()
        # takes the re-run while the survivor's worker is busy, and starts it slowly: Pending past the window
        workers.append(worker(PYTHONPATH=str(_slow_start(tmp_path)), MEDIC_TEST_SLOW_START_S=str(SLOW_START_S)))
        crashed_after, message, stalest = _watch(api, victim[1], survivor, killed_at, fleet)
        release.touch()
        out, err = fleet.communicate(timeout=300)
    finally:
        if fleet.poll() is None:
            fleet.kill()
        for w in workers:
            kill_everything_under(w.pid)
            w.wait(timeout=30)
    print(f"live shard's newest stored heartbeat up to {stalest:.0f} s old (window {WINDOW_S} s); dead shard set "
          f"Crashed {crashed_after:.0f} s after the kill: {message}")
    assert fleet.returncode == 0, (out, err)
    shards = {s["flow_run_id"]: s for s in (json.loads(p.read_text()) for p in
                                           Path(err.split("shard results in ")[1].split()[0]).glob("shard-*.json"))}
    assert shards[survivor]["attempts"] == 1 and shards[survivor]["state"] == "COMPLETED", shards
    assert sorted(s["attempts"] for s in shards.values()) == [1, 2], shards  # the slow re-run was not crashed
    [rerun] = [s["flow_run_id"] for s in shards.values() if s["attempts"] == 2]
    pending = _pending_for(api, rerun)
    print(f"the re-run was Pending {pending:.0f} s (its worker alive) and was not set Crashed")
    assert pending > WINDOW_S  # it did start slower than the window
    assert sorted(row["target"] for s in shards.values() for row in s["findings"]) == lab.hosts
    assert stalest > WINDOW_S  # on the wall clock the live shard looked dead: the test did exercise the lag
    assert "event store" in message and "behind" in message, message  # the parent set it, not an automation
    assert crashed_after <= WINDOW_S + FLUSH_S + 20, crashed_after


def _slow_start(root: Path) -> Path:
    """A directory whose ``sitecustomize`` makes each flow-run process (it has PREFECT__FLOW_RUN_ID) sleep
    MEDIC_TEST_SLOW_START_S seconds once as it starts: a cold start on a machine at load 100."""
    where = root / "slowstart"
    where.mkdir()
    (where / "sitecustomize.py").write_text(textwrap.dedent(f"""\
        import os, time
        run = os.environ.get("PREFECT__FLOW_RUN_ID")
        if run and not os.path.exists({str(where)!r} + "/started-" + run):
            open({str(where)!r} + "/started-" + run, "w").close()
            time.sleep(float(os.environ["MEDIC_TEST_SLOW_START_S"]))
        """))
    return where


def _pending_for(api: Api, run_id: str) -> float:
    """Seconds from the run's first Pending state to its first Running one."""
    states = api.http.get("/flow_run_states/", params={"flow_run_id": run_id}).json()
    first = {t: min(datetime.fromisoformat(s["timestamp"]) for s in states if s["type"] == t)
             for t in ("PENDING", "RUNNING")}
    return (first["RUNNING"] - first["PENDING"]).total_seconds()


def _one_run_each(api: Api, workers: list[subprocess.Popen[bytes]],
                  fleet: subprocess.Popen[str]) -> tuple[tuple[subprocess.Popen[bytes], str], str]:
    """Wait until each worker runs one shard: ((the victim worker, its run), the other run)."""
    deadline = time.monotonic() + 240
    while True:
        running = api.post("/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}).json()
        held = [[r["id"] for r in running if _runs_under(w.pid, r)] for w in workers]
        if all(len(h) == 1 for h in held):
            return (workers[0], held[0][0]), held[1][0]
        assert time.monotonic() < deadline and fleet.poll() is None, (running, held)
        time.sleep(0.5)


def _watch(api: Api, dead: str, live: str, killed_at: float,
           fleet: subprocess.Popen[str]) -> tuple[float, str, float]:
    """Until the dead run is Crashed, its re-run taken (by the slow worker: the live run's is busy) and the live
    run's newest stored heartbeat older than the window: (seconds from the kill to the crash, its message, the
    oldest the live run's newest stored heartbeat got)."""
    crashed_after, message, stalest = -1.0, "", 0.0
    deadline = time.monotonic() + WINDOW_S + 3 * FLUSH_S + 90
    while crashed_after < 0 or stalest <= WINDOW_S + 10 or not _taken_rerun(api, {dead, live}):
        assert time.monotonic() < deadline and fleet.poll() is None, (crashed_after, stalest)
        alive = api.http.get(f"/flow_runs/{live}").json()
        assert alive["state"]["type"] == "RUNNING", alive["state"]  # never taken for dead
        stalest = max(stalest, _stored_heartbeat_age(api, live, alive))
        state = api.http.get(f"/flow_runs/{dead}").json()["state"]
        if crashed_after < 0 and state["type"] == "CRASHED":
            crashed_after, message = time.monotonic() - killed_at, state["message"]
        time.sleep(1)
    return crashed_after, message, stalest


def _taken_rerun(api: Api, known: set[str]) -> bool:
    taken = api.post("/flow_runs/filter", {"flows": {"name": {"any_": ["medic-playbook"]}}, "flow_runs": {
        "state": {"type": {"any_": ["PENDING", "RUNNING"]}}}}).json()
    return any(r["id"] not in known for r in taken)


def _stored_heartbeat_age(api: Api, run_id: str, run: dict[str, Any]) -> float:
    page = api.post("/events/filter", {"filter": {"event": {"name": ["prefect.flow-run.heartbeat"]},
                                                  "resource": {"id": [f"prefect.flow-run.{run_id}"]}},
                                       "limit": 1}).json()
    newest = max((e["occurred"] for e in page["events"]), default=run["start_time"])
    return (datetime.now(UTC) - datetime.fromisoformat(newest)).total_seconds()



def _runs_under(pid: int, run: dict[str, Any]) -> bool:
    """The worker's descendants run it: the worker records the run's process id as its ``infrastructure_pid``."""
    return str(run.get("infrastructure_pid") or "").rsplit(":", 1)[-1] in {str(p) for p in descendants(pid)}
