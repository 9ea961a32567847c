"""``medic fleet run``: one playbook over many inventory hosts, split into shards run by the workers.

A parent flow (``medic-fleet``) splits the hosts into shards (round robin: sizes differ by one at most), starts one
run of the playbook's deployment ``medic-playbook/<playbook>`` per shard with Prefect's ``run_deployment`` (as
sub-flows: the UI shows them under the parent), waits for them, reads each shard's findings from its
``medic-findings`` artifact (JSON), keeps each shard's result as a JSON file (never pickle) in the state
directory, and publishes the aggregated findings and report on the parent. A read-only playbook's shard that
Crashed (its worker died) is started again, at most ``shard_retries`` times; a playbook that changes things is
never re-run: its crashed shard is reported for ``medic recover``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import Completed, Failed, State

from medic.flows.outcome import FINDINGS_KEY, FLOW_NAME, REPORT_KEY

FLEET_FLOW = "medic-fleet"
CHANGING_KINDS = ("action", "rollback", "backup")  # steps that change a host: such a shard is never re-run


def split(hosts: list[str], shards: int) -> list[list[str]]:
    count = max(1, min(shards, len(hosts)))
    return [hosts[i::count] for i in range(count)]


def read_only(playbook: Any) -> bool:
    return not any(step.kind in CHANGING_KINDS for step in playbook.all_steps())


@dataclass
class ShardResult:
    index: int
    hosts: list[str]
    flow_run_id: str
    state: str
    message: str
    attempts: int
    findings: list[dict[str, Any]] = field(default_factory=list)


def shard_findings(flow_run_id: Any) -> list[dict[str, Any]]:
    """The rows of a shard's ``medic-findings`` table artifact (JSON text on the server)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]), key=ArtifactFilterKey(any_=[FINDINGS_KEY])))
    for artifact in artifacts:
        data = artifact.data
        rows = json.loads(data) if isinstance(data, str) else data
        if isinstance(rows, list):
            return [dict(r) for r in rows if isinstance(r, dict)]
    return []


def run_shard(playbook: str, parameters: dict[str, Any], index: int, hosts: list[str], retries: int,
              wait: bool) -> ShardResult:
    from prefect.deployments import run_deployment

    attempts = 0
    while True:
        attempts += 1
        flow_run: Any = run_deployment(f"{FLOW_NAME}/{playbook}", parameters={**parameters, "targets": hosts},
                                  timeout=None if wait else 0, as_subflow=True, tags=[f"shard:{index}"])
        state = flow_run.state
        if wait and state is not None and state.is_crashed() and attempts <= retries:
            continue  # only read-only playbooks get retries > 0 (see fleet_flow)
        findings = shard_findings(flow_run.id) if wait else []
        return ShardResult(index, hosts, str(flow_run.id), state.type.value if state else "UNKNOWN",
                           (state.message or "") if state else "", attempts, findings)


def save(results: list[ShardResult], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for result in results:
        (directory / f"shard-{result.index}.json").write_text(json.dumps(asdict(result), indent=2))


def report(playbook: str, results: list[ShardResult], hosts: list[str]) -> str:
    rows = [row for r in results for row in r.findings]
    out = [f"# Fleet report: {playbook}", "", f"{len(hosts)} host(s) in {len(results)} shard(s).", "",
           "| Shard | State | Attempts | Hosts | Message |", "|---|---|---|---|---|"]
    out += [f"| {r.index} | {r.state} | {r.attempts} | {len(r.hosts)} | {r.message[:200]} |" for r in results]
    out += ["", "## Findings", "", "| Status | Check | Target | Summary |", "|---|---|---|---|"]
    out += [f"| {row.get('status')} | {row.get('check')} | {row.get('target')} | {row.get('summary')} |"
            for row in rows]
    return "\n".join(out) + "\n"


def final(results: list[ShardResult], wait: bool) -> State[Any]:
    if not wait:
        return Completed(message=f"{len(results)} shard run(s) submitted")
    bad = [r for r in results if r.state != "COMPLETED"]
    if not bad:
        return Completed(message=f"{len(results)} shard(s) completed")
    first = bad[0]
    return Failed(message=f"{len(bad)} of {len(results)} shard(s) did not complete; shard {first.index}: "
                          f"{first.state} {first.message}"[:500])


@flow(name=FLEET_FLOW, persist_result=False, log_prints=False, validate_parameters=False)
def fleet_flow(playbook: str, hosts: list[str], shards: int, parameters: dict[str, Any], shard_retries: int,
               retry_allowed: bool, wait: bool, results_dir: str) -> State[Any]:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    parts = split(hosts, shards)
    retries = shard_retries if retry_allowed else 0
    with cf.ThreadPoolExecutor(max_workers=len(parts)) as pool:
        futures = [pool.submit(contextvars.copy_context().run, run_shard, playbook, parameters, i, part, retries,
                               wait) for i, part in enumerate(parts)]
        results = [f.result() for f in futures]
    save(results, Path(results_dir))
    if wait:
        create_table_artifact(table=[row for r in results for row in r.findings], key=FINDINGS_KEY,
                              description=f"medic fleet {playbook}: findings of every shard")
        create_markdown_artifact(markdown=report(playbook, results, hosts), key=REPORT_KEY,
                                 description=f"medic fleet {playbook}: report")
    return final(results, wait)



def load(directory: Path) -> list[ShardResult]:
    """The shard results a fleet run saved (JSON only: nothing read here can run code)."""
    files = sorted(directory.glob("shard-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    return [ShardResult(**json.loads(p.read_text())) for p in files]
