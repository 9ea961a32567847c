"""``medic fleet run``: one playbook over many inventory hosts, split into shards run by the workers.

A parent flow (``medic-fleet``) splits the hosts into shards (round robin: sizes differ by one at most), starts one
run of the playbook's deployment ``medic-playbook/<playbook>`` per shard with Prefect's ``run_deployment`` (as
sub-flows: the UI shows them under the parent), follows them (flows.shard_watch: a shard silent for the zombie
window is set Crashed), reads each shard's findings from its ``medic-findings`` artifact (JSON), keeps each
shard's result as a JSON file (never pickle; read back by flows.results) in the state directory, and publishes
the aggregated findings and report on the parent. A read-only playbook's shard that Crashed (its worker died) is
started again, at most ``shard_retries`` times, and only its last attempt's findings count; a playbook that
changes things is never re-run: its crashed shard is flagged for ``medic recover`` (``ShardResult.recover``).
With no live worker (nobody polls the deployment: every worker died, or none was started) the fleet still ends:
its waiting shards are Cancelled after the zombie window and nothing is re-run (flows.shard_watch).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import Completed, Failed, State

from medic.flows.outcome import FINDINGS_KEY, FLOW_NAME, REPORT_KEY
from medic.flows.store_clock import StoreClock

FLEET_FLOW = "medic-fleet"
SSH_SLOTS_ENV = "MEDIC_SSH_MAX_CONNECTIONS"  # a run's SSH connections at once (plugins/ssh/connection.py)
CHANGING_KINDS = ("action", "rollback", "backup")  # steps that change a host: such a shard is never re-run


def split(hosts: list[str], shards: int) -> list[list[str]]:
    count = max(1, min(shards, len(hosts)))
    return [hosts[i::count] for i in range(count)]


def shard_job_variables(hosts_at_once: int, shards: int) -> dict[str, Any]:
    """The job variables that share ``hosts_at_once`` SSH sessions among the shards (0: each shard its own 16).

    Why a fleet-wide budget: the hosts' side grows with the sessions open at once, not only with the hosts (on
    the 2-core bench machine 8 shards x 16 sessions cost the hosts' sshd twice the CPU per host of 2 x 16,
    bench/README-fleet.md); a shared budget keeps that constant as workers are added, like Ansible's forks."""
    if hosts_at_once <= 0:
        return {}
    return {"env": {SSH_SLOTS_ENV: str(max(1, -(-hosts_at_once // max(1, shards))))}}


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
    recover: bool = False  # a changing playbook's shard crashed: its hosts need ``medic recover``, not a re-run


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


def run_shard(playbook: str, parameters: dict[str, Any], index: int, hosts: list[str], retries: int | None,
              wait: bool, silent_after_s: float, clock: StoreClock, job_variables: dict[str, Any]) -> ShardResult:
    """Start the shard's run; with ``wait`` follow it (shard_watch) and start it again while it Crashed and
    retries are left; ``retries`` None: a changing playbook, never re-run, a crash is flagged for ``medic recover``.
    Only the final attempt's findings count: each host is reported once."""
    from prefect.deployments import run_deployment

    from medic.flows.shard_watch import follow, last_sign_of_life, nobody_polls, patiently

    attempts, since = 0, datetime.now(UTC)
    while True:
        attempts += 1
        flow_run: Any = patiently(run_deployment, f"{FLOW_NAME}/{playbook}", timeout=0, as_subflow=True,
                                  parameters={**parameters, "targets": hosts}, tags=[f"shard:{index}"],
                                  job_variables=job_variables or None)
        if not wait:
            return ShardResult(index, hosts, str(flow_run.id), "SCHEDULED", "", attempts)
        state = follow(flow_run.id, silent_after_s, since, clock)
        message = state.message or ""
        if state.is_crashed() and retries is not None and attempts <= retries:
            if not nobody_polls(flow_run.id, silent_after_s):
                since = last_sign_of_life(flow_run.id)  # a re-run nobody takes ends by the dead one's window
                continue
            message += "; not re-run: no worker polls its deployment"
        recover = state.is_crashed() and retries is None
        if recover:
            message = (f"{message}; a crashed run of a playbook that changes hosts is never re-run: run "
                       f"`medic recover` where it ran (worker), then check its hosts").lstrip("; ")
        return ShardResult(index, hosts, str(flow_run.id), state.type.value, message, attempts,
                           patiently(shard_findings, flow_run.id), recover)


def save(results: list[ShardResult], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for result in results:
        (directory / f"shard-{result.index}.json").write_text(json.dumps(asdict(result), indent=2))


def report(playbook: str, results: list[ShardResult], hosts: list[str]) -> str:
    rows = [row for r in results for row in r.findings]
    out = [f"# Fleet report: {playbook}", "", f"{len(hosts)} host(s) in {len(results)} shard(s).", "",
           "| Shard | State | Attempts | Hosts | Message |", "|---|---|---|---|---|"]
    out += [f"| {r.index} | {r.state} | {r.attempts} | {len(r.hosts)} | {r.message[:200]} |" for r in results]
    flagged = [r for r in results if r.recover]
    if flagged:
        out += ["", "## Needs `medic recover`", ""]
        out += [f"- shard {r.index} ({', '.join(r.hosts)}): {r.message}" for r in flagged]
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


@flow(name=FLEET_FLOW, persist_result=False, result_serializer="json", log_prints=False, validate_parameters=False)
def fleet_flow(playbook: str, hosts: list[str], shards: int, parameters: dict[str, Any], shard_retries: int,
               retry_allowed: bool, wait: bool, results_dir: str, silent_after_s: float,
               hosts_at_once: int = 0) -> State[Any]:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    parts = split(hosts, shards)
    retries = shard_retries if retry_allowed else None
    clock = StoreClock()  # one stream of probes for every shard's watch
    job_variables = shard_job_variables(hosts_at_once, len(parts))
    with cf.ThreadPoolExecutor(max_workers=len(parts)) as pool:
        futures = [pool.submit(contextvars.copy_context().run, run_shard, playbook, parameters, i, part, retries,
                               wait, silent_after_s, clock, job_variables) for i, part in enumerate(parts)]
        results = [f.result() for f in futures]
    save(results, Path(results_dir))
    if wait:
        create_table_artifact(table=[row for r in results for row in r.findings], key=FINDINGS_KEY,
                              description=f"medic fleet {playbook}: findings of every shard")
        create_markdown_artifact(markdown=report(playbook, results, hosts), key=REPORT_KEY,
                                 description=f"medic fleet {playbook}: report")
    return final(results, wait)


def load(directory: Path) -> list[ShardResult]:
    """The shard results a fleet run saved, read as JSON only (flows.results): nothing read here can run code."""
    from medic.flows.results import ResultRefused, read

    files = sorted(directory.glob("shard-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    out = []
    for path in files:
        value = read(path)
        try:
            out.append(ShardResult(**value))
        except TypeError:
            raise ResultRefused(f"result {path}: not a medic shard result") from None
    return out
