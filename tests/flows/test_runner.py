"""Real Prefect flow runs on the temporary Prefect server of tests/flows (conftest.py: prefect_test_harness)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from medic.core import playbook
from medic.core.engine import Engine
from medic.kernel.models import Status
from medic.plugins.targets.local import LocalTarget

pytestmark = pytest.mark.slow



def _pb(session: Any, text: str) -> Any:
    return playbook.loads(textwrap.dedent(text), session.registry, "t.yaml")


def test_flow_gives_the_same_findings_as_the_inline_engine(prefect_server: None, session: Any) -> None:
    from medic.flows.runner import run_with_prefect

    pb = session.load_playbook("triage")
    inline = Engine(session.registry).run(pb, [LocalTarget(session.registry.probes)], {})
    flowed = run_with_prefect(session, pb, [LocalTarget(session.registry.probes)], {})
    key = lambda f: (f.check, f.subject)  # noqa: E731
    assert sorted(map(key, inline.findings())) == sorted(map(key, flowed.findings()))
    # statuses of stable checks agree (load and memory move between the two runs)
    stable = {"network.dns_resolve", "network.default_route", "software.command_version", "system.os_info"}
    assert {key(f): f.status for f in inline.findings() if f.check in stable} == \
        {key(f): f.status for f in flowed.findings() if f.check in stable}


def test_each_step_is_a_task_with_its_timeout_and_retries(prefect_server: None, session: Any) -> None:
    import asyncio

    from prefect.client.orchestration import get_client

    from medic.flows.runner import run_with_prefect

    pb = _pb(session, """
        name: tasks
        steps:
          - id: g
            group: G
            steps:
              - {id: slow, check: software.command_version, timeout: 0.5,
                 with: {command: [sleep, "5"]}}
              - {id: flaky, check: software.command_version, retries: 2,
                 with: {command: [no-such-binary-xyz]}}
              - {id: mem, check: system.memory}
    """)
    target = LocalTarget(session.registry.probes)
    target.prefetch = lambda calls: None  # type: ignore[method-assign]
    res = run_with_prefect(session, pb, [target], {})
    steps = {c.step: c for c in res.results["local"][0].children}
    assert steps["slow"].status == Status.ERROR and "timed out after 0.5 s" in (steps["slow"].error or "")
    assert steps["flaky"].status == Status.FAIL and steps["flaky"].attempts == 1  # fail is a verdict, no retry
    assert steps["mem"].status in (Status.PASS, Status.WARN, Status.FAIL)

    async def task_names() -> set[str]:
        async with get_client() as client:
            runs = await client.read_flow_runs()
            flow_run = next(r for r in runs if r.name == res.run_id)
            from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

            tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])))
            return {t.name.rsplit("-", 1)[0] for t in tasks}

    names = asyncio.run(task_names())
    assert {"slow @ local", "flaky @ local", "mem @ local"} <= names

    async def parameters() -> dict[str, Any]:
        async with get_client() as client:
            return next(r for r in await client.read_flow_runs() if r.name == res.run_id).parameters

    # sent as they are (plain JSON), not through FastAPI's encoder: the same record the UI shows
    assert asyncio.run(parameters()) == {"playbook": "tasks", "inputs": {}, "targets": ["local"]}


def test_errored_steps_are_retried_by_prefect(prefect_server: None, session: Any, tmp_path: Any) -> None:
    from medic.flows.runner import run_with_prefect

    # a step that errors twice then passes: the probe reads a counter file and fails until it reaches 3
    counter = tmp_path / "n"
    counter.write_text("0")
    script = f"import sys,pathlib;p=pathlib.Path({str(counter)!r});n=int(p.read_text())+1;p.write_text(str(n));" \
             "print('v1.0') if n >= 3 else sys.exit('not yet')"
    pb = _pb(session, f"""
        name: retry
        steps:
          - id: v
            check: software.command_version
            retries: 3
            with: {{command: ["{sys.executable}", "-c", "{script}"], pattern: "v([0-9.]+)",
                    minimum: "1.0"}}
    """)

    class Fresh(LocalTarget):
        def collect(self, calls):  # type: ignore[no-untyped-def]
            self._cache.clear()  # each attempt probes again
            return super().collect(calls)

        def prefetch(self, calls):  # type: ignore[no-untyped-def]
            return None  # count only the step's own attempts

    res = run_with_prefect(session, pb, [Fresh(session.registry.probes)], {})
    (step,) = res.results["local"]
    assert step.status == Status.PASS and step.attempts == 3


def test_cli_run_on_a_temporary_server_records_it_there_and_prints_no_tracebacks(tmp_path: Any, session: Any
                                                                                 ) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.pop("MEDIC_ENGINE", None)
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    # the console script's run, then what the temporary server (still serving: it stops when the main thread
    # ends) recorded: the flow run's state, its task runs and its artifacts
    script = textwrap.dedent("""
        import json, sys
        from medic.cli.main import main
        code = main(['run', 'slow-system'])
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter
        from prefect.client.schemas.filters import FlowRunFilterName
        import time
        with get_client(sync_client=True) as client:
            (run,) = client.read_flow_runs()
            for _ in range(60):  # the server records a task run's last state a moment after the run ends
                tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [run.id]}))
                if all(t.state is not None and t.state.is_final() for t in tasks):
                    break
                time.sleep(0.5)
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
                any_=[run.id])))
        print(json.dumps({"code": code, "state": run.state.type.value, "flow": run.name,
                          "tasks": sorted(t.name.split(" @ ")[0] for t in tasks),
                          "task_states": sorted({t.state.type.value for t in tasks}),
                          "artifacts": sorted(a.key for a in artifacts)}))
        sys.exit(code)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode in (0, 1), out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr[-3000:]
    assert "telemetry" not in out.stderr.lower()
    assert "slow-system" in out.stdout
    recorded = json.loads(out.stdout.splitlines()[-1])
    steps = [s.id for top in session.load_playbook("slow-system").steps for s in top.walk() if not s.children]
    assert recorded["tasks"] == sorted(steps)  # every step a task run on the server, as on a configured one
    assert recorded["task_states"] == ["COMPLETED"]
    assert recorded["artifacts"] == ["medic-findings", "medic-report"]
    assert recorded["state"] == ("FAILED" if recorded["code"] == 1 else "COMPLETED")


def test_parameters_are_sent_as_they_are_without_fastapi() -> None:
    """PlainParametersFlow: medic's parameters are plain JSON, so Prefect's FastAPI encoder is not imported for
    them (on a configured server nothing else in medic's process imports FastAPI)."""
    script = textwrap.dedent("""
        import sys
        from medic.flows.runner import PlainParametersFlow
        def f(playbook: str, inputs: dict, targets: list) -> None: ...
        params = {"playbook": "triage", "inputs": {"a": [1, 2.5, None, True]}, "targets": ["local"]}
        assert PlainParametersFlow(f).serialize_parameters(params) == params
        print(len([m for m in sys.modules if m.startswith("fastapi")]))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["0"]


def test_temporary_server_is_a_thread_here_logs_to_its_file_and_stops_when_main_ends(tmp_path: Any) -> None:
    # The server's records (a traceback as its app stops, say) must never reach the user's terminal: they go to
    # its log file. It serves from a thread of this process (no second Python process) and has stopped before
    # the interpreter's exit handlers run.
    script = textwrap.dedent("""
        import atexit, logging, os, sys
        from medic.flows import prefect_env
        prefect_env.configure()
        server = prefect_env.spawn_temporary_server()
        prefect_env.use_temporary_server()
        from prefect import flow

        @flow
        def one() -> int:
            return 1

        assert one() == 1
        def parent(pid):
            try:
                return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1]
            except OSError:  # a process of another test that ended meanwhile
                return None

        children = [p for p in os.listdir("/proc") if p.isdigit() and parent(p) == str(os.getpid())]
        print(len(children))
        logging.getLogger("uvicorn.error").error("a record of the server")
        print(prefect_env.server_log_path())
        from medic.flows.approval import server_configured
        print(server_configured())  # nobody can open this server's UI: approve steps ask on the terminal
        atexit.register(lambda: print(server.running))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    children, log, configured, running_at_exit = out.stdout.split()
    assert children == "0"  # the zygote starts only for a medic run with local probes
    assert configured == "False"
    assert log == str(tmp_path / "prefect" / "medic-temporary-server.log")
    assert "a record of the server" in (tmp_path / "prefect" / "medic-temporary-server.log").read_text()
    assert out.stderr == ""
    assert running_at_exit == "False"


def test_a_temporary_server_that_cannot_start_is_one_line_naming_its_log(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.pop("MEDIC_ENGINE", None)
    (tmp_path / "a-file").write_text("not a directory")
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "MEDIC_STATE_DIR": str(tmp_path / "state"),
                "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/a-file/prefect.db"})
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", "slow-system"], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 3, out.stderr[-2000:]
    log = tmp_path / "prefect" / "medic-temporary-server.log"
    assert out.stderr.splitlines() == [f"medic: error: Prefect's temporary server could not be started (it stopped "
                                       f"while starting); its output is in {log}. Start a server (medic server "
                                       f"start) and set PREFECT_API_URL, or run with --engine inline"]
    assert "Application startup failed" in log.read_text()  # why, with the traceback, is in its log


def test_a_server_stopped_while_it_starts_never_serves(tmp_path: Any) -> None:
    """A profile can name a server after medic started its own in the background (use_temporary_server stops it
    then): a thread still importing Prefect's server at that moment must end, not serve for the rest of the run."""
    script = textwrap.dedent("""
        from medic.flows import prefect_env
        prefect_env.configure()
        server = prefect_env.spawn_temporary_server()
        thread = server._thread
        server.stop()
        thread.join(240)
        print(thread.is_alive(), server.running)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]


def test_server_log_is_bounded(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.flows import prefect_env

    monkeypatch.setattr(prefect_env, "SERVER_LOG_MAX_BYTES", 10)
    log = tmp_path / prefect_env.SERVER_LOG_NAME
    log.write_text("x" * 100)
    with prefect_env.open_server_log(log) as fh:
        fh.write(b"new")
    assert log.read_bytes() == b"new"
    assert (tmp_path / (prefect_env.SERVER_LOG_NAME + ".1")).read_text() == "x" * 100


def test_probes_fork_from_a_zygote_only_where_a_target_runs_them_in_processes(session: Any) -> None:
    """kernel/zygote.py: a flow on the local target starts one (its probes under a deadline fork from it); a flow on
    targets that run no probe processes here (SSH hosts, bundles) starts none."""
    from engine_helpers import FakeTarget

    from medic.flows.runner import fork_probes_from_zygote
    from medic.kernel import zygote

    zygote.stop()
    try:
        fork_probes_from_zygote([FakeTarget({})])
        assert zygote.current() is None
        fork_probes_from_zygote([FakeTarget({}), LocalTarget(session.registry.probes)])
        assert zygote.current() is not None
    finally:
        zygote.stop()
