"""Real Prefect flow runs on the temporary Prefect server of tests/flows (conftest.py: prefect_test_harness)."""

from __future__ import annotations

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


def test_cli_run_on_a_temporary_server_prints_no_tracebacks(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.pop("MEDIC_ENGINE", None)
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    # the console script's run, then which of FastAPI's modules it imported (PlainParametersFlow: none)
    script = ("import sys; from medic.cli.main import main; code = main(['run', 'slow-system']); "
              "print('fastapi modules:', len([m for m in sys.modules if m.startswith('fastapi')])); sys.exit(code)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode in (0, 1), out.stderr[-2000:]
    assert "fastapi modules: 0" in out.stdout
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr[-3000:]
    assert "telemetry" not in out.stderr.lower()
    assert "slow-system" in out.stdout


def test_temporary_server_logs_to_its_file_loads_no_server_code_here_and_stops_at_exit(tmp_path: Any) -> None:
    # The server prints shutdown tracebacks on its own at random; whether they can reach the user's
    # terminal is decided by where its stderr points, which is deterministic: check that.
    script = textwrap.dedent("""
        import os, sys
        from medic.flows import prefect_env
        prefect_env.configure()
        server = prefect_env.spawn_temporary_server()
        prefect_env.use_temporary_server()
        from prefect import flow

        @flow
        def one() -> int:
            return 1

        assert one() == 1
        pid = server.process.pid
        print(pid)
        print(os.readlink(f"/proc/{pid}/fd/1"))
        print(os.readlink(f"/proc/{pid}/fd/2"))
        print(prefect_env.server_log_path())
        print(",".join(sorted(m for m in sys.modules if m.startswith("prefect.server.api"))) or "-")
        from medic.flows.approval import server_configured
        print(server_configured())  # nobody can open this server's UI: approve steps ask on the terminal
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    pid, fd1, fd2, log, server_modules, configured = out.stdout.split()
    assert configured == "False"
    assert fd1 == fd2 == log == str(tmp_path / "prefect" / "medic-temporary-server.log")
    assert server_modules == "-"  # the server's code (FastAPI, SQLAlchemy...) stays in the server's process
    assert not os.path.exists(f"/proc/{pid}")  # stopped and reaped when medic's process ended


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
    assert out.stderr.splitlines() == [f"medic: error: Prefect's temporary server could not be started (it exited "
                                       f"with code 3); its output is in {log}. Start a server (medic server start) "
                                       f"and set PREFECT_API_URL, or run with --engine inline"]


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
