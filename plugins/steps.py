"""Built-in step kinds of the foundation: ``check`` (run a diagnostic check) and ``group`` (ordered sub-steps)."""

from __future__ import annotations

from typing import Any

from medic.core import template
from medic.core.check import CheckSpec, evaluate
from medic.core.hookspecs import hookimpl
from medic.core.steps import (
    Step,
    StepContext,
    StepKind,
    StepResult,
    ValidationContext,
    error_result,
    status_of_findings,
)
from medic.kernel.models import ProbeCall, Status, worst_status
from medic.kernel.params import ParamError
from medic.kernel.registry import Registry


class CheckStep(StepKind):
    name = "check"
    description = "Run a diagnostic check with parameters (`with:`); produces findings."

    def validate(self, step: Step, vc: ValidationContext) -> None:
        spec = vc.registry.checks.get(str(step.arg))
        if spec is None:
            close = [c for c in vc.registry.checks if str(step.arg).split(".")[-1] in c]
            hint = f"; did you mean {', '.join(close[:3])}?" if close else "; `medic checks list` shows them"
            vc.error(step, f"unknown check {step.arg!r}{hint}", f"step {step.id!r}.check")
            return
        literal = {k: v for k, v in step.params.items() if not template.has_template(v)}
        templated = {k for k, v in step.params.items() if template.has_template(v)}
        try:  # templated values are checked once rendered; here: names, literal types, required ones
            _bind_literals(spec, literal, templated)
        except ParamError as exc:
            vc.error(step, str(exc), f"step {step.id!r}.with")

    def probe_calls(self, step: Step, params: dict[str, Any], registry: Registry) -> list[ProbeCall]:
        spec: CheckSpec = registry.checks[str(step.arg)]
        return list(spec.needs(spec.bind(params)).values())

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        spec: CheckSpec = ctx.registry.checks[str(step.arg)]
        try:
            params = spec.bind(ctx.render(step.params))
        except (ParamError, ValueError) as exc:  # ExprError is a ValueError
            return error_result(step, ctx.target, str(exc))
        calls = spec.needs(params)
        collected = ctx.target.collect(calls.values())
        findings = evaluate(spec, params, {alias: collected[c] for alias, c in calls.items()},
                            target=ctx.target.name, target_live=ctx.target.live, step=step.id)
        outputs = {"findings": len(findings)}
        return StepResult(step.id, self.name, ctx.target.name, status_of_findings(findings),
                          step.title or spec.title, findings, outputs)


def _bind_literals(spec: CheckSpec, literal: dict[str, Any], templated: set[str]) -> None:
    """Validate literal parameter values; a required parameter given as a template counts as present."""
    problems = []
    declared = {p.name: p for p in spec.params}
    for name in templated - set(declared):
        problems.append(f"unknown parameter {name!r} (known: {', '.join(declared) or 'none'})")
    for name, value in literal.items():
        if name not in declared:
            problems.append(f"unknown parameter {name!r} (known: {', '.join(declared) or 'none'})")
            continue
        try:
            declared[name].coerce(value)
        except ParamError as exc:
            problems.append(str(exc))
    for p in spec.params:
        if p.required and p.name not in literal and p.name not in templated:
            problems.append(f"missing required parameter {p.name!r} ({p.expected()})")
    if problems:
        raise ParamError(f"check {spec.id}: " + "; ".join(problems))


class GroupStep(StepKind):
    name = "group"
    description = "Ordered sub-steps under a title (a phase of the checklist)."
    container = True

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        children = ctx.run_steps(step.children)
        statuses = [c.status for c in children if c.status != Status.SKIPPED]
        status = worst_status(statuses) if statuses else Status.SKIPPED
        return StepResult(step.id, self.name, ctx.target.name, status, str(step.arg) or step.title,
                          children=children, outputs={"steps": len(children)})


@hookimpl(trylast=True)
def register_step_kinds(register: Any) -> None:
    register(CheckStep())
    register(GroupStep())
