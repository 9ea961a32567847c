from __future__ import annotations

import textwrap
import threading
import time
from typing import Any

from engine_helpers import MEM, FakeTarget

from medic.core import playbook
from medic.core.engine import Engine
from medic.core.target import Target
from medic.kernel.models import ProbeCall, ProbeResult, Status

LOW_MEM = {**MEM, "available_pct": 2.0}


def run(registry, text: str, target: Target, inputs: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    pb = playbook.loads(textwrap.dedent(text), registry, "t.yaml")
    return Engine(registry).run(pb, [target], inputs or {})


def test_when_conditions_see_inputs_and_earlier_results(registry) -> None:  # type: ignore[no-untyped-def]
    res = run(registry, """
        name: t
        inputs: {deep: {type: bool, default: false}}
        steps:
          - {id: mem, check: system.memory}
          - {id: again, check: system.memory, when: "steps.mem.status == 'fail'"}
          - {id: deep, check: system.memory, when: inputs.deep}
    """, FakeTarget({"memory": LOW_MEM}))
    statuses = [r.status for r in res.results["fixture"]]
    assert statuses == [Status.FAIL, Status.FAIL, Status.SKIPPED]
    assert res.exit_code == 1


def test_probe_failure_and_missing_data_become_findings(registry) -> None:  # type: ignore[no-untyped-def]
    res = run(registry, """
        name: t
        steps:
          - {id: mem, check: system.memory}
          - {id: load, check: system.cpu_load}
          - {id: up, check: system.uptime}
    """, FakeTarget({"memory": RuntimeError("boom"), "cpu_load": {"unexpected": "shape"}}))
    by_step = {f.step: f for f in res.findings()}
    assert by_step["mem"].status == Status.ERROR and "boom" in by_step["mem"].summary
    assert by_step["load"].status == Status.ERROR
    assert "probe data 'load' is malformed: no field 'load5_per_cpu'" in by_step["load"].summary
    assert by_step["up"].status == Status.SKIPPED
    assert res.exit_code == 3 and not res.checked  # errors and skips only: nothing was checked (issue 16 #10)


def test_live_checks_are_skipped_on_collected_data(registry) -> None:  # type: ignore[no-untyped-def]
    res = run(registry, """
        name: t
        steps:
          - {id: tcp, check: network.tcp_connect, with: {host: h, port: 1}}
    """, FakeTarget({}, live=False))
    (finding,) = res.findings()
    assert finding.status == Status.SKIPPED and "live target" in finding.summary


def test_static_probe_calls_are_prefetched_in_one_batch(registry) -> None:  # type: ignore[no-untyped-def]
    target = FakeTarget({"memory": MEM, "cpu_load": {"load1": 0, "load5": 0, "load15": 0, "cpus": 1,
                                                     "load1_per_cpu": 0, "load5_per_cpu": 0,
                                                     "load15_per_cpu": 0}})
    run(registry, """
        name: t
        steps:
          - {id: a, check: system.memory}
          - id: g
            group: G
            steps:
              - {id: b, check: system.cpu_load}
              - {id: c, check: system.memory}
    """, target)
    assert target.batches == [["memory", "cpu_load"]]


def test_templates_render_inputs_into_probe_parameters(registry) -> None:  # type: ignore[no-untyped-def]
    target = FakeTarget({"tcp_connect": {"ok": True, "latency_ms": 1.0, "error": None}})
    res = run(registry, """
        name: t
        inputs: {port: {type: int, default: 8080}}
        steps:
          - {id: tcp, check: network.tcp_connect, with: {host: "db-{{ inputs.port }}", port: "{{ inputs.port }}"}}
    """, target)
    assert res.findings()[0].status == Status.PASS
    assert ProbeCall.make("tcp_connect", host="db-8080", port=8080, timeout=3.0).key in target.batches[0]


def test_timeout_becomes_an_error_finding_and_the_run_goes_on(registry) -> None:  # type: ignore[no-untyped-def]
    load = {"load1": 0.1, "load5": 0.1, "load15": 0.1, "cpus": 2, "load5_per_cpu": 0.05}
    target = FakeTarget({"memory": MEM, "cpu_load": load})
    pb = playbook.loads(textwrap.dedent("""
        name: t
        steps:
          - {id: slow, check: system.memory, timeout: 0.1}
          - {id: next, check: system.cpu_load}
    """), registry, "t.yaml")
    # no prefetch: the first step's own collection is what is stuck, until released after the run
    target.prefetch = lambda calls: None  # type: ignore[method-assign]
    release, collect = threading.Event(), target._collect
    stuck_done = threading.Event()

    def stuck_first(calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        if len(target.batches) == 0:
            target.batches.append([])
            release.wait(60)
            stuck_done.set()
        return collect(calls)

    target._collect = stuck_first  # type: ignore[method-assign]
    try:
        res = Engine(registry).run(pb, [target], {})
        assert not stuck_done.is_set()  # the run ended while the first collection was still stuck
    finally:
        release.set()
    slow, nxt = res.results["fixture"]
    assert slow.status == Status.ERROR and "timed out after 0.1 s" in (slow.error or "")
    assert nxt.status == Status.PASS


def test_retries_rerun_a_step_that_errored(registry) -> None:  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    class Flaky(FakeTarget):
        def collect(self, calls_):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] < 3:
                return {c: ProbeResult(c.probe, c.params, False, None, "transient") for c in calls_}
            return {c: ProbeResult(c.probe, c.params, True, MEM) for c in calls_}

        def prefetch(self, calls_):  # type: ignore[no-untyped-def]
            return None

    res = run(registry, """
        name: t
        steps:
          - {id: m, check: system.memory, retries: 3}
    """, Flaky({}))
    (step,) = res.results["fixture"]
    assert step.status == Status.PASS and step.attempts == 3


def test_continue_on_error_false_stops_the_sequence(registry) -> None:  # type: ignore[no-untyped-def]
    res = run(registry, """
        name: t
        steps:
          - {id: m, check: system.memory, continue_on_error: false}
          - {id: n, check: system.memory}
    """, FakeTarget({"memory": RuntimeError("down")}))
    first, second = res.results["fixture"]
    assert first.status == Status.ERROR
    assert second.status == Status.SKIPPED and "earlier step" in (second.error or "")


def test_hooks_are_called_around_steps(registry) -> None:  # type: ignore[no-untyped-def]
    from medic.core import pluginmanager
    from medic.core.hookspecs import hookimpl

    seen: list[str] = []

    class Recorder:
        @hookimpl
        def before_step(self, step, target, run_id):  # type: ignore[no-untyped-def]
            seen.append(f"before {step.id}")

        @hookimpl
        def after_step(self, step, target, result, run_id):  # type: ignore[no-untyped-def]
            seen.append(f"after {step.id} {result.status}")

        @hookimpl
        def on_run_end(self, run):  # type: ignore[no-untyped-def]
            seen.append(f"end {run.status}")

    host = pluginmanager.load([("recorder", Recorder())])
    pb = playbook.loads("name: t\nsteps:\n  - {id: m, check: system.memory}\n", host.registry, "t.yaml")
    Engine(host.registry, host.hook).run(pb, [FakeTarget({"memory": MEM})], {})
    assert seen == ["before m", "after m pass", "end pass"]


def test_a_plugin_step_kind_runs_and_its_exceptions_become_error_results() -> None:
    """New step kinds come as plugins; an exception in one is reported through on_step_error."""
    from medic.core import pluginmanager
    from medic.core.hookspecs import hookimpl
    from medic.core.steps import Step, StepContext, StepKind, StepResult

    class Echo(StepKind):
        name = "echo"
        extra_keys = ("times",)

        def run(self, step: Step, ctx: StepContext) -> StepResult:
            text = ctx.render(step.arg)
            if text == "boom":
                raise RuntimeError("exploded")
            return StepResult(step.id, self.name, ctx.target.name, Status.PASS,
                              outputs={"text": text * step.extra.get("times", 1)})

    errors: list[str] = []

    class Plugin:
        @hookimpl
        def register_step_kinds(self, register):  # type: ignore[no-untyped-def]
            register(Echo())

        @hookimpl
        def on_step_error(self, step, target, error, run_id):  # type: ignore[no-untyped-def]
            errors.append(f"{step.id}: {error}")

    host = pluginmanager.load([("echo-plugin", Plugin())])
    pb = playbook.loads(textwrap.dedent("""
        name: t
        inputs: {word: {type: string, default: hi}}
        steps:
          - {id: a, echo: "{{ inputs.word }}", times: 2}
          - {id: b, echo: "{{ steps.a.outputs.text }}!"}
          - {id: c, echo: boom}
    """), host.registry, "t.yaml")
    res = Engine(host.registry, host.hook).run(pb, [FakeTarget({})], {})
    a, b, c = res.results["fixture"]
    assert a.outputs == {"text": "hihi"} and b.outputs == {"text": "hihi!"}
    assert c.status == Status.ERROR and "RuntimeError: exploded" in (c.error or "")
    assert errors == ["c: exploded"]


def test_a_stuck_probe_is_bounded_by_its_step_timeout_and_does_not_hold_up_others(registry) -> None:  # type: ignore[no-untyped-def]
    """Prefetch runs the local target's probes in the background: a stuck one costs its own step only."""
    from medic.kernel.probe import ProbeSpec
    from medic.plugins.targets.local import LocalTarget

    release, stuck_done = threading.Event(), threading.Event()

    def stuck() -> list[dict[str, Any]]:
        release.wait(60)
        stuck_done.set()
        return []

    probes = {**dict(registry.probes.items()), "disk_usage": ProbeSpec("disk_usage", stuck)}
    pb = playbook.loads(textwrap.dedent("""
        name: t
        steps:
          - {id: disk, check: system.disk_space, timeout: 0.5}
          - {id: mem, check: system.memory, timeout: 5}
    """), registry, "t.yaml")
    try:
        res = Engine(registry).run(pb, [LocalTarget(probes)], {})
        assert not stuck_done.is_set()  # the run ended while the stuck probe was still stuck
    finally:
        release.set()
    disk, mem = res.results["local"]
    assert disk.status == Status.ERROR and "timed out after 0.5 s" in (disk.error or "")
    assert mem.status in (Status.PASS, Status.WARN, Status.FAIL)


def test_fresh_collection_forgets_cached_and_in_flight_results() -> None:
    """A verification after a change must not read data prefetched before it."""
    state = {"value": "before"}

    class Changing(FakeTarget):
        def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
            return {c: ProbeResult(c.probe, c.params, True, state["value"]) for c in calls}

    target = Changing({})
    call = ProbeCall.make("file_stat", path="/etc/app.ini")
    target.prefetch([call])  # collected in the background, never read
    state["value"] = "after"
    assert target.collect([call])[call].data == "before"  # the run's cached view
    assert target.collect([call], fresh=True)[call].data == "after"
    assert target.collect([call])[call].data == "after"


def test_a_pure_python_probe_past_its_step_timeout_is_stopped_not_abandoned(registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 16 item 5: under a step's deadline the local target runs a probe in a forked child in its own
    process group; at the timeout the group is killed (no thread left spinning), and a retry probes again."""
    import os

    import psutil

    from medic.kernel.probe import ProbeSpec
    from medic.plugins.targets.local import LocalTarget

    pids = tmp_path / "pids"

    def spin() -> list[dict[str, Any]]:
        with open(pids, "a") as out:
            out.write(f"{os.getpid()}\n")
        while True:  # pure Python, never returns: only killing its process ends it
            pass

    probes = {**dict(registry.probes.items()), "disk_usage": ProbeSpec("disk_usage", spin)}
    pb = playbook.loads(textwrap.dedent("""
        name: t
        steps:
          - {id: disk, check: system.disk_space, timeout: 0.5, retries: 1}
          - {id: mem, check: system.memory, timeout: 5}
    """), registry, "t.yaml")
    started = time.monotonic()
    res = Engine(registry).run(pb, [LocalTarget(probes)], {})
    disk, mem = res.results["local"]
    assert disk.status == Status.ERROR and "timed out after 0.5 s" in (disk.error or "") and disk.attempts == 2
    assert mem.status in (Status.PASS, Status.WARN, Status.FAIL)
    assert time.monotonic() - started < 10  # a hang bound (10x the two 0.5 s attempts), not a speed test
    children = [int(p) for p in pids.read_text().split()]
    assert len(children) == 2 and os.getpid() not in children  # each attempt ran in its own process

    def gone(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    def left() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("step-disk")]

    deadline = time.monotonic() + 10  # the killed attempts and their threads end: waited on, not slept for
    while not (all(gone(pid) for pid in children) and not left()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in children), children
    assert not left()  # (a thread still spinning after 10 s would be one left behind)


def test_a_probe_under_a_deadline_gives_the_same_data_as_in_process(registry) -> None:  # type: ignore[no-untyped-def]
    from medic.core.deadline import Deadline, run_probe_bounded
    from medic.kernel.probe import ProbeSpec

    spec = ProbeSpec("shape", lambda: {"tuple": (1, 2), "set": {3}})
    deadline = Deadline()
    token = deadline.activate()
    try:
        result = run_probe_bounded(spec, ProbeCall.make("shape"))
    finally:
        from medic.core import deadline as deadline_mod

        deadline_mod._CURRENT.reset(token)
    assert result.ok and result.data == {"tuple": (1, 2), "set": {3}}
