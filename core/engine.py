"""The engine: run a validated playbook on targets, step by step, through an executor.

The engine owns ordering, ``when``, templating, hooks and turning exceptions into ``error`` results. An
:class:`Executor` owns *how* a leaf step runs: inline here, or as a Prefect task with its retries in
``medic.flows``; both run a step that has a timeout under a deadline (``medic.core.deadline``) that stops its
work. Nothing in this module imports Prefect.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from medic.core import expr, template
from medic.core.deadline import Deadline, expired
from medic.core.playbook import Playbook
from medic.core.steps import Approver, Step, StepContext, StepResult, error_result
from medic.core.target import Target
from medic.kernel.errors import EXIT_FINDINGS_FAILED, EXIT_INTERNAL, EXIT_OK, TargetError
from medic.kernel.futures import map_threads
from medic.kernel.models import Category, Finding, ProbeCall, Severity, Status, worst_status
from medic.kernel.registry import Registry

LeafFn = Callable[[], StepResult]
VERDICTS = (Status.PASS, Status.WARN, Status.FAIL)


class Executor:
    """Runs leaf steps (with timeout and retries) and fans out over targets. This one runs in-process.

    ``approver``: the approval channel this way of running offers to ``approve`` steps (``StepContext.approver``);
    none here, so they ask on the terminal.
    """

    def __init__(self, max_workers: int = 16, approver: Approver | None = None) -> None:
        self.max_workers = max_workers
        self.approver = approver

    def run_leaf(self, step: Step, target: Target, fn: LeafFn) -> StepResult:
        attempts = 0
        while True:
            attempts += 1
            result = with_timeout(step, target, fn)
            if result.status != Status.ERROR or attempts > step.retries:
                result.attempts = attempts
                return result

    def map_targets(self, targets: Sequence[Target], fn: Callable[[Target], list[StepResult]]
                    ) -> list[list[StepResult]]:
        return map_threads(fn, targets, min(self.max_workers, len(targets)))


def with_timeout(step: Step, target: Target, fn: LeafFn) -> StepResult:
    """Run ``fn`` under the step's deadline: at the timeout the deadline stops what the step started (the local
    target's probe processes) and the step reports ``error`` at once. The worker is a daemon thread, never joined
    at exit; a context copy carries the deadline (and a Prefect task's context) into it."""
    if step.timeout is None:
        return fn()
    deadline = Deadline()
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        deadline.activate()
        try:
            box["result"] = fn()
        except BaseException as exc:  # re-raised in the caller, as if fn had run there
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True,
                     name=f"step-{step.id}").start()
    if not done.wait(step.timeout):
        deadline.expire()
        return timed_out(step, target)
    if "error" in box:
        raise box["error"]
    result: StepResult = box["result"]
    return result


def timeout_message(step: Step) -> str:
    return f"timed out after {step.timeout or 0:g} s"


def timed_out(step: Step, target: Target) -> StepResult:
    result = error_result(step, target, timeout_message(step))
    result.duration_s = step.timeout or 0.0
    return result


@dataclass
class RunResult:
    """One run of a playbook: its id, inputs, targets, each target's step results and times."""
    run_id: str
    playbook: str
    source: str
    inputs: dict[str, Any]
    targets: list[dict[str, Any]]
    results: dict[str, list[StepResult]]  # target name -> top-level step results in order
    started: datetime
    finished: datetime
    options: dict[str, Any] = field(default_factory=dict)
    # the command's wall time when the run ended (Python's start, plugins, Prefect's server...): set by the CLI
    wall_s: float | None = None

    def findings(self) -> list[Finding]:
        return [f for rs in self.results.values() for r in rs for f in r.all_findings()]

    def counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in Status}
        for f in self.findings():
            counts[str(f.status)] += 1
        return counts

    @property
    def status(self) -> Status:
        """The worst finding's status; ``skipped`` when there is none (nothing was checked)."""
        return worst_status([f.status for f in self.findings()])

    @property
    def checked(self) -> bool:
        """True when at least one check gave a verdict (pass, warn or fail); errors and skips are no verdict."""
        return any(f.status in VERDICTS for f in self.findings())

    @property
    def exit_code(self) -> int:
        """1 when a check failed; 3 when a target could not be reached at all (the run is incomplete) or no
        check gave a verdict (only errors, or nothing evaluated): that is not a success."""
        findings = self.findings()
        if any(f.check == "target.reachable" and f.status == Status.ERROR for f in findings):
            return EXIT_INTERNAL
        if any(f.status == Status.FAIL for f in findings):
            return EXIT_FINDINGS_FAILED
        return EXIT_OK if self.checked else EXIT_INTERNAL

    @property
    def duration_s(self) -> float:
        return (self.finished - self.started).total_seconds()


class Engine:
    def __init__(self, registry: Registry, hooks: Any = None, executor: Executor | None = None) -> None:
        self.registry = registry
        self.hooks = hooks  # pluggy hook relay, or None in unit tests
        self.executor = executor or Executor()

    def run(self, playbook: Playbook, targets: Sequence[Target], inputs: Mapping[str, Any],
            options: Mapping[str, Any] | None = None, run_id: str | None = None) -> RunResult:
        run_id = run_id or new_run_id()
        bound = playbook.bind_inputs(inputs)
        opts = dict(options or {})
        started = datetime.now(UTC)
        per_target = self.executor.map_targets(
            list(targets), lambda t: self.run_on_target(playbook, t, bound, run_id, opts))
        result = RunResult(run_id, playbook.name, playbook.source, bound, [t.describe() for t in targets],
                           {t.name: rs for t, rs in zip(targets, per_target, strict=True)}, started,
                           datetime.now(UTC), opts)
        if self.hooks is not None:
            self.hooks.on_run_end(run=result)
        return result

    def prefetch(self, playbook: Playbook, targets: Sequence[Target], inputs: Mapping[str, Any]) -> None:
        """Collect every target's statically known probe data now, all targets at once (the CLI does this
        while Prefect is still importing). Errors are left for the run: a target remembers why it failed."""
        bound = playbook.bind_inputs(inputs)

        def one(target: Target) -> None:
            with contextlib.suppress(Exception):  # the run reports it when it reaches this target
                self._prefetch(playbook.steps, target, {"inputs": dict(bound), "target": target.describe(),
                                                        "steps": {}})

        map_threads(one, targets, min(self.executor.max_workers, len(targets)))

    def run_on_target(self, playbook: Playbook, target: Target, inputs: Mapping[str, Any], run_id: str,
                      options: Mapping[str, Any]) -> list[StepResult]:
        scope: dict[str, Any] = {"inputs": dict(inputs), "target": target.describe(), "steps": {}}
        try:
            self._prefetch(playbook.steps, target, scope)
        except TargetError as exc:  # unreachable host (or lost mid-collection): one finding, the others go on
            return [unreachable_result(target, str(exc))]
        except Exception as exc:  # a fault in a target plugin's own code: this target's error, the others go on
            return [unreachable_result(target, f"{target.name}: collecting data failed ({type(exc).__name__}: {exc})")]
        return self._run_steps(playbook.steps, target, scope, run_id, options)

    def _prefetch(self, steps: list[Step], target: Target, scope: Mapping[str, Any]) -> None:
        """Collect, in one batch, every probe call whose parameters are known before the run starts."""
        calls = static_probe_calls(steps, self.registry, scope, timed=not target.deadline_bound)
        if calls:
            target.prefetch(calls)

    def _run_steps(self, steps: list[Step], target: Target, scope: dict[str, Any], run_id: str,
                   options: Mapping[str, Any]) -> list[StepResult]:
        results: list[StepResult] = []
        stop = False
        for step in steps:
            if stop:
                result = StepResult(step.id, step.kind, target.name, Status.SKIPPED, step.label,
                                    error="not run: an earlier step failed and does not continue_on_error")
            else:
                result = self._run_step(step, target, scope, run_id, options)
                halts = (self.registry.step_kinds[step.kind].halts_on_error if step.continue_on_error is None
                         else not step.continue_on_error)
                if result.status == Status.ERROR and halts:
                    stop = True
            scope["steps"][step.id] = result.view()
            results.append(result)
        return results

    def _run_step(self, step: Step, target: Target, scope: dict[str, Any], run_id: str,
                  options: Mapping[str, Any]) -> StepResult:
        if step.when is not None:
            try:
                run_it = bool(expr.evaluate(step.when, scope))
            except expr.ExprError as exc:
                return error_result(step, target, f"when: {exc}")
            if not run_it:
                return StepResult(step.id, step.kind, target.name, Status.SKIPPED, step.label,
                                  error=f"condition is false: {step.when}")
        kind = self.registry.step_kinds[step.kind]
        if not kind.container and (problem := target.become_problem(step.become)):
            return error_result(step, target, problem)

        def run_children(children: list[Step]) -> list[StepResult]:
            return self._run_steps(children, target, scope, run_id, options)

        ctx = StepContext(registry=self.registry, target=target.for_step(step.become), scope=scope,
                          run_steps=run_children, run_id=run_id, options=options, approver=self.executor.approver)

        def leaf() -> StepResult:
            started = time.monotonic()
            if self.hooks is not None:
                self.hooks.before_step(step=step, target=target, run_id=run_id)
            try:
                result = kind.run(step, ctx)
            except Exception as exc:  # a bug or an I/O failure in a step kind: this step errors, the run goes on
                if self.hooks is not None:
                    self.hooks.on_step_error(step=step, target=target, error=exc, run_id=run_id)
                result = error_result(step, target, f"{type(exc).__name__}: {exc}")
            result.duration_s = time.monotonic() - started
            if self.hooks is not None and not expired():  # a timed-out step's late result is not reported
                self.hooks.after_step(step=step, target=target, result=result, run_id=run_id)
            return result

        if kind.container:
            return leaf()
        result = self.executor.run_leaf(step, target, leaf)
        if self.hooks is not None and step.timeout is not None and result.error == timeout_message(step):
            # the timed-out attempt's leaf could not report it
            self.hooks.after_step(step=step, target=target, result=result, run_id=run_id)
        return result


def static_probe_calls(steps: Sequence[Step], registry: Registry, scope: Mapping[str, Any], *,
                       timed: bool = True) -> list[ProbeCall]:
    """Probe calls the steps (and their children) will make, as far as is known before the run starts.

    Steps whose ``when`` is false on the inputs are left out with their children; steps whose parameters or
    condition depend on earlier results are collected when they run. A step's calls carry its ``become``.
    ``timed=False`` leaves out the calls of steps with a ``timeout`` (collected under their deadline instead).
    """
    calls: list[ProbeCall] = []
    for step in steps:
        if not timed and step.timeout is not None and not step.children:
            continue
        if step.when is not None:
            if "steps." in step.when:
                continue
            try:
                if not expr.evaluate(step.when, scope):
                    continue
            except expr.ExprError:
                continue
        if not any("steps." in e for e in template.expressions(step.params)):
            try:
                params = template.render(step.params, scope)
                calls += [c if c.become is not None else c.with_become(step.become)
                          for c in registry.step_kinds[step.kind].probe_calls(step, params, registry)]
            except Exception:  # noqa: S110 - best effort: the step reports bad parameters when it runs
                pass
        calls += static_probe_calls(step.children, registry, scope, timed=timed)
    return list(dict.fromkeys(calls))


def unreachable_result(target: Target, message: str) -> StepResult:
    """A target that could not be reached: one ``target.reachable`` error finding (report.unreachable lists it)."""
    finding = Finding("target.reachable", target.name, Status.ERROR, Severity.HIGH, Category.NETWORK, message,
                      remediation="Check the host is up, its address and port, the network path and its SSH "
                                  "host key (medic hosts list; medic hosts trust HOST).", step="target")
    return StepResult("target", "target", target.name, Status.ERROR, "Target reachable", [finding], error=message)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
