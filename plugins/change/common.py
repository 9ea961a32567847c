"""Findings and results the change step kinds produce."""

from __future__ import annotations

from typing import Any

from medic.core.steps import Step, StepContext, StepResult, status_of_findings
from medic.kernel.models import Category, Finding, Severity, Status
from medic.plugins.change.safety.rollback import RollbackReport


def finding(
    step: Step,
    ctx: StepContext,
    status: Status,
    summary: str,
    *,
    severity: Severity = Severity.HIGH,
    remediation: str = "",
    subject: str | None = None,
    **evidence: Any,
) -> Finding:
    return Finding(
        check=f"change.{step.kind}",
        target=ctx.target.name,
        status=status,
        severity=severity,
        category=Category.CONFIGURATION,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        step=step.id,
        subject=subject,
    )


def result(
    step: Step,
    ctx: StepContext,
    findings: list[Finding],
    outputs: dict[str, Any] | None = None,
    title: str = "",
) -> StepResult:
    return StepResult(
        step.id,
        step.kind,
        ctx.target.name,
        status_of_findings(findings),
        step.title or title or step.label,
        findings,
        dict(outputs or {}),
    )


def reported(
    step: Step,
    ctx: StepContext,
    status: Status,
    summary: str,
    outputs: dict[str, Any] | None = None,
    title: str = "",
    **finding_kw: Any,
) -> StepResult:
    """A step result with one finding (most change steps end with exactly one)."""
    return result(step, ctx, [finding(step, ctx, status, summary, **finding_kw)], outputs, title)


def skipped(step: Step, ctx: StepContext, why: str) -> StepResult:
    return StepResult(step.id, step.kind, ctx.target.name, Status.SKIPPED, step.label, error=f"not run: {why}")


def rollback_findings(step: Step, ctx: StepContext, report: RollbackReport) -> list[Finding]:
    if report.ok and not report.undone:
        return []
    if report.ok:
        what = "; ".join(report.compared) or "no backed-up resource"
        return [
            finding(
                step,
                ctx,
                Status.WARN,
                f"rolled back {len(report.undone)} change(s), newest first; "
                f"restored resources are identical to their backups: {what}",
                severity=Severity.MEDIUM,
                undone=report.undone,
                compared=report.compared,
            )
        ]
    return [
        finding(
            step,
            ctx,
            Status.ERROR,
            "rollback incomplete: " + "; ".join(report.problems)[:800],
            severity=Severity.CRITICAL,
            problems=report.problems,
            remediation=f"fix the cause, then run `medic rollback {ctx.run_id}`",
        )
    ]
