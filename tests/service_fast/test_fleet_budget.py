"""``medic fleet run --hosts-at-once N`` shares N SSH sessions among the shards: each shard's run carries its part
as a job variable (the env ``MEDIC_SSH_MAX_CONNECTIONS`` of its process), so adding workers does not multiply
the sessions open on the hosts at once (flows.fleet.shard_job_variables)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from prefectsvc import PrefectService

from medic.flows.fleet import SSH_SLOTS_ENV, shard_job_variables

PLAYBOOK = """\
name: budgetprobe
description: One check, for the fleet budget test (its shards are only submitted, never run).
version: 1
targets: [local]
steps:
  - id: load
    check: system.cpu_load
"""


def test_the_budget_is_split_among_the_shards() -> None:
    assert shard_job_variables(0, 8) == {}  # no budget: each shard keeps its own 16
    assert shard_job_variables(32, 8) == {"env": {SSH_SLOTS_ENV: "4"}}
    assert shard_job_variables(10, 4) == {"env": {SSH_SLOTS_ENV: "3"}}  # rounded up: the budget is not starved
    assert shard_job_variables(2, 8) == {"env": {SSH_SLOTS_ENV: "1"}}


def test_each_shard_run_carries_its_share(prefect_service: PrefectService, tmp_path: Path) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "budgetprobe.yaml").write_text(PLAYBOOK)
    (tmp_path / "config.yaml").write_text("{}\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n" + "".join(f"  b{i}: {{address: 127.0.0.{i + 2}}}\n" for i in range(12)))
    env = prefect_service.subprocess_env(MEDIC_PLAYBOOK_PATH=str(tmp_path / "playbooks"),
                                         MEDIC_STATE_DIR=str(tmp_path / "state"),
                                         MEDIC_CONFIG=str(tmp_path / "config.yaml"))

    def medic(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                              env=env, timeout=180, check=False)

    deployed = medic("deploy", "--pool", "budget-pool", "--playbook", "budgetprobe")
    assert deployed.returncode == 0, deployed.stderr
    fleet = medic("fleet", "run", "budgetprobe", "--inventory", str(inventory), "--shards", "4",
                  "--hosts-at-once", "10")  # no --wait: the shards are submitted, no worker takes them
    assert fleet.returncode == 0, fleet.stderr
    http = httpx.Client(base_url=prefect_service.api_url, headers=prefect_service.headers, timeout=30)
    deployment = http.get("/deployments/name/medic-playbook/budgetprobe").json()
    runs = http.post("/flow_runs/filter", json={"deployments": {"id": {"any_": [deployment["id"]]}}}).json()
    shards = [r for r in runs if any(t.startswith("shard:") for t in r["tags"])]
    assert len(shards) == 4
    assert [r["job_variables"] for r in shards] == [{"env": {SSH_SLOTS_ENV: "3"}}] * 4
