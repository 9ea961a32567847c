"""The ``verify``, ``rollback`` and ``approve`` step kinds.

- id: v1
  verify: change.command_succeeds     # any check (the same checks as triage), with `with:` parameters
  with: {argv: [nginx, -t]}           # a fail or error rolls the run's changes back at once
- id: r1
  rollback: "{{ inputs.backup_id }}"  # restore a catalogued backup (then compare it), or `changes`
- id: ok
  approve: "Restart the database now?"
  with: {timeout: 300}                # Prefect's UI on a server, else the terminal; no answer: NOT approved
"""

from __future__ import annotations

import select
import sys
from typing import Any, TextIO

from medic.core.check import CheckSpec, evaluate
from medic.core.expr import ExprError
from medic.core.hosts import Hosts
from medic.core.steps import Approval, Step, StepContext, StepKind, StepResult, ValidationContext
from medic.core.target import Target
from medic.kernel.errors import MedicError
from medic.kernel.models import ProbeCall, ProbeResult, Severity, Status
from medic.kernel.params import ParamError
from medic.plugins.change.common import finding, reported, result, rollback_findings, skipped
from medic.plugins.change.state import state_for
from medic.plugins.steps import CheckStep


def collect_fresh(target: Target, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
    """Collect again: a verification must see the machine after the change, not the run's cached data."""
    return target.collect(calls, fresh=True)


class VerifyStep(StepKind):
    name = "verify"
    description = "Post-condition written as a check; a fail or error rolls back the run's changes at once."

    def validate(self, step: Step, vc: ValidationContext) -> None:
        CheckStep().validate(step, vc)

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        state = state_for(ctx)
        if state.halted:
            return skipped(step, ctx, state.halted)
        spec: CheckSpec = ctx.registry.checks[str(step.arg)]
        if state.check_mode:
            return StepResult(
                step.id,
                self.name,
                ctx.target.name,
                Status.SKIPPED,
                step.label,
                error=f"check mode: would verify {spec.id} after the changes",
            )
        try:
            params = spec.bind(ctx.render(step.params))
        except (ParamError, ValueError) as exc:
            return reported(step, ctx, Status.ERROR, str(exc))
        calls = spec.needs(params)
        collected = collect_fresh(ctx.target, list(calls.values()))
        findings = evaluate(
            spec,
            params,
            {alias: collected[c] for alias, c in calls.items()},
            target=ctx.target.name,
            target_live=ctx.target.live,
            step=step.id,
        )
        ok = not any(f.status in (Status.FAIL, Status.ERROR) for f in findings)
        if not ok:
            findings += rollback_findings(step, ctx, state.rollback(f"verification {step.id} ({spec.id}) failed"))
        return result(step, ctx, findings, {"passed": ok, "rolled_back": not ok}, spec.title)


class RollbackStep(StepKind):
    name = "rollback"
    description = "Restore a catalogued backup (then compare it with its manifest), or `changes`: undo this run's."

    def validate(self, step: Step, vc: ValidationContext) -> None:
        from medic.plugins.change.kinds import no_timeout

        no_timeout(step, vc)

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        state = state_for(ctx)
        arg = str(ctx.render(step.arg))
        if arg == "changes":
            if state.check_mode:
                return reported(step, ctx, Status.PASS, "would roll back this run's changes", severity=Severity.INFO)
            return result(
                step,
                ctx,
                rollback_findings(step, ctx, state.rollback(f"step {step.id}"))
                or [finding(step, ctx, Status.PASS, "nothing to roll back", severity=Severity.INFO)],
            )
        try:
            entry = state.catalogue.get(arg)
            provider = state.providers[entry["provider"]]
            what = ", ".join(entry["resources"])
            if state.check_mode:
                return reported(
                    step,
                    ctx,
                    Status.PASS,
                    f"would restore {what} from {arg}",
                    {"backup_id": arg},
                    severity=Severity.INFO,
                )
            if Hosts.key(entry.get("host") or {}) != Hosts.key(state.host.describe() or {}):
                taken = (entry.get("host") or {}).get("name", "this machine")
                return reported(
                    step,
                    ctx,
                    Status.FAIL,
                    f"backup {arg} of {what} was taken on {taken}, not on {ctx.target.name}; run the rollback "
                    f"step on {taken}'s target, or restore it with `medic backups restore {arg}`",
                )
            problems = state.catalogue.verify(entry, provider, state.hosts)
            if problems:
                return reported(
                    step,
                    ctx,
                    Status.FAIL,
                    f"backup {arg} of {what} failed verification, not restored: {'; '.join(problems)}",
                )
            into = ctx.render(step.params).get("into")
            intent = {
                "resource": what,
                "undo": {"type": "restore", "backup_id": arg, "paths": None},
                "redo": True,
                "paths": [entry["meta"]["root"]] if entry["provider"] == "files" else [],
            }
            state.change(step.id, [intent], lambda: state.catalogue.restore(entry, provider, state.hosts, into=into))
            diffs = state.catalogue.compare(entry, provider, state.hosts, into=into)
        except ExprError:  # a template the playbook got wrong: the step errors, it did not fail to restore
            raise
        except (MedicError, OSError) as exc:
            return reported(step, ctx, Status.FAIL, str(exc))
        if diffs:
            return reported(
                step,
                ctx,
                Status.FAIL,
                f"restored {what} differs from backup {arg}: " + "; ".join(diffs[:10]),
                {"backup_id": arg},
            )
        return reported(
            step,
            ctx,
            Status.PASS,
            f"restored {what} from {arg}; identical to the backup",
            {"backup_id": arg},
            severity=Severity.INFO,
        )


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
