"""What the engine hands each step and each hook (run id, options, approver, the target as the step's ``become``
sees it, the expression scope), what a skipped or refused step says whole, the run's clock, how many targets run
at once, and which probe calls are collected before the run."""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from engine_helpers import MEM, FakeTarget

from medic.core import playbook
from medic.core.engine import Engine, Executor, RunResult, new_run_id, static_probe_calls
from medic.core.steps import Step, StepContext, StepKind, StepResult
from medic.core.target import BecomeView
from medic.kernel.errors import TargetError
from medic.kernel.models import ProbeCall, Status
from medic.kernel.registry import Origin, Registry

APPROVER = object()  # the executor's approval channel: handed to every step as it is


class Record(StepKind):
    """Passes, and records what its context held."""

    name = "record"
    description = "records its context"

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        become = ctx.target.become if isinstance(ctx.target, BecomeView) else "as set up"
        self.seen.append((step.id, ctx.run_id, dict(ctx.options), ctx.approver is APPROVER, ctx.target.name,
                          become, ctx.scope["target"]["name"], sorted(ctx.scope["steps"])))
        return StepResult(step.id, step.kind, ctx.target.name, Status.PASS, step.label)


class Raise(StepKind):
    name = "raise"
    description = "raises"

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        raise RuntimeError(f"no {step.arg}")


class Nap(StepKind):
    """Sleeps its argument in seconds, then passes."""

    name = "nap"
    description = "sleeps"
    arg_type = "number"

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        time.sleep(float(step.arg))
        return StepResult(step.id, step.kind, ctx.target.name, Status.PASS, step.label)


class Pinned(StepKind):
    """Declares one probe call that runs with sudo whatever the step says, and one that follows the step."""

    name = "pinned"
    description = "declares its own become"

    def probe_calls(self, step: Step, params: dict[str, Any], registry: Registry) -> list[ProbeCall]:
        return [ProbeCall("memory", become=True), ProbeCall("uptime")]

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        return StepResult(step.id, step.kind, ctx.target.name, Status.PASS, step.label)


class NoSudo(FakeTarget):
    """A target set up without privilege escalation."""

    def become_problem(self, become: bool | None) -> str | None:
        return "sudo is not set up for fixture" if become else None


class DeadlineBound(FakeTarget):
    """Like the local target: collects a timed step's data under the step's deadline, not before the run."""

    deadline_bound = True


class Hooks:
    """Records every hook call with the target and run id it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, Any]] = []

    def before_step(self, step: Step, target: Any, run_id: str) -> None:
        self.calls.append(("before", step.id, getattr(target, "name", None), run_id))

    def after_step(self, step: Step, target: Any, result: StepResult, run_id: str) -> None:
        self.calls.append(("after", f"{step.id}:{result.status}", getattr(target, "name", None), run_id))

    def on_step_error(self, step: Step, target: Any, error: BaseException, run_id: str) -> None:
        self.calls.append(("error", f"{step.id}:{error}", getattr(target, "name", None), run_id))

    def on_run_end(self, run: RunResult) -> None:
        self.calls.append(("end", run.playbook, None, run.run_id))


@pytest.fixture
def reg(registry: Registry) -> Registry:
    """The built-in registry plus this file's step kinds (a copy: the session's registry stays as it is)."""
    out = Registry()
    for kind, table in registry.tables.items():
        out.tables[kind].entries = dict(table.entries)
    for step_kind in (Record(), Raise(), Nap(), Pinned()):
        out.register("step_kinds", step_kind, Origin("tests"))
    return out


def load(reg: Registry, text: str) -> playbook.Playbook:
    return playbook.loads(textwrap.dedent(text), reg, "t.yaml")


def named(target: FakeTarget, name: str) -> FakeTarget:
    target.name = name
    return target


# -- what a step and a hook are given ----------------------------------------------------------------------------

def test_steps_and_children_get_the_run_id_options_approver_target_and_scope(reg: Registry) -> None:
    hooks = Hooks()
    pb = load(reg, """
        name: ctx
        steps:
          - id: g
            group: Phase
            steps:
              - {id: a, record: x}
              - {id: b, record: x, become: sudo, when: "target.name == 'web1'"}
              - {id: c, raise: disk}
    """)
    before = datetime.now(UTC)
    result = Engine(reg, hooks, Executor(approver=APPROVER)).run(
        pb, [named(FakeTarget({}), "web1")], {}, options={"check_mode": True}, run_id="run-7")
    after = datetime.now(UTC)
    record: Record = reg.step_kinds["record"]
    assert record.seen == [
        ("a", "run-7", {"check_mode": True}, True, "web1", "as set up", "web1", []),
        ("b", "run-7", {"check_mode": True}, True, "web1", True, "web1", ["a"]),
    ]
    [group] = result.results["web1"]
    assert [(c.step, c.status, c.error) for c in group.children] == [
        ("a", Status.PASS, None), ("b", Status.PASS, None), ("c", Status.ERROR, "RuntimeError: no disk")]
    assert hooks.calls == [
        ("before", "g", "web1", "run-7"),
        ("before", "a", "web1", "run-7"), ("after", "a:pass", "web1", "run-7"),
        ("before", "b", "web1", "run-7"), ("after", "b:pass", "web1", "run-7"),
        ("before", "c", "web1", "run-7"), ("error", "c:no disk", "web1", "run-7"),
        ("after", "c:error", "web1", "run-7"),
        ("after", "g:error", "web1", "run-7"),
        ("end", "ctx", None, "run-7"),
    ]
    assert before <= result.started <= result.finished <= after  # aware UTC times, in order
    assert result.started.tzinfo is UTC and result.finished.tzinfo is UTC


def test_a_timed_out_step_is_reported_to_hooks_with_its_target_and_run(reg: Registry) -> None:
    hooks = Hooks()
    pb = load(reg, "name: t\nsteps:\n  - {id: slow, nap: 5, timeout: 0.2}\n")
    [result] = Engine(reg, hooks).run(pb, [named(FakeTarget({}), "web2")], {}, run_id="run-8").results["web2"]
    assert (result.status, result.error) == (Status.ERROR, "timed out after 0.2 s")
    assert [c for c in hooks.calls if c[0] == "after"] == [("after", "slow:error", "web2", "run-8")]


def test_a_step_s_duration_is_its_own_time_within_the_run(reg: Registry) -> None:
    pb = load(reg, "name: t\nsteps:\n  - {id: n, nap: 0.05}\n")
    started = time.monotonic()
    [result] = Engine(reg).run(pb, [FakeTarget({})], {}).results["fixture"]
    elapsed = time.monotonic() - started
    assert 0.05 <= result.duration_s <= elapsed


def test_the_worker_of_a_timed_step_is_a_daemon_thread_named_after_the_step(reg: Registry) -> None:
    """A step stuck past its timeout must not keep medic from exiting; a stack dump names the step."""
    seen: list[tuple[str, bool]] = []

    class Where(StepKind):
        name = "where"
        description = "records its thread"

        def run(self, step: Step, ctx: StepContext) -> StepResult:
            seen.append((threading.current_thread().name, threading.current_thread().daemon))
            return StepResult(step.id, step.kind, ctx.target.name, Status.PASS, step.label)

    reg.register("step_kinds", Where(), Origin("tests"))
    pb = load(reg, "name: t\nsteps:\n  - {id: w, where: x, timeout: 10}\n")
    Engine(reg).run(pb, [FakeTarget({})], {})
    assert seen == [("step-w", True)]


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """The machine's local time zone set to UTC+14 for the test (the process-wide setting is put back)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "Pacific/Kiritimati")
        time.tzset()
        try:
            yield
        finally:
            mp.undo()
            time.tzset()


@pytest.mark.usefixtures("far_from_utc")
def test_run_ids_are_in_utc_whatever_the_local_time_zone() -> None:
    assert time.localtime().tm_gmtoff == 14 * 3600
    run_id = new_run_id()
    stamp = datetime.strptime(run_id.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 3600  # 14 hours off if it were local time


# -- what a skipped or refused step says -------------------------------------------------------------------------

def test_skipped_steps_say_which_step_kind_target_and_title(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        steps:
          - {id: quiet, title: Memory, check: system.memory, when: "false"}
          - {id: c, raise: x, continue_on_error: false}
          - {id: later, title: Later, record: x}
    """)
    quiet, _, later = Engine(reg).run(pb, [named(FakeTarget({"memory": MEM}), "db1")], {}).results["db1"]
    assert (quiet.step, quiet.kind, quiet.target, quiet.status, quiet.title, quiet.error) == (
        "quiet", "check", "db1", Status.SKIPPED, "Memory", "condition is false: false")
    assert (later.step, later.kind, later.target, later.status, later.title, later.error) == (
        "later", "record", "db1", Status.SKIPPED, "Later",
        "not run: an earlier step failed and does not continue_on_error")


def test_a_step_asking_for_sudo_where_there_is_none_errors_and_its_group_does_not(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        steps:
          - {id: a, record: x, become: sudo}
          - id: g
            group: G
            become: sudo
            steps:
              - {id: b, record: x, become: false}
    """)
    a, g = Engine(reg).run(pb, [named(NoSudo({}), "db2")], {}).results["db2"]
    assert (a.step, a.kind, a.target, a.status, a.error) == (
        "a", "record", "db2", Status.ERROR, "sudo is not set up for fixture")
    [finding] = a.findings
    assert (finding.check, finding.target, finding.summary) == ("step.a", "db2", "sudo is not set up for fixture")
    assert (g.status, [c.status for c in g.children]) == (Status.PASS, [Status.PASS])
    record: Record = reg.step_kinds["record"]
    assert [s[0] for s in record.seen] == ["b"]


# -- how many targets at once ------------------------------------------------------------------------------------

class Meeting:
    """Two targets that are worked on at the same time meet here; one at a time, they never do."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=0.5)
        self.met: list[bool] = []

    def arrive(self) -> None:
        try:
            self.barrier.wait()
            self.met.append(True)
        except threading.BrokenBarrierError:
            self.met.append(False)


def test_map_targets_runs_no_more_targets_at_once_than_its_workers() -> None:
    meeting = Meeting()

    def work(target: Any) -> list[StepResult]:
        meeting.arrive()
        return [StepResult("s", "check", target.name, Status.PASS)]

    targets = [named(FakeTarget({}), n) for n in ("a", "b")]
    out = Executor(max_workers=1).map_targets(targets, work)
    assert [rs[0].target for rs in out] == ["a", "b"] and meeting.met == [False, False]


def test_prefetch_runs_no_more_targets_at_once_than_the_executor_s_workers(reg: Registry) -> None:
    meeting = Meeting()

    class Meets(FakeTarget):
        def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, Any]:
            meeting.arrive()
            return super()._collect(calls)

    pb = load(reg, "name: t\nsteps:\n  - {id: mem, check: system.memory}\n")
    targets = [named(Meets({"memory": MEM}), n) for n in ("a", "b")]
    Engine(reg, executor=Executor(max_workers=1)).prefetch(pb, targets, {})
    assert meeting.met == [False, False]
    both = Meeting()
    meeting.met, meeting.barrier = both.met, both.barrier
    Engine(reg, executor=Executor(max_workers=2)).prefetch(pb, [named(Meets({"memory": MEM}), n) for n in "cd"], {})
    assert both.met == [True, True]


# -- what is collected before the run ----------------------------------------------------------------------------

def test_prefetch_renders_inputs_and_target_and_leaves_a_failing_target_for_the_run(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        inputs: {path: {default: /}}
        steps:
          - {id: disk, check: system.disk_space, with: {mounts: ["{{ inputs.path }}"]}}
          - {id: web, check: system.memory, when: "target.name == 'web1'"}
          - {id: up, check: system.uptime, timeout: 5}
    """)
    web, db = named(FakeTarget({}), "web1"), named(FakeTarget({}), "db1")
    Engine(reg).prefetch(pb, [web, db], {"path": "/srv"})
    assert web.batches == [['disk_usage{"paths":["/srv"]}', "memory", "uptime"]]
    assert db.batches == [['disk_usage{"paths":["/srv"]}', "uptime"]]
    bound = named(DeadlineBound({}), "web1")  # collects the timed step under its deadline instead
    Engine(reg).prefetch(pb, [bound], {"path": "/srv"})
    assert bound.batches == [['disk_usage{"paths":["/srv"]}', "memory"]]

    class Down(FakeTarget):
        def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, Any]:
            raise TargetError("db9: connection reset")

    down = named(Down({}), "db9")
    Engine(reg).prefetch(pb, [down], {})  # no exception: the run reports this target when it reaches it
    [unreachable] = Engine(reg).run(pb, [down], {}).results["db9"]
    assert (unreachable.step, unreachable.status, unreachable.error) == (
        "target", Status.ERROR, "db9: connection reset")

    class Buggy(FakeTarget):  # a third-party target whose own code fails: that target's error, the others go on
        def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, Any]:
            raise KeyError("hostname")

    run = Engine(reg).run(pb, [named(Buggy({}), "odd1"), named(FakeTarget({}), "web2")], {})
    [buggy] = run.results["odd1"]
    assert (buggy.step, buggy.status, buggy.error) == (
        "target", Status.ERROR, "odd1: collecting data failed (KeyError: 'hostname')")
    assert [r.step for r in run.results["web2"]] == [s.id for s in pb.steps]


def test_static_calls_leave_out_anything_that_mentions_an_earlier_step(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        inputs: {deep: {type: bool, default: true}, path: {default: /}}
        steps:
          - {id: mem, check: system.memory}
          - {id: up, check: system.uptime, when: "inputs.deep or steps.mem.status == 'fail'"}
          - {id: disk, check: system.disk_space, with: {mounts: ["{{ inputs.path or steps.mem.status }}"]}}
    """)
    scope = {"inputs": pb.bind_inputs({}), "target": {}, "steps": {}}
    assert [str(c) for c in static_probe_calls(pb.steps, reg, scope)] == ["memory"]


def test_static_calls_keep_a_call_s_own_become_and_follow_timed_into_children(reg: Registry) -> None:
    pb = load(reg, """
        name: t
        inputs: {deep: {type: bool, default: true}}
        steps:
          - {id: p, pinned: x, become: false}
          - {id: slow, check: system.memory, timeout: 5}
          - id: g
            group: G
            steps:
              - {id: load, check: system.cpu_load, timeout: 5}
              - {id: deep, check: system.disk_space, when: inputs.deep}
    """)
    scope = {"inputs": pb.bind_inputs({}), "target": {}, "steps": {}}
    every = [str(c) for c in static_probe_calls(pb.steps, reg, scope)]  # timed is the default
    assert every == ["memory (become: sudo)", "uptime (become: false)", "memory", "cpu_load", "disk_usage"]
    untimed = [str(c) for c in static_probe_calls(pb.steps, reg, scope, timed=False)]
    assert untimed == ["memory (become: sudo)", "uptime (become: false)", "disk_usage"]
