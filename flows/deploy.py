"""``medic deploy``: the work pool, one deployment per playbook, their schedules, and the zombie automation.

Everything is created or updated by name, never duplicated: the process work pool (default ``medic``), the
deployments ``medic-playbook/<playbook>`` (Prefect upserts a deployment by flow and deployment name), their
schedules (by slug: the ``schedules:`` entry's name), the playbooks' ``triggers:`` (flows.triggers; automations
owned by the deployment, replaced on each deploy) and the automation ``medic: crash silent runs`` (by name).
The same deployments, without a pool, are what ``medic serve`` serves.

The zombie window: runs send a heartbeat every ``deploy.heartbeat_s`` seconds (30; ``medic worker`` and
``medic serve`` set Prefect's heartbeat setting to it); a Running run with no heartbeat and no final state for
``deploy.crashed_after_s`` seconds (90) is set Crashed by the automation, so a killed worker does not leave it
Running for ever. Only runs of deployments are watched (``match_related``): a worker or ``medic serve`` runs
them; a flow in a command's own process (``medic fleet run``'s parent, ``medic run --engine prefect``) ends with
that command, and a loaded machine delaying its heartbeats must not have it set Crashed mid-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from medic.core.session import Session
from medic.flows.deployed import entrypoint
from medic.flows.playbook_flow import parameter_schema, playbook_flow
from medic.flows.schedules import ScheduleSpec, parse_schedules, unknown_playbooks
from medic.flows.triggers import TriggerSpec, parse_triggers
from medic.kernel.errors import UsageError

DEFAULT_POOL = "medic"
HEARTBEAT_S = 30
MIN_HEARTBEAT_S = 30  # Prefect refuses PREFECT_FLOWS_HEARTBEAT_FREQUENCY below this
CRASHED_AFTER_S = 90
# How often medic worker / medic serve ask the server for runs to start: a submitted run waits half of it on
# average (Prefect's default, 10 s, is most of a fast-path run); each poll is one request to the server.
POLL_S = 1
AUTOMATION_NAME = "medic: crash silent runs"
FINAL_EVENTS = ("Completed", "Failed", "Cancelled", "Crashed")


@dataclass
class DeploymentSpec:
    playbook: Any  # medic.core.playbook.Playbook
    schedules: list[ScheduleSpec] = field(default_factory=list)
    concurrency: int | None = None
    triggers: list[TriggerSpec] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.playbook.name)

    def tags(self) -> list[str]:
        return ["medic", f"playbook:{self.name}"]

    def to_runner(self, pool: str | None) -> Any:
        """A Prefect RunnerDeployment: module entrypoint, the playbook's parameter schema, its schedules."""
        from prefect.deployments.runner import EntrypointType, RunnerDeployment
        from prefect.utilities.callables import ParameterSchema

        deployment = RunnerDeployment.from_flow(
            playbook_flow(self.playbook), self.name, schedules=[s.to_prefect() for s in self.schedules],
            triggers=[t.to_prefect() for t in self.triggers],
            concurrency_limit=self.concurrency, tags=self.tags(), work_pool_name=pool,
            description=self.playbook.description or f"medic playbook {self.name}",
            entrypoint_type=EntrypointType.MODULE_PATH)
        deployment.entrypoint = entrypoint(self.name)
        if pool is None:  # served: the runner "downloads" the code from this path; "." is a no-op copy
            deployment._path = "."
        deployment._parameter_openapi_schema = ParameterSchema(**parameter_schema(self.playbook))
        return deployment


@dataclass
class Plan:
    pool: str | None
    deployments: list[DeploymentSpec]
    heartbeat_s: int = HEARTBEAT_S
    crashed_after_s: int = CRASHED_AFTER_S
    sla_every_s: int | None = None  # the SLA clocks' deployment (flows/sla_flow.py), or none

    def runners(self) -> list[Any]:
        """Every RunnerDeployment of the plan: the playbooks', then the SLA clocks'."""
        out = [d.to_runner(self.pool) for d in self.deployments]
        if self.sla_every_s:
            from medic.flows.sla_flow import sla_deployment

            out.append(sla_deployment(self.sla_every_s, self.pool))
        return out

    def lines(self) -> list[str]:
        out = [f"work pool {self.pool} (process): create if missing"] if self.pool else []
        for d in self.deployments:
            inputs = ", ".join(d.playbook.inputs) or "no inputs"
            limit = f", at most {d.concurrency} at once" if d.concurrency else ""
            out.append(f"deployment medic-playbook/{d.name}: create or update (parameters: {inputs}, targets, "
                       f"inventory; tags {', '.join(d.tags())}{limit})")
            out += [f"  {s.describe()}" for s in d.schedules]
            out += [f"  {t.describe()}" for t in d.triggers]
        if self.sla_every_s:
            out.append(f"deployment medic-sla/clocks: create or update (the SLA clocks, every {self.sla_every_s} s, "
                       "one run at a time)")
        out.append(f"automation {AUTOMATION_NAME!r}: ensure it exists (a run silent {self.crashed_after_s} s "
                   f"after its last heartbeat, every {self.heartbeat_s} s, is set Crashed)")
        return out


def settings(config: dict[str, Any]) -> dict[str, int]:
    """The ``deploy:`` keys with their defaults; the zombie window must be longer than a heartbeat's period."""
    deploy = config.get("deploy") or {}
    out = {"concurrency": int(deploy.get("concurrency", 0)),
           "heartbeat_s": int(deploy.get("heartbeat_s", HEARTBEAT_S)),
           "crashed_after_s": int(deploy.get("crashed_after_s", CRASHED_AFTER_S)),
           "poll_s": int(deploy.get("poll_s", POLL_S))}  # whole seconds: Prefect's runner takes no less
    if out["heartbeat_s"] < MIN_HEARTBEAT_S:
        raise UsageError(f"deploy.heartbeat_s: {out['heartbeat_s']} is below Prefect's minimum of {MIN_HEARTBEAT_S} s")
    if out["crashed_after_s"] <= out["heartbeat_s"]:
        raise UsageError(f"deploy.crashed_after_s: {out['crashed_after_s']} s must be longer than deploy.heartbeat_s "
                         f"({out['heartbeat_s']} s), or healthy runs would be set Crashed between two heartbeats")
    return out


def plan(session: Session, names: list[str], pool: str | None) -> Plan:
    """What to deploy: the named playbooks, or every packaged and configured one (``medic playbooks list``)."""
    from medic.core import catalog

    known = [ref.name for ref in catalog.all_playbooks(session.config)]
    missing = unknown_playbooks(session.config, set(known))
    if missing:
        raise UsageError(f"schedules: unknown playbook in {', '.join(missing)}; known: {', '.join(known)}")
    playbooks = {}
    for name in names or known:
        pb = session.load_playbook(name)
        if "." in pb.name or ":" in pb.name:
            raise UsageError(f"playbook {pb.name!r}: a deployed playbook's name cannot contain '.' or ':'")
        playbooks[pb.name] = pb
    schedules = parse_schedules(session.config, playbooks)
    opts = settings(session.config)
    deployments = [DeploymentSpec(pb, [s for s in schedules if s.playbook == name], opts["concurrency"] or None,
                                  parse_triggers(pb)) for name, pb in playbooks.items()]
    for d in deployments:
        parameter_schema(d.playbook)  # refuses an input that cannot be a parameter before anything is sent
    from medic.flows.sla_flow import interval_s

    return Plan(pool, deployments, opts["heartbeat_s"], opts["crashed_after_s"], interval_s(session.config))


def ensure_pool(client: Any, pool: str) -> None:
    """Create the process work pool ``pool`` when missing; refuse one of another type."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    try:
        existing = client.read_work_pool(pool)
    except ObjectNotFound:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process",
                                               base_job_template=ProcessWorker.get_default_base_job_template()))
        return
    if existing.type != "process":
        raise UsageError(f"work pool {pool!r} exists with type {existing.type!r}; medic needs a process pool "
                         f"(choose another with --pool)")


def zombie_automation(heartbeat_s: int, crashed_after_s: int) -> Any:
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    return AutomationCore(
        name=AUTOMATION_NAME,
        description=f"medic: a flow run that sent no heartbeat (every {heartbeat_s} s) and reached no final "
                    f"state for {crashed_after_s} s after its last one is set Crashed",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{s}" for s in FINAL_EVENTS)},
            match={"prefect.resource.id": ["prefect.flow-run.*"]}, for_each={"prefect.resource.id"},
            match_related={"prefect.resource.role": "deployment"},
            posture=Posture.Proactive, threshold=1, within=timedelta(seconds=crashed_after_s)),
        actions=[ChangeFlowRunState(name=None, state=StateType.CRASHED, force=False,
                                    message=f"no heartbeat for {crashed_after_s} s: the worker or the run's "
                                            f"process died (set Crashed by medic's automation)")],
    )


def ensure_automation(client: Any, heartbeat_s: int, crashed_after_s: int) -> None:
    wanted = zombie_automation(heartbeat_s, crashed_after_s)
    existing = client.read_automations_by_name(AUTOMATION_NAME)
    if existing:
        client.update_automation(existing[0].id, wanted)
        for extra in existing[1:]:  # a race of two deploys: keep one
            client.delete_automation(extra.id)
    else:
        client.create_automation(wanted)


def apply(the_plan: Plan) -> list[str]:
    """Send the plan to the server named by PREFECT_API_URL; return one line per object made or updated."""
    from prefect.client.orchestration import get_client

    from medic.flows.service_errors import server_errors

    done = []
    with server_errors(), get_client(sync_client=True) as client:
        if the_plan.pool:
            ensure_pool(client, the_plan.pool)
            done.append(f"work pool {the_plan.pool}: ready")
        for runner in the_plan.runners():
            deployment_id = runner.apply(work_pool_name=the_plan.pool)
            done.append(f"deployment {runner.flow_name}/{runner.name}: {deployment_id}")
        ensure_automation(client, the_plan.heartbeat_s, the_plan.crashed_after_s)
        done.append(f"automation {AUTOMATION_NAME!r}: ready")
    return done

