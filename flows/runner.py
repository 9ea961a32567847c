"""Run a playbook as a Prefect flow: each leaf step on each target is a task with the step's timeout and retries.

The engine (``medic.core.engine``) keeps ordering, conditions and templating; this module only swaps in an
executor that wraps each leaf step in a Prefect task. With ``PREFECT_API_URL`` set, runs go to that server (UI,
history, workers); otherwise Prefect starts its temporary local server for the run.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
from collections.abc import Callable, Sequence
from typing import Any

from medic.flows import prefect_env

prefect_env.configure()

from prefect import flow, task  # noqa: E402 - settings above must be in place before Prefect reads them
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.states import State  # noqa: E402

from medic.core.engine import Engine, Executor, LeafFn, RunResult, new_run_id  # noqa: E402
from medic.core.models import Status  # noqa: E402
from medic.core.steps import Step, StepResult, error_result  # noqa: E402
from medic.core.target import Target  # noqa: E402


class _Retry(Exception):
    """Raised inside a task so Prefect retries a step whose result is ``error``."""


class PrefectExecutor(Executor):
    def run_leaf(self, step: Step, target: Target, fn: LeafFn) -> StepResult:
        attempts = {"n": 0}
        last: dict[str, StepResult] = {}

        def body() -> StepResult:
            attempts["n"] += 1
            result = fn()
            last["result"] = result
            if result.status == Status.ERROR and attempts["n"] <= step.retries:
                raise _Retry(result.error or "step errored")
            return result

        leaf_task = task(name=f"{step.id} @ {target.name}", retries=step.retries, retry_delay_seconds=0,
                         timeout_seconds=step.timeout, persist_result=False, cache_policy=NO_CACHE,
                         log_prints=False)(body)
        state: State[Any] = leaf_task(return_state=True)
        if state.is_completed():
            result: StepResult = state.result()
        elif state.name == "TimedOut" or "TimeoutError" in str(state.message):
            result = error_result(step, target, f"timed out after {step.timeout:g} s")
        else:
            result = last.get("result") or error_result(step, target, f"task failed: {state.message}")
        result.attempts = attempts["n"]
        return result

    def map_targets(self, targets: Sequence[Target], fn: Callable[[Target], list[StepResult]]
                    ) -> list[list[StepResult]]:
        if len(targets) == 1:
            return [fn(targets[0])]
        # each thread runs in a copy of the flow's context so its tasks belong to this flow run
        with cf.ThreadPoolExecutor(max_workers=min(self.max_workers, len(targets))) as pool:
            futures = [pool.submit(contextvars.copy_context().run, fn, t) for t in targets]
            return [f.result() for f in futures]


def run_with_prefect(session: Any, playbook: Any, targets: Sequence[Target], inputs: dict[str, Any],
                     options: dict[str, Any] | None = None) -> RunResult:
    run_id = new_run_id()
    engine = Engine(session.registry, session.hooks, PrefectExecutor())

    @flow(name=f"medic-{playbook.name}", flow_run_name=run_id, persist_result=False, log_prints=False,
          validate_parameters=False)
    def medic_playbook() -> RunResult:
        return engine.run(playbook, targets, inputs, options, run_id=run_id)

    result: RunResult = medic_playbook()
    return result
