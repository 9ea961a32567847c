"""core/engine.py piece by piece: results of unreachable and timed-out steps, exit codes, which probe calls are
collected before the run, retries, hooks, halting, and what each skipped or failed step says."""

from __future__ import annotations

import re
import textwrap
import threading
import time
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from engine_helpers import MEM, FakeTarget

from medic.core import playbook
from medic.core.engine import (
    Engine,
    Executor,
    RunResult,
    new_run_id,
    static_probe_calls,
    timed_out,
    timeout_message,
    unreachable_result,
    with_timeout,
)
from medic.core.steps import Step, StepContext, StepKind, StepResult
from medic.kernel.errors import TargetError
from medic.kernel.models import Category, Finding, ProbeCall, Severity, Status
from medic.kernel.registry import Origin, Registry


class Boom(StepKind):
    name = "boom"
    description = "raises"

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        raise ValueError(f"broken {step.arg}")


class Halting(StepKind):
    name = "halt"
    description = "errors and halts its sequence"
    halts_on_error = True

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        return StepResult(step.id, step.kind, ctx.target.name, Status.ERROR, step.label, error="halted")


class Sleepy(StepKind):
    """Sleeps its argument in seconds, then passes."""

    name = "sleepy"
    description = "sleeps"
    arg_type = "number"

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        time.sleep(float(step.arg))
        return StepResult(step.id, step.kind, ctx.target.name, Status.PASS, step.label)


class Flaky(StepKind):
    """Errors until its n-th attempt (its argument)."""

    name = "flaky"
    description = "errors until attempt N"
    arg_type = "int"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        self.calls += 1
        status = Status.PASS if self.calls >= int(step.arg) else Status.ERROR
        return StepResult(step.id, step.kind, ctx.target.name, status, step.label)


@pytest.fixture
def reg(registry):  # type: ignore[no-untyped-def]
    """The built-in registry plus test step kinds (a copy: the session's registry stays as it is)."""
    out = Registry()
    for kind, table in registry.tables.items():
        out.tables[kind].entries = dict(table.entries)
    for kind in (Boom(), Halting(), Flaky(), Sleepy()):
        out.register("step_kinds", kind, Origin("tests"))
    return out


def load(reg: Registry, text: str) -> playbook.Playbook:
    return playbook.loads(textwrap.dedent(text), reg, "t.yaml")


class Hooks:
    """Records the lifecycle hook calls the engine makes (the pluggy relay's interface)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def before_step(self, step: Step, target: Any, run_id: str) -> None:
        self.calls.append(("before", step.id))

    def after_step(self, step: Step, target: Any, result: StepResult, run_id: str) -> None:
        self.calls.append(("after", f"{step.id}:{result.status}"))

    def on_step_error(self, step: Step, target: Any, error: BaseException, run_id: str) -> None:
        self.calls.append(("error", f"{step.id}:{error}"))

    def on_run_end(self, run: RunResult) -> None:
        self.calls.append(("end", run.run_id))


# -- pure helpers ------------------------------------------------------------------------------------------------

def test_unreachable_result_is_one_high_network_error() -> None:
    result = unreachable_result(FakeTarget({}), "connection refused")
    assert (result.step, result.kind, result.target, result.status, result.title, result.error) == (
        "target", "target", "fixture", Status.ERROR, "Target reachable", "connection refused")
    [finding] = result.findings
    assert (finding.check, finding.target, finding.status, finding.severity, finding.category, finding.summary,
            finding.step) == ("target.reachable", "fixture", Status.ERROR, Severity.HIGH, Category.NETWORK,
                              "connection refused", "target")
    assert finding.remediation == ("Check the host is up, its address and port, the network path and its SSH "
                                   "host key (medic hosts list; medic hosts trust HOST).")


def test_run_ids_sort_by_time_and_are_unique() -> None:
    ids = [new_run_id() for _ in range(50)]
    assert all(re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", i) for i in ids), ids
    assert len(set(ids)) == 50
    assert ids[0][:8] == datetime.now(UTC).strftime("%Y%m%d")


def test_timeout_message_and_result() -> None:
    step = Step(id="s", kind="check", arg="system.memory", timeout=2.5)
    assert timeout_message(step) == "timed out after 2.5 s"
    assert timeout_message(Step(id="s", kind="check", arg="x", timeout=3.0)) == "timed out after 3 s"
    result = timed_out(step, FakeTarget({}))
    assert (result.status, result.error, result.duration_s) == (Status.ERROR, "timed out after 2.5 s", 2.5)
    [finding] = result.findings
    assert (finding.check, finding.summary) == ("system.memory", "timed out after 2.5 s")


def test_with_timeout_returns_raises_or_gives_up_at_the_deadline() -> None:
    target = FakeTarget({})
    quick = Step(id="q", kind="check", arg="x", timeout=5)
    done = StepResult("q", "check", "fixture", Status.PASS)
    assert with_timeout(quick, target, lambda: done) is done
    assert with_timeout(Step(id="n", kind="check", arg="x"), target, lambda: done) is done

    def bad() -> StepResult:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        with_timeout(quick, target, bad)
    slow = Step(id="slow", kind="check", arg="x", timeout=0.2)
    release = threading.Event()
    started = time.monotonic()
    result = with_timeout(slow, target, lambda: (release.wait(10), done)[1])
    elapsed = time.monotonic() - started
    release.set()
    assert (result.status, result.error) == (Status.ERROR, "timed out after 0.2 s")
    assert elapsed < 5  # gave up at the deadline, did not wait for the work


def finding(check: str, status: Status) -> Finding:
    return Finding(check, "t", status, Severity.LOW, Category.SOFTWARE, "s")


def run_result(*statuses: Status, check: str = "c") -> RunResult:
    now = datetime.now(UTC)
    results = [StepResult("s", "check", "t", s, findings=[finding(check, s)]) for s in statuses]
    return RunResult("r", "p", "p.yaml", {}, [], {"t": results}, now, now + timedelta(seconds=1.5))


@pytest.mark.parametrize(("statuses", "status", "exit_code", "checked"), [
    ((Status.PASS,), Status.PASS, 0, True),
    ((Status.PASS, Status.WARN), Status.WARN, 0, True),
    ((Status.PASS, Status.FAIL, Status.ERROR), Status.FAIL, 1, True),
    ((Status.ERROR,), Status.ERROR, 3, False),
    ((Status.SKIPPED,), Status.SKIPPED, 3, False),
    ((), Status.SKIPPED, 3, False),
    ((Status.WARN, Status.SKIPPED), Status.WARN, 0, True),
])
def test_run_status_exit_code_and_checked(statuses: tuple[Status, ...], status: Status, exit_code: int,
                                          checked: bool) -> None:
    result = run_result(*statuses)
    assert (result.status, result.exit_code, result.checked) == (status, exit_code, checked)
    assert result.duration_s == 1.5


def test_an_unreachable_target_wins_over_a_failed_check() -> None:
    result = run_result(Status.FAIL)
    result.results["down"] = [unreachable_result(FakeTarget({}), "refused")]
    assert result.exit_code == 3
    assert run_result(Status.ERROR, check="target.reachable").exit_code == 3
    assert run_result(Status.PASS, check="target.reachable").exit_code == 0


def test_counts_has_every_status_and_counts_children() -> None:
    result = run_result(Status.PASS, Status.PASS, Status.FAIL)
    child = StepResult("c", "check", "t", Status.WARN, findings=[finding("c", Status.WARN)])
    result.results["t"][0].children.append(child)
    assert result.counts() == {"pass": 2, "warn": 1, "fail": 1, "error": 0, "skipped": 0}
    assert len(result.findings()) == 4


# -- what is collected before the run ----------------------------------------------------------------------------

def calls_of(reg: Registry, text: str, inputs: dict[str, Any] | None = None, *, timed: bool = True) -> list[str]:
    pb = load(reg, text)
    scope = {"inputs": pb.bind_inputs(inputs or {}), "target": {}, "steps": {}}
    return [str(c) for c in static_probe_calls(pb.steps, reg, scope, timed=timed)]


def test_static_calls_leave_out_false_conditions_later_results_and_bad_expressions(reg: Registry) -> None:
    text = """
        name: t
        inputs: {deep: {type: bool, default: false}, path: {default: /}}
        steps:
          - {id: mem, check: system.memory}
          - {id: deep, check: system.cpu_load, when: inputs.deep}
          - {id: later, check: system.uptime, when: "steps.mem.status == 'fail'"}
          - {id: bad, check: system.uptime, when: "int(inputs.path) > 1"}
          - {id: disk, check: system.disk_space, with: {mounts: ["{{ inputs.path }}"]}}
          - id: g
            group: G
            when: "not inputs.deep"
            become: sudo
            steps:
              - {id: sshd, check: security.ssh_hardening}
    """
    got = calls_of(reg, text)
    assert got[0] == "memory"
    assert "cpu_load" not in got and "uptime" not in got
    assert got[1] == 'disk_usage{"paths":["/"]}', got  # rendered from the input
    assert got[-1].endswith("(become: sudo)"), got
    deep = calls_of(reg, text, {"deep": True})
    assert "cpu_load" in deep and not any(c.endswith("(become: sudo)") for c in deep)


def test_static_calls_leave_out_parameters_from_earlier_steps_and_timed_steps_when_asked(reg: Registry) -> None:
    text = """
        name: t
        steps:
          - {id: mem, check: system.memory}
          - {id: disk, check: system.disk_space, with: {mounts: ["{{ steps.mem.status }}"]}}
          - {id: up, check: system.uptime, timeout: 5}
          - id: g
            group: G
            timeout: 5
            steps:
              - {id: load, check: system.cpu_load}
    """
    assert calls_of(reg, text) == ["memory", "uptime", "cpu_load"]  # not disk_usage: it needs mem's result
    assert calls_of(reg, text, timed=False) == ["memory", "cpu_load"]


def test_prefetch_collects_every_static_call_in_one_batch(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        steps:
          - {id: mem, check: system.memory}
          - {id: up, check: system.uptime}
    """)
    target = FakeTarget({"memory": MEM})
    Engine(reg).prefetch(pb, [target], {})
    assert target.batches == [["memory", "uptime"]]


def test_an_unreachable_target_is_one_finding_and_the_others_go_on(reg: Registry) -> None:
    class Down(FakeTarget):
        def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, Any]:
            raise TargetError("web9: connection refused")

    pb = load(reg, "name: t\nsteps:\n  - {id: mem, check: system.memory}\n")
    down, up = Down({}), FakeTarget({"memory": MEM})
    down.name = "web9"
    result = Engine(reg).run(pb, [down, up], {})
    [unreachable] = result.results["web9"]
    assert (unreachable.step, unreachable.error) == ("target", "web9: connection refused")
    assert result.results["fixture"][0].status == Status.PASS
    assert result.exit_code == 3
    assert [t["name"] for t in result.targets] == ["web9", "fixture"]


# -- running steps -----------------------------------------------------------------------------------------------

def test_a_raising_step_kind_is_an_error_and_hooks_see_everything(reg: Registry) -> None:
    hooks = Hooks()
    pb = load(reg, """
        name: t
        steps:
          - {id: b, boom: thing}
          - {id: mem, check: system.memory}
    """)
    result = Engine(reg, hooks).run(pb, [FakeTarget({"memory": MEM})], {}, run_id="run-1")
    first, second = result.results["fixture"]
    assert (first.status, first.error) == (Status.ERROR, "ValueError: broken thing")
    assert first.findings[0].check == "step.b"
    assert second.status == Status.PASS  # a diagnostic error does not stop the checklist
    assert hooks.calls == [("before", "b"), ("error", "b:broken thing"), ("after", "b:error"),
                           ("before", "mem"), ("after", "mem:pass"), ("end", "run-1")]
    assert result.run_id == "run-1" and result.playbook == "t" and result.source == "t.yaml"
    assert first.duration_s >= 0 and second.attempts == 1


def test_a_halting_error_skips_the_rest_unless_it_continues_on_error(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        steps:
          - {id: h, halt: x}
          - {id: mem, check: system.memory}
    """)
    result = Engine(reg).run(pb, [FakeTarget({"memory": MEM})], {})
    halted, skipped = result.results["fixture"]
    assert halted.error == "halted"
    assert (skipped.status, skipped.error) == (
        Status.SKIPPED, "not run: an earlier step failed and does not continue_on_error")
    goes_on = load(reg, """
        name: t
        steps:
          - {id: h, halt: x, continue_on_error: true}
          - {id: mem, check: system.memory}
    """)
    assert Engine(reg).run(goes_on, [FakeTarget({"memory": MEM})], {}).results["fixture"][1].status == Status.PASS
    stops = load(reg, """
        name: t
        steps:
          - {id: b, boom: x, continue_on_error: false}
          - {id: mem, check: system.memory}
    """)
    assert Engine(reg).run(stops, [FakeTarget({"memory": MEM})], {}).results["fixture"][1].status == Status.SKIPPED


def test_conditions_false_or_failing_say_so(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        inputs: {n: {default: abc}}
        steps:
          - {id: skip, check: system.memory, when: "false"}
          - {id: bad, check: system.memory, when: "int(inputs.n) > 1"}
    """)
    off, bad = Engine(reg).run(pb, [FakeTarget({"memory": MEM})], {}).results["fixture"]
    assert (off.status, off.error, off.findings) == (Status.SKIPPED, "condition is false: false", [])
    assert bad.status == Status.ERROR and bad.error is not None and bad.error.startswith("when: ")


def test_retries_rerun_an_error_until_it_passes_or_attempts_run_out(reg: Registry) -> None:
    flaky: Flaky = reg.step_kinds["flaky"]
    pb = load(reg, "name: t\nsteps:\n  - {id: f, flaky: 3, retries: 2}\n")
    [result] = Engine(reg).run(pb, [FakeTarget({})], {}).results["fixture"]
    assert (result.status, result.attempts, flaky.calls) == (Status.PASS, 3, 3)
    flaky.calls = 0
    pb = load(reg, "name: t\nsteps:\n  - {id: f, flaky: 5, retries: 1}\n")
    [result] = Engine(reg).run(pb, [FakeTarget({})], {}).results["fixture"]
    assert (result.status, result.attempts, flaky.calls) == (Status.ERROR, 2, 2)


def test_a_timed_out_step_is_reported_to_hooks_once(reg: Registry) -> None:
    hooks = Hooks()
    pb = load(reg, "name: t\nsteps:\n  - {id: nap, sleepy: 3, timeout: 0.3}\n")
    result = Engine(reg, hooks).run(pb, [FakeTarget({})], {})
    [step] = result.results["fixture"]
    assert step.error == "timed out after 0.3 s"
    assert [c for c in hooks.calls if c[0] == "after"] == [("after", "nap:error")]


def test_map_targets_keeps_order_and_runs_in_parallel() -> None:
    seen: list[str] = []
    gate = threading.Barrier(3, timeout=10)

    def work(target: Any) -> list[StepResult]:
        gate.wait()  # all three at once, or this times out
        seen.append(target.name)
        return [StepResult("s", "check", target.name, Status.PASS)]

    targets = []
    for name in ("a", "b", "c"):
        t = FakeTarget({})
        t.name = name
        targets.append(t)
    out = Executor(max_workers=3).map_targets(targets, work)
    assert [rs[0].target for rs in out] == ["a", "b", "c"]
    assert sorted(seen) == ["a", "b", "c"]
    single = Executor().map_targets(targets[:1], lambda t: [StepResult("s", "check", t.name, Status.PASS)])
    assert single[0][0].target == "a"
    assert Executor().max_workers == 16 and Executor().approver is None


def test_inputs_are_bound_before_the_run(reg: Registry) -> None:
    pb = load(reg, "name: t\ninputs: {n: {type: int, default: 1}}\nsteps:\n  - {id: mem, check: system.memory}\n")
    result = Engine(reg).run(pb, [FakeTarget({"memory": MEM})], {"n": "7"}, options={"o": 1})
    assert result.inputs == {"n": 7} and result.options == {"o": 1}
    assert deepcopy(result.counts())["pass"] == 1
