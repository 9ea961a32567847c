"""When a worker dies mid-run: the fleet parent re-runs a read-only playbook's shards, never a changing one's.

Real parts: the session's Prefect server, ``medic deploy`` (zombie window shortened to 35 s for the test through
``deploy.crashed_after_s``; Prefect's heartbeat cannot go below 30 s), two ``medic worker`` subprocesses of 3 runs
each, six loopback OpenSSH hosts (one sshd listening on 127.0.3.1-6). Two fleet runs go at once: a read-only
playbook on 4 shards and a changing one on 2; every shard run waits on its hosts for a release file. Once a worker
runs a changing shard and a read-only one, that worker is SIGKILLed with its process group and its descendants'
groups (Prefect starts each flow run in its own session: killing the worker's group alone leaves the run alive
and it completes, prefect#16746). Then:

- the release file is created; the read-only fleet ends 0 with every host exactly once in its report, a shard run
  a second time, within the zombie window plus the re-run's time (plus polling slack) after the kill;
- the changing fleet's crashed shard is not re-run: flagged for ``medic recover`` and notified on the channel;
- ``medic deploy`` installed the zombie automation with the window from the configuration (read back by API);
- a fleet whose only worker is killed (nobody polls its deployments) ends with exit 3 within the window plus
  polling slack after the kill: running shards Crashed, a waiting one Cancelled, nothing re-run, one line naming
  them, the changing shard flagged for ``medic recover``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefectsvc import Api, PrefectService, medic
from proctree import descendants, kill_everything_under
from sshlab import SshLab

WINDOW_S = 35
SLEEPY = """\
    name: {name}
    description: Sleeps on each host, then passes.
    inputs:
      release: {{type: string, description: the run waits on its hosts until this file exists}}
    targets: [local]
    steps:
      - id: sleepy
        title: The host sleeps then answers
        verify: change.command_succeeds
        timeout: 170
        with: {{argv: [sh, -c, "while [ ! -e '{{{{ inputs.release }}}}' ]; do sleep 0.2; done"]}}
"""
CHANGING = SLEEPY + """\
      - id: never
        title: An action that never runs (it makes the playbook a changing one)
        action: restart_service
        when: inputs.release == ""
        with: {{name: nothing}}
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Six loopback hosts (tests/sshlab.py): ``ro`` the first four, ``rw`` the last two; short SSH timeouts."""
    lab = SshLab.start(tmp_path_factory.mktemp("deathlab"), 6, prefix="127.0.3")
    inventory = json.loads(lab.inventory.read_text())
    inventory["defaults"].update(connect_timeout=5, command_timeout=120)
    inventory["groups"] = {"ro": {"hosts": lab.hosts[:4]}, "rw": {"hosts": lab.hosts[4:]}}
    lab.inventory.write_text(json.dumps(inventory))
    try:
        yield {"root": lab.root, "hosts": lab.hosts}
    finally:
        lab.stop()




def _flow_run_ids(pid: int, runs: list[dict[str, Any]]) -> set[str]:
    """The flow runs a worker's descendants run: the worker records each run's process id on the server as the
    run's ``infrastructure_pid`` (a warm worker's run is forked: its /proc environ is its forkserver's)."""
    mine = {str(child) for child in descendants(pid)}
    return {r["id"] for r in runs if str(r.get("infrastructure_pid") or "").rsplit(":", 1)[-1] in mine}



@pytest.fixture(scope="module")
def site(prefect_service: PrefectService, lab: dict[str, Any],
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("death")
    (base / "books").mkdir()
    (base / "books" / "fleet-slow.yaml").write_text(textwrap.dedent(SLEEPY.format(name="fleet-slow")))
    (base / "books" / "fleet-change.yaml").write_text(textwrap.dedent(CHANGING.format(name="fleet-change")))
    (base / "config.yaml").write_text(f"playbook_paths: [{base / 'books'}]\n"
                                      f"deploy: {{heartbeat_s: 30, crashed_after_s: {WINDOW_S}}}\n")
    env = prefect_service.subprocess_env(MEDIC_CONFIG=str(base / "config.yaml"), XDG_STATE_HOME=str(base / "state"),
                                         XDG_CONFIG_HOME=str(base / "cfg"), PREFECT_WORKER_QUERY_SECONDS="1")
    out = medic(env, "deploy", "--pool", "death", "--playbook", "fleet-slow", "--playbook", "fleet-change")
    assert out.returncode == 0, out.stderr
    # each worker with a warm fork server of its own (flows.fork_server), as on machines of their own: killing
    # everything under one worker kills its runs, not the other's
    workers = [subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "death", "--limit",
                                 "3"], env={**env, "MEDIC_FORKSERVER_GROUP": f"death-{i}"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
               for i in range(2)]
    yield {"base": base, "env": env, "api": Api(prefect_service), "workers": workers}
    for w in workers:
        if w.poll() is None:
            kill_everything_under(w.pid)
        w.wait(timeout=30)


def test_deploy_installs_the_zombie_automation_with_the_configured_window(site: dict[str, Any]) -> None:
    [automation] = [a for a in site["api"].post("/automations/filter", {}).json()
                    if a["name"] == "medic: crash silent runs"]
    trigger = automation["trigger"]
    assert trigger["posture"] == "Proactive" and trigger["within"] == WINDOW_S
    assert trigger["after"] == ["prefect.flow-run.heartbeat"] and "prefect.flow-run.Completed" in trigger["expect"]
    assert trigger["match_related"] in ({"prefect.resource.role": "deployment"},
                                        [{"prefect.resource.role": "deployment"}])  # worker and serve runs only
    assert automation["actions"][0]["type"] == "change-flow-run-state"
    assert automation["actions"][0]["state"] == "CRASHED"


def test_a_dead_worker_costs_a_retry_of_read_only_shards_and_flags_changing_ones(site: dict[str, Any],
                                                                               lab: dict[str, Any]) -> None:
    api: Api = site["api"]
    inventory = str(lab["root"] / "inventory.yaml")
    notes = site["base"] / "notes.jsonl"
    release = site["base"] / "release"
    common = ["--inventory", inventory, "--wait", "-i", f"release={release}"]
    ro = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "fleet", "run", "fleet-slow", "--target", "ro",
                           "--shards", "4", *common], env=site["env"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    rw = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "fleet", "run", "fleet-change", "--target",
                           "rw", "--shards", "2", "--notify", f"file:{notes}", *common], env=site["env"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    changing, slow = api.deployment("fleet-change")["id"], api.deployment("fleet-slow")["id"]
    deadline = time.monotonic() + 180
    while True:  # a worker runs a changing shard and a read-only one: that worker dies
        running = api.post("/flow_runs/filter", {"flow_runs": {
            "state": {"type": {"any_": ["RUNNING"]}}, "deployment_id": {"any_": [changing, slow]}}}).json()
        kinds = {r["id"]: r["deployment_id"] for r in running}
        held = {w.pid: _flow_run_ids(w.pid, running) for w in site["workers"]}
        victims = [w for w in site["workers"] if {kinds[i] for i in held[w.pid]} == {changing, slow}]
        if victims:
            break
        assert time.monotonic() < deadline and ro.poll() is None and rw.poll() is None, (running, held)
        time.sleep(0.5)
    victim = victims[0]
    kill_everything_under(victim.pid)
    killed_at = time.monotonic()
    release.touch()  # the survivors finish; the re-runs of the dead worker's shards do not wait
    ro_out, ro_err = ro.communicate(timeout=240)
    ended_after = time.monotonic() - killed_at
    rw_out, rw_err = rw.communicate(timeout=120)

    assert ro.returncode == 0, (ro_out, ro_err)
    assert "2 attempt(s)" in ro_out, ro_out  # the victim's read-only shard died and ran again
    results_dir = Path(ro_err.split("shard results in ")[1].split()[0])
    shards = [json.loads(p.read_text()) for p in sorted(results_dir.glob("shard-*.json"))]
    assert sorted(row["target"] for s in shards for row in s["findings"]) == lab["hosts"][:4]
    rerun = max(api.wait(s["flow_run_id"])["total_run_time"] for s in shards if s["attempts"] > 1)
    # the zombie window, the re-run's own time, and the slack of polling (worker 1 s, parent 2 s, process start-up)
    assert ended_after <= WINDOW_S + rerun + 45, (ended_after, rerun)
    print(f"fleet ended {ended_after:.1f} s after the kill; zombie window {WINDOW_S} s, re-run {rerun:.1f} s")

    assert rw.returncode == 3, (rw_out, rw_err)
    crashed = [s for s in (json.loads(p.read_text()) for p in
                           Path(rw_err.split("shard results in ")[1].split()[0]).glob("shard-*.json"))
               if s["state"] == "CRASHED"]
    assert crashed and all(s["recover"] and s["attempts"] == 1 for s in crashed), rw_out
    assert "medic recover" in rw_out
    [note] = [json.loads(line) for line in notes.read_text().splitlines()]
    assert note["data"]["needs_recover"][0]["hosts"] == crashed[0]["hosts"]


@pytest.fixture(scope="module")
def lone(prefect_service: PrefectService, site: dict[str, Any],
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Playbooks of their own on a pool of their own, with one worker (2 runs at once) that the test kills."""
    base = tmp_path_factory.mktemp("lone")
    (base / "books").mkdir()
    (base / "books" / "lone-slow.yaml").write_text(textwrap.dedent(SLEEPY.format(name="lone-slow")))
    (base / "books" / "lone-change.yaml").write_text(textwrap.dedent(CHANGING.format(name="lone-change")))
    (base / "config.yaml").write_text(f"playbook_paths: [{base / 'books'}]\n"
                                      f"deploy: {{heartbeat_s: 30, crashed_after_s: {WINDOW_S}}}\n")
    env = {**site["env"], "MEDIC_CONFIG": str(base / "config.yaml"), "XDG_STATE_HOME": str(base / "state")}
    out = medic(env, "deploy", "--pool", "lone", "--playbook", "lone-slow", "--playbook", "lone-change")
    assert out.returncode == 0, out.stderr
    worker = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "lone", "--limit", "2"],
                              env={**env, "MEDIC_FORKSERVER_GROUP": "lone"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # its own fork server, as above
    yield {"base": base, "env": env, "worker": worker}
    if worker.poll() is None:
        kill_everything_under(worker.pid)
    worker.wait(timeout=30)


def _runs(api: Api, deployment_ids: list[str], states: list[str]) -> list[dict[str, Any]]:
    return list(api.post("/flow_runs/filter", {"flow_runs": {
        "state": {"type": {"any_": states}}, "deployment_id": {"any_": deployment_ids}}}).json())


def test_a_fleet_whose_only_worker_died_ends_after_the_zombie_window(lone: dict[str, Any], site: dict[str, Any],
                                                                    lab: dict[str, Any]) -> None:
    """The one worker runs a changing shard and a read-only one; the read-only fleet's other shard waits
    Scheduled (the worker's limit). SIGKILL: nobody polls any more. Both fleets end with exit 3 about the window
    after the kill: the silent runs Crashed, the waiting one Cancelled, nothing re-run, one line naming them."""
    api: Api = site["api"]
    notes = lone["base"] / "notes.jsonl"
    common = ["--inventory", str(lab["root"] / "inventory.yaml"), "--wait", "-i",
              f"release={lone['base'] / 'never'}"]
    changing, slow = api.deployment("lone-change")["id"], api.deployment("lone-slow")["id"]

    def fleet(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "medic.cli.main", "fleet", "run", *args, *common],
                                env=lone["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def until(what: str, test: Any) -> None:
        deadline = time.monotonic() + 180
        while not test():
            assert time.monotonic() < deadline and lone["worker"].poll() is None, what
            time.sleep(0.5)

    rw = fleet("lone-change", "--target", "rw", "--shards", "1", "--notify", f"file:{notes}")
    until("the changing shard runs", lambda: _runs(api, [changing], ["RUNNING"]))
    ro = fleet("lone-slow", "--target", "ro", "--shards", "2")
    until("a read-only shard runs, the other waits",
          lambda: _runs(api, [slow], ["RUNNING"]) and _runs(api, [slow], ["SCHEDULED"]))
    kill_everything_under(lone["worker"].pid)
    killed_at = time.monotonic()
    ro_out, ro_err = ro.communicate(timeout=WINDOW_S * 4 + 60)
    ro_after = time.monotonic() - killed_at
    rw_out, rw_err = rw.communicate(timeout=60)
    rw_after = time.monotonic() - killed_at
    print(f"after the kill: read-only fleet ended in {ro_after:.1f} s, changing one in {rw_after:.1f} s "
          f"(zombie window {WINDOW_S} s)")

    assert ro.returncode == 3 and rw.returncode == 3, (ro_out, ro_err, rw_out, rw_err)
    # the window, the parent's 2 s poll, the server's own slowness under load: never a second window
    assert ro_after <= WINDOW_S + 25 and rw_after <= WINDOW_S + 25, (ro_after, rw_after)
    line = ro_err.strip().splitlines()[-1]
    assert line.startswith("medic: fleet lone-slow: 2 of 2 shard(s) did not complete (no live worker"), line
    assert "CANCELLED" in line and all(h in line for h in lab["hosts"][:4]), line
    assert not _runs(api, [slow, changing], ["SCHEDULED", "PENDING", "RUNNING"])  # nothing left waiting
    ended = {r["state"]["type"] for r in _runs(api, [slow], ["CRASHED", "CANCELLED"])}
    assert ended == {"CRASHED", "CANCELLED"}, ended
    [shard] = [json.loads(p.read_text()) for p in
               Path(rw_err.split("shard results in ")[1].split()[0]).glob("shard-*.json")]
    assert shard["state"] == "CRASHED" and shard["recover"] and shard["attempts"] == 1, shard
    assert "needs medic recover" in rw_err.strip().splitlines()[-1] and "medic recover" in rw_out
    [note] = [json.loads(line) for line in notes.read_text().splitlines()]
    assert note["data"]["needs_recover"][0]["hosts"] == lab["hosts"][4:]
