"""Run a playbook as a Prefect flow: a task per leaf step (timeout and retries), or per target for a fleet.

The engine (``medic.core.engine``) keeps ordering, conditions and templating; this module only swaps in an
executor that wraps work in Prefect tasks: one per leaf step and target for a few targets, one per target for
a fleet (more than ``MEDIC_PREFECT_STEP_TASKS_UP_TO``, default 4; steps then keep their timeouts and retries
inline). A step's timeout is medic's own deadline (``medic.core.deadline``) inside the task, which stops the
step's work; Prefect retries a step that reported ``error``. With ``PREFECT_API_URL`` set, runs go to that
server (UI, history, workers); otherwise Prefect starts its temporary local server for the run. On a
configured server, ``approve`` steps pause the flow run and wait for an answer in the UI
(``medic.flows.approval``). The flow (``medic-playbook``) records the playbook, masked inputs and targets as
parameters and tags, publishes the findings and report artifacts and ends Failed when a check failed or a
target was unreachable (``medic.flows.outcome``); the caller still gets the RunResult, so exit codes stay.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import os
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from medic.flows import prefect_env

prefect_env.configure()

from prefect import Flow, tags, task  # noqa: E402 - settings above must be in place before Prefect reads them
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.states import State  # noqa: E402

from medic.core.engine import Engine, Executor, LeafFn, RunResult, new_run_id, with_timeout  # noqa: E402
from medic.core.steps import Step, StepResult, error_result  # noqa: E402
from medic.core.target import Target  # noqa: E402
from medic.flows.approval import approve_in_prefect_ui, server_configured  # noqa: E402
from medic.flows.outcome import FLOW_NAME, final_state, publish, run_parameters, run_tags  # noqa: E402
from medic.kernel import zygote  # noqa: E402
from medic.kernel.models import Status  # noqa: E402


class _Retry(Exception):
    """Raised inside a task so Prefect retries a step whose result is ``error``."""


# Set inside a per-target task: its steps then run inline (thread timeouts, engine retries), not as subtasks.
_IN_TARGET_TASK: contextvars.ContextVar[bool] = contextvars.ContextVar("medic_in_target_task", default=False)
# Up to this many targets each step is its own task; beyond it, a fleet, each target is one task: 50 task runs
# instead of 400 for the server to record and the UI to show (timings: bench/README-ssh.md).
STEP_TASKS_UP_TO = int(os.environ.get("MEDIC_PREFECT_STEP_TASKS_UP_TO", "4"))


def fork_probes_from_zygote(targets: Sequence[Target]) -> None:
    """Where a target runs probes under a step's deadline in processes (the local one), fork them from a small
    process, not from this one (Prefect and medic loaded): each probe child would otherwise count this process's
    ~85 MB again in the run's memory (kernel/zygote.py). Started now, it boots while the flow run is created."""
    if any(t.deadline_bound for t in targets):
        zygote.start()


class PrefectExecutor(Executor):
    def run_leaf(self, step: Step, target: Target, fn: LeafFn) -> StepResult:
        if _IN_TARGET_TASK.get():
            return super().run_leaf(step, target, fn)
        attempts = {"n": 0}
        last: dict[str, StepResult] = {}

        def body() -> StepResult:
            attempts["n"] += 1
            # medic's deadline, not Prefect's timeout_seconds: it stops the step's work (its probe processes)
            # and makes no Prefect error log and traceback
            result = with_timeout(step, target, fn)
            last["result"] = result
            if result.status == Status.ERROR and attempts["n"] <= step.retries:
                raise _Retry(result.error or "step errored")
            return result

        leaf_task = task(name=f"{step.id} @ {target.name}", retries=step.retries, retry_delay_seconds=0,
                         persist_result=False, result_serializer="json", cache_policy=NO_CACHE, log_prints=False)(body)
        state: State[Any] = leaf_task(return_state=True)
        if state.is_completed():
            result: StepResult = state.result()
        else:
            result = last.get("result") or error_result(step, target, f"task failed: {state.message}")
        result.attempts = attempts["n"]
        return result

    def map_targets(self, targets: Sequence[Target], fn: Callable[[Target], list[StepResult]]
                    ) -> list[list[StepResult]]:
        if len(targets) == 1:
            return [fn(targets[0])]
        run_one = fn if len(targets) <= STEP_TASKS_UP_TO else _target_task(fn)
        # each thread runs in a copy of the flow's context so its tasks belong to this flow run
        with cf.ThreadPoolExecutor(max_workers=min(self.max_workers, len(targets))) as pool:
            futures = [pool.submit(contextvars.copy_context().run, run_one, t) for t in targets]
            return [f.result() for f in futures]


def _target_task(fn: Callable[[Target], list[StepResult]]) -> Callable[[Target], list[StepResult]]:
    """Run ``fn(target)`` as one Prefect task named after the target; its steps run inline inside it.

    The task takes no parameters (a closure, as in ``run_leaf``): Prefect would otherwise serialise the target,
    connection and all, into the task run record.
    """

    def run(target: Target) -> list[StepResult]:
        def body() -> list[StepResult]:
            _IN_TARGET_TASK.set(True)
            return fn(target)

        host_task = task(name=f"target {target.name}", persist_result=False, result_serializer="json",
                         cache_policy=NO_CACHE, log_prints=False)(body)
        return host_task()

    return run


P = ParamSpec("P")
R = TypeVar("R")


def _plain_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


class PlainParametersFlow(Flow[P, R]):
    """A flow whose parameters are sent to the server as they are when they already are plain JSON (medic's are:
    names, masked inputs). Prefect encodes each with FastAPI's ``jsonable_encoder``, which imports FastAPI
    into medic's process for that alone: 5 MB of the cold run's memory (bench/README.md) and 0.15 s."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if all(_plain_json(value) for value in parameters.values()):
            return dict(parameters)
        return super().serialize_parameters(parameters)


def run_with_prefect(session: Any, playbook: Any, targets: Sequence[Target], inputs: dict[str, Any],
                     options: dict[str, Any] | None = None) -> RunResult:
    run_id = new_run_id()
    prefect_env.use_temporary_server()  # unless a server is configured; no-op after cli's warm-up
    # on Prefect's temporary server nobody could answer in a UI: approve steps ask on the terminal there
    approver = approve_in_prefect_ui if server_configured() else None
    engine = Engine(session.registry, session.hooks, PrefectExecutor(approver=approver))
    fork_probes_from_zygote(targets)

    holder: dict[str, RunResult] = {}

    # the parameters are what the UI shows (secrets masked); the body uses the real values of this closure
    def medic_playbook(playbook: str, inputs: dict[str, Any], targets: list[str]) -> State[Any]:
        run = holder["run"] = engine.run(playbook_obj, target_list, all_inputs, options, run_id=run_id)
        publish(run)
        return final_state(run)

    playbook_flow = PlainParametersFlow(medic_playbook, name=FLOW_NAME, flow_run_name=run_id, persist_result=False,
                                        result_serializer="json", log_prints=False, validate_parameters=False)

    playbook_obj, target_list, all_inputs = playbook, list(targets), inputs
    names = [t.name for t in targets]
    with tags(*run_tags(playbook.name, names)):
        state = playbook_flow(**run_parameters(playbook.name, inputs, names), return_state=True)
    if "run" not in holder:
        state.result()  # the flow crashed before the run ended: raises its error, as a plain call would
    return holder["run"]
