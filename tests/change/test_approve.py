"""The approve step's approval channel (``StepContext.approver``), without Prefect: the inline engine with a stand-in.

The channel Prefect provides on a server is tested for real in tests/flows/test_approval.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from change_helpers import APPROVE_PLAYBOOK

from medic.core import playbook
from medic.core.engine import Engine, Executor
from medic.core.steps import Approval, Approver, Step, StepResult
from medic.core.target import Target
from medic.kernel.errors import ValidationError
from medic.kernel.models import Status
from medic.plugins.targets.local import LocalTarget


def run(session: Any, tmp_path: Path, approver: Approver | None) -> tuple[dict[str, StepResult], Path]:
    path = tmp_path / "app.conf"
    path.write_text("old\n")
    pb = playbook.loads(APPROVE_PLAYBOOK, session.registry, "approve.yaml")
    engine = Engine(session.registry, session.hooks, Executor(approver=approver))
    res = engine.run(pb, [LocalTarget(session.registry.probes)], {"path": str(path), "wait": 7},
                     {"state_dir": str(tmp_path / "state")})
    return {r.step: r for r in res.results["local"]}, path


def test_the_channel_gets_the_question_and_its_answer_decides(session: Any, tmp_path: Path) -> None:
    asked: list[tuple[str, float, str, str]] = []

    def approver(question: str, timeout: float, step: Step, target: Target) -> Approval:
        asked.append((question, timeout, step.id, target.name))
        return Approval(True, "answered in a stand-in", by="alice", comment="ok")

    steps, path = run(session, tmp_path, approver)
    assert asked == [(f"Replace {path}?", 7.0, "ok", "local")]
    assert steps["ok"].status == Status.PASS
    assert steps["ok"].outputs == {"approved": True, "by": "alice", "comment": "ok"}
    assert steps["ok"].findings[0].evidence == {"by": "alice", "comment": "ok"}
    assert steps["change"].status == Status.PASS and path.read_text() == "new\n"


@pytest.mark.parametrize("answer", [Approval(False, "refused in a stand-in"), RuntimeError("server gone")])
def test_a_refusal_or_a_broken_channel_is_not_approved(session: Any, tmp_path: Path, answer: Any) -> None:
    def approver(question: str, timeout: float, step: Step, target: Target) -> Approval:
        if isinstance(answer, Exception):
            raise answer
        return answer

    steps, path = run(session, tmp_path, approver)
    summary = steps["ok"].findings[0].summary
    assert steps["ok"].status == Status.FAIL and steps["ok"].outputs["approved"] is False
    assert "refused in a stand-in" in summary or "approval channel failed: RuntimeError: server gone" in summary
    assert steps["change"].status == Status.SKIPPED and path.read_text() == "old\n"


def test_a_channel_that_cannot_ask_leaves_it_to_the_terminal(session: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    steps, path = run(session, tmp_path, lambda *_: None)
    assert "not approved (no terminal to ask on" in steps["ok"].findings[0].summary
    assert steps["change"].status == Status.SKIPPED and path.read_text() == "old\n"


def test_approve_refuses_a_step_timeout(session: Any) -> None:
    text = APPROVE_PLAYBOOK.replace('    with: {timeout: "{{ inputs.wait }}"}', "    timeout: 5")
    with pytest.raises(ValidationError, match="approve step cannot have `timeout:`"):
        playbook.loads(text, session.registry, "approve.yaml")
