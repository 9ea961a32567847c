"""Approval in Prefect's UI: an ``approve`` step pauses the flow run until a person answers, or its timeout.

``run_with_prefect`` hands :func:`approve_in_prefect_ui` to the engine as the approval channel
(``StepContext.approver``) when a real Prefect server is configured (``PREFECT_API_URL``): someone can then open
the paused flow run in the UI, tick *approved* (and say who they are, and why) and press *Resume*. On Prefect's
temporary server nobody could answer, so approve steps ask on the terminal as with ``--engine inline``.

The pause happens inside the step's task: Prefect 3.9 pauses the enclosing flow run from there (its
``FlowRunContext`` is active in the task). A flow run has one paused state and one input form, so approvals of
several targets run one at a time. When the timeout passes, Prefect leaves the flow run paused (and would fail it
at its next state change); the run is set back to running so the rest of the playbook, which skips the later
changes, can finish and be reported.
"""

from __future__ import annotations

import math
import sys
import threading
import uuid

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.settings import get_current_settings
from prefect.states import Running
from prefect.utilities.urls import url_for
from pydantic import Field

from medic.core.steps import Approval, Step
from medic.core.target import Target

# How often the paused run asks the server whether it was resumed: the delay between *Resume* and the run going on.
POLL_SECONDS = 2
_ONE_AT_A_TIME = threading.Lock()


class ApprovalInput(RunInput):
    """The form Prefect's UI shows on *Resume*. Resuming without ticking ``approved`` means *not approved*."""

    approved: bool = Field(default=False, description="Tick to approve; left empty, the change is not made.")
    by: str | None = Field(default=None, description="Who approves or refuses (for the report).")
    comment: str | None = Field(default=None, description="Why (for the report).")


def server_configured() -> bool:
    """A Prefect server someone can open (``PREFECT_API_URL``), not the temporary one started for this run."""
    from medic.flows.prefect_env import on_temporary_server

    return bool(get_current_settings().api.url) and not on_temporary_server()


def approve_in_prefect_ui(question: str, timeout: float, step: Step, target: Target) -> Approval | None:
    """Pause the flow run with ``question`` as the form's description; ``None`` outside a flow run."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None  # e.g. a step run in a thread without the flow's context: the terminal asks
    seconds = max(0, math.ceil(timeout))
    form = ApprovalInput.with_initial_data(description=f"{question}\n\n(step `{step.id}` on target "
                                                       f"`{target.name}`; no answer in {seconds} s = not approved)")
    flow_run_id = context.flow_run.id
    with _ONE_AT_A_TIME:
        where = url_for(context.flow_run) or f"flow run {context.flow_run.name}"
        sys.stderr.write(f"waiting up to {seconds} s for an answer in Prefect's UI ({where}): {question}\n")
        sys.stderr.flush()
        try:
            answer = pause_flow_run(wait_for_input=form, timeout=seconds, poll_interval=POLL_SECONDS,
                                    key=f"approve-{step.id}-{target.name}-{uuid.uuid4().hex[:8]}")
        except FlowPauseTimeout:
            with get_client(sync_client=True) as client:  # Prefect would fail the run at its next state change
                client.set_flow_run_state(flow_run_id, Running(), force=True)
            return Approval(False, f"no answer in Prefect's UI within {seconds} s: timed out")
    how = "answered in Prefect's UI" + (f" by {answer.by}" if answer.by else "")
    if answer.comment:
        how += f": {answer.comment!r}"
    return Approval(bool(answer.approved), how, by=answer.by, comment=answer.comment)
