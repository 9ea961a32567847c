"""What a finished run tells Prefect: a state that means something, two artifacts, parameters and tags.

A run whose checks failed ends Failed with the probable cause as the state's message, a run with an unreachable
target ends Failed naming the hosts, a run where nothing gave a verdict ends Failed too (medic exits 3 there), a
clean run Completed. Every run publishes a table artifact of its findings (key ``medic-findings``) and a Markdown
artifact with the report (key ``medic-report``), so the UI answers "what did it find" without a terminal.
Secret-named inputs are masked (``***``) in everything sent to the server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Completed, Failed, State

from medic.core.engine import RunResult
from medic.core.report import probable_cause, to_markdown, unreachable
from medic.kernel.masking import masked

FLOW_NAME = "medic-playbook"
FINDINGS_KEY = "medic-findings"
REPORT_KEY = "medic-report"
TARGET_TAGS_UP_TO = 10  # a fleet's 200 hosts are parameters, not 200 tags


def run_tags(playbook: str, targets: Sequence[str]) -> list[str]:
    tags = ["medic", f"playbook:{playbook}"]
    if len(targets) <= TARGET_TAGS_UP_TO:
        tags += [f"target:{name}" for name in targets]
    return tags


def run_parameters(playbook: str, inputs: dict[str, Any], targets: Sequence[str]) -> dict[str, Any]:
    """The parameters a ``medic run --engine prefect`` flow run records (secrets masked)."""
    return {"playbook": playbook, "inputs": masked(inputs), "targets": list(targets)}


def state_message(run: RunResult) -> str:
    """One line: the probable cause of a failed run, the unreachable hosts, or the counts of a clean one."""
    down = unreachable(run)
    if down:
        return "unreachable: " + ", ".join(down)
    cause = probable_cause(run)
    if run.exit_code != 0:
        if cause is None:
            return "nothing was checked: no check gave a result"
        return f"{cause.check} on {cause.target}: {cause.summary}"
    counts = run.counts()
    return (f"{counts['pass']} pass, {counts['warn']} warn, {counts['skipped']} skipped"
            + (f"; {cause.check} on {cause.target}: {cause.summary}" if cause else ""))


def final_state(run: RunResult) -> State[Any]:
    """Completed for exit code 0, Failed (with the probable cause) for 1 and 3."""
    message = state_message(run)
    if run.exit_code == 0:
        return Completed(message=message)
    return Failed(message=message)


def findings_table(run: RunResult) -> list[dict[str, str]]:
    return [{"check": f.check, "target": f.target, "status": str(f.status), "severity": str(f.severity),
             "step": f.step, "summary": f.summary} for f in run.findings()]


def publish(run: RunResult) -> None:
    """The two artifacts, linked to the current flow run (call inside the flow)."""
    shown = dataclasses.replace(run, inputs=masked(run.inputs))
    create_table_artifact(table=findings_table(run), key=FINDINGS_KEY,
                          description=f"medic {run.playbook} run {run.run_id}: findings")
    create_markdown_artifact(markdown=to_markdown(shown), key=REPORT_KEY,
                             description=f"medic {run.playbook} run {run.run_id}: report")
