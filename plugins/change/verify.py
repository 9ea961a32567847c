"""The ``verify`` step kind: a post-condition written as a check.

- id: v1
  verify: change.command_succeeds     # any check (the same checks as triage), with `with:` parameters
  with: {argv: [nginx, -t]}           # a fail or error rolls the run's changes back at once
"""

from __future__ import annotations

from medic.core.check import CheckSpec, evaluate
from medic.core.steps import Step, StepContext, StepKind, StepResult, ValidationContext
from medic.core.target import Target
from medic.kernel.models import ProbeCall, ProbeResult, Status
from medic.kernel.params import ParamError
from medic.plugins.change.common import reported, result, rollback_findings, skipped
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
