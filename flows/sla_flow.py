"""The SLA clocks as a Prefect flow on a schedule: deployment ``medic-sla/clocks``, entrypoint
``medic.flows.sla_flow:sla_clocks``, an interval schedule (``deploy.sla_interval_s`` in the configuration, 60 s
by default; none while the cases plugin is disabled).

``medic deploy`` creates it next to the playbooks' deployments, so the work pool's worker evaluates the clocks
(the same ``tick`` as ``medic sla tick``: warnings, escalations with their handover packet, progress updates,
each sent once); ``medic serve`` serves it from its own process. Each run's result is the tick's lines.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from medic.flows import prefect_env

prefect_env.configure()

FLOW_NAME = "medic-sla"
DEPLOYMENT_NAME = "clocks"
ENTRYPOINT = f"{__name__}:sla_clocks"


@flow(name=FLOW_NAME, log_prints=True, description="Evaluate the SLA clocks of every open case once")
def sla_clocks() -> list[str]:
    from medic.plugins.cases.slacmd import tick_once

    lines = tick_once()
    for line in lines:
        print(line)
    return lines


def interval_s(config: dict[str, Any]) -> int | None:
    """``deploy.sla_interval_s``: seconds between two evaluations; None while the cases plugin is disabled."""
    from medic.kernel.probes import disabled

    if "builtin_cases" in disabled():
        return None
    from medic.plugins.cases.slacmd import clock_interval_s

    return clock_interval_s(config)


def sla_deployment(every_s: int, pool: str | None) -> Any:
    """The RunnerDeployment of the clocks: ``every_s`` seconds, one run at a time (a slow tick is not doubled)."""
    from datetime import timedelta

    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import IntervalSchedule
    from prefect.deployments.runner import EntrypointType, RunnerDeployment

    schedule = DeploymentScheduleCreate(schedule=IntervalSchedule(interval=timedelta(seconds=every_s)),
                                        slug="sla-clocks", active=True)
    deployment = RunnerDeployment.from_flow(sla_clocks, DEPLOYMENT_NAME, schedules=[schedule], concurrency_limit=1,
                                            tags=["medic", "sla"], work_pool_name=pool,
                                            entrypoint_type=EntrypointType.MODULE_PATH,
                                            description=f"medic's SLA clocks, every {every_s} s")
    deployment.entrypoint = ENTRYPOINT
    if pool is None:  # served: as the playbooks' deployments (flows/deploy.py)
        deployment._path = "."
    return deployment
