"""The ``approve`` step kind: wait for a person's answer.

- id: ok
  approve: "Restart the database now?"
  with: {timeout: 300}                # Prefect's UI on a server, else the terminal; no answer: NOT approved
"""

from __future__ import annotations

import select
import sys
from typing import Any, TextIO

from medic.core.steps import Approval, Step, StepContext, StepKind, StepResult, ValidationContext
from medic.kernel.models import Severity, Status
from medic.plugins.change.common import finding, reported, result, skipped
from medic.plugins.change.state import state_for
from medic.plugins.channels.runevents import emit


def ask(message: str, timeout: float, tty_in: TextIO, out: TextIO) -> bool:
    """Ask on a terminal; anything but y/yes, or no answer within ``timeout`` seconds, is *not approved*."""
    out.write(f"{message} [y/N] (no answer in {timeout:g} s = no): ")
    out.flush()
    ready, _, _ = select.select([tty_in], [], [], timeout)
    if not ready:
        out.write("\n")
        return False
    return tty_in.readline().strip().lower() in ("y", "yes")


def ask_channel(step: Step, ctx: StepContext, message: str, timeout: float) -> Approval | None:
    """Ask through the executor's approval channel, if it has one; a channel that fails means *not approved*."""
    if ctx.approver is None:
        return None
    try:
        return ctx.approver(message, timeout, step, ctx.target)
    except Exception as exc:
        return Approval(False, f"the approval channel failed: {type(exc).__name__}: {exc}")


class ApproveStep(StepKind):
    """Wait for a person's answer; anything but an explicit yes within ``timeout`` is *not approved*.

    Where it asks: the executor's approval channel when it has one (``StepContext.approver``): under
    ``--engine prefect`` with a Prefect server configured, the flow run pauses and waits for input in Prefect's UI
    (``medic.flows.approval``). Otherwise on the terminal, when stdin is one. Not approved halts the run's later
    changes.
    """

    name = "approve"
    description = (
        "Wait for a person to approve (Prefect's UI on a server, or a terminal prompt; with a timeout); "
        "default: not approved."
    )

    def validate(self, step: Step, vc: ValidationContext) -> None:
        if step.timeout is not None:  # it would abandon the question, or leave a Prefect flow run paused
            vc.error(
                step,
                "an approve step cannot have `timeout:`: how long it waits is `with: {timeout: SECONDS}`",
                f"step {step.id!r}.timeout",
            )

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        state = state_for(ctx)
        params: dict[str, Any] = ctx.render(step.params)
        message = str(ctx.render(step.arg))
        if state.halted:
            return skipped(step, ctx, state.halted)
        if state.check_mode:
            return reported(step, ctx, Status.PASS, f"would ask: {message}", {"approved": None}, severity=Severity.INFO)
        timeout = float(params.get("timeout", 300))
        if ctx.approver is not None or sys.stdin.isatty():  # someone can answer: tell the run's channels
            where = "the run's approval channel (Prefect's UI)" if ctx.approver else "the terminal running medic"
            emit(ctx.run_id, "approval.requested", ctx.target.name, f"approval requested: {message}",
                 f"{message}\nAnswer in {where} within {timeout:g} s; no answer means not approved.", "warn",
                 step=step.id, question=message, timeout_s=timeout)
        answer = ask_channel(step, ctx, message, timeout)
        if answer is None and not sys.stdin.isatty():
            answer = Approval(False, "no terminal to ask on (stdin is not a TTY)")
        elif answer is None:
            answer = Approval(ask(message, timeout, sys.stdin, sys.stderr), "answered on the terminal")
        who: dict[str, Any] = {k: v for k, v in (("by", answer.by), ("comment", answer.comment)) if v}
        outputs = {"approved": answer.approved, "by": answer.by, "comment": answer.comment}
        if answer.approved:
            summary = f"approved ({answer.how}): {message}"
            found = finding(step, ctx, Status.PASS, summary, severity=Severity.INFO, **who)
        else:
            state.halted = f"not approved: {message}"
            summary = f"not approved ({answer.how}): {message}; later changes were not made"
            found = finding(step, ctx, Status.FAIL, summary, **who)
        return result(step, ctx, [found], outputs)
