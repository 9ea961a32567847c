"""`approve` under Prefect on a real server (the one of tests/flows): the flow run pauses for input in the UI.

Each test runs a playbook with ``run_with_prefect`` in a thread and plays the person from the test: it finds the
paused flow run through the Prefect client and resumes it with input, as the UI's *Resume* form does.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import json
import time
from pathlib import Path
from typing import Any

import pytest
from change_helpers import APPROVE_PLAYBOOK

from medic.core import playbook
from medic.core.engine import RunResult
from medic.kernel.models import Status
from medic.plugins.targets.local import LocalTarget

pytestmark = pytest.mark.slow




@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.flows import approval

    monkeypatch.setattr(approval, "POLL_SECONDS", 1)


def start_run(session: Any, tmp_path: Path, wait: int) -> tuple[cf.Future[RunResult], Path]:
    """Start the playbook on a fresh file in a thread (in this context: it holds the harness's server URL)."""
    from medic.flows.runner import run_with_prefect

    target_file = tmp_path / "app.conf"
    target_file.write_text("old\n")
    pb = playbook.loads(APPROVE_PLAYBOOK, session.registry, "approve.yaml")
    options = {"state_dir": str(tmp_path / "state")}
    inputs = {"path": str(target_file), "wait": wait}
    pool = cf.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(contextvars.copy_context().run, run_with_prefect, session, pb,
                         [LocalTarget(session.registry.probes)], inputs, options)
    pool.shutdown(wait=False)
    return future, target_file


def answer(future: cf.Future[RunResult], run_input: dict[str, Any], within: float = 60) -> str:
    """Wait for the flow run to pause with its input form saved, resume it with ``run_input``; the form's text."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    deadline = time.monotonic() + within
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            assert not future.done(), future.result()
            paused = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
            keyset = paused[0].state.state_details.run_input_keyset if paused and paused[0].state else None
            if keyset:
                try:  # the form is saved just after the run pauses
                    schema = client.read_flow_run_input(paused[0].id, keyset["schema"])
                    description = client.read_flow_run_input(paused[0].id, keyset["description"])
                except Exception:
                    schema = None
                if schema:
                    resume_flow_run(paused[0].id, run_input=run_input)
                    return str(json.loads(description))
            time.sleep(0.2)
    raise AssertionError(f"no flow run paused for input within {within} s")


def approve_step(result: RunResult) -> Any:
    return {r.step: r for r in result.results["local"]}


def test_approved_in_the_ui_goes_on_with_the_change(prefect_server: None, session: Any, tmp_path: Path) -> None:
    future, target_file = start_run(session, tmp_path, wait=60)
    description = answer(future, {"approved": True, "by": "alice", "comment": "maintenance window"})
    steps = approve_step(future.result(timeout=60))
    assert description.startswith(f"Replace {target_file}?")
    ok = steps["ok"]
    assert ok.status == Status.PASS and ok.outputs == {"approved": True, "by": "alice", "comment": "maintenance window"}
    assert "approved (answered in Prefect's UI by alice: 'maintenance window')" in ok.findings[0].summary
    assert steps["change"].status == Status.PASS
    assert target_file.read_text() == "new\n"


@pytest.mark.parametrize(("run_input", "how"), [({"approved": False, "by": "bob"}, "answered in Prefect's UI by bob"),
                                               ({}, "answered in Prefect's UI")])  # Resume, nothing ticked
def test_refused_in_the_ui_makes_no_change(prefect_server: None, session: Any, tmp_path: Path,
                                           run_input: dict[str, Any], how: str) -> None:
    future, target_file = start_run(session, tmp_path, wait=60)
    answer(future, run_input)
    steps = approve_step(future.result(timeout=60))
    ok = steps["ok"]
    assert ok.status == Status.FAIL and ok.outputs["approved"] is False
    assert f"not approved ({how}): Replace {target_file}?" in ok.findings[0].summary
    assert steps["change"].status == Status.SKIPPED
    assert target_file.read_text() == "old\n"


def test_no_answer_before_the_timeout_is_not_approved(prefect_server: None, session: Any, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    future, target_file = start_run(session, tmp_path, wait=2)
    result = future.result(timeout=60)
    steps = approve_step(result)
    ok = steps["ok"]
    assert ok.status == Status.FAIL and ok.outputs["approved"] is False
    assert "no answer in Prefect's UI within 2 s: timed out" in ok.findings[0].summary
    assert steps["change"].status == Status.SKIPPED
    assert target_file.read_text() == "old\n"
    with get_client(sync_client=True) as client:  # the run went on to the end, not failed by the pause timeout:
        [run] = [r for r in client.read_flow_runs() if r.name == result.run_id]  # its state is medic's verdict
        assert run.state is not None and run.state.is_failed()
        assert (run.state.message or "").startswith("change.approve on local: not approved (no answer")
