"""The ``rollback`` step kind: restore a catalogued backup (then compare it), or undo this run's changes.

- id: r1
  rollback: "{{ inputs.backup_id }}"  # a backup id, or `changes`
  with: {into: ...}                   # restore somewhere else, when the provider supports it
"""

from __future__ import annotations

from medic.core.expr import ExprError
from medic.core.steps import Step, StepContext, StepKind, StepResult, ValidationContext
from medic.kernel.errors import MedicError
from medic.kernel.models import Severity, Status
from medic.plugins.change.common import finding, reported, result, rollback_findings
from medic.plugins.change.safety.hosts import Hosts
from medic.plugins.change.state import RunState, state_for


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
            return self._restore(step, ctx, state, arg)
        except ExprError:  # a template the playbook got wrong: the step errors, the restore did not fail
            raise
        except (MedicError, OSError) as exc:
            return reported(step, ctx, Status.FAIL, str(exc))

    def _restore(self, step: Step, ctx: StepContext, state: RunState, arg: str) -> StepResult:
        """Verify the backup ``arg``, restore it (journaled, so the run can undo it) and compare."""
        entry = state.catalogue.get(arg)
        provider = state.providers[entry["provider"]]
        what = ", ".join(entry["resources"])
        if state.check_mode:
            return reported(step, ctx, Status.PASS, f"would restore {what} from {arg}", {"backup_id": arg},
                            severity=Severity.INFO)
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
            return reported(step, ctx, Status.FAIL,
                            f"backup {arg} of {what} failed verification, not restored: {'; '.join(problems)}")
        into = ctx.render(step.params).get("into")
        intent = {
            "resource": what,
            "undo": {"type": "restore", "backup_id": arg, "paths": None},
            "redo": True,
            "paths": [entry["meta"]["root"]] if entry["provider"] == "files" else [],
        }
        state.change(step.id, [intent], lambda: state.catalogue.restore(entry, provider, state.hosts, into=into))
        diffs = state.catalogue.compare(entry, provider, state.hosts, into=into)
        if diffs:
            return reported(step, ctx, Status.FAIL, f"restored {what} differs from backup {arg}: "
                            + "; ".join(diffs[:10]), {"backup_id": arg})
        state.announce_rollback(f"step {step.id} restored {what} from {arg}", "rolled back", [what], [])
        return reported(step, ctx, Status.PASS, f"restored {what} from {arg}; identical to the backup",
                        {"backup_id": arg}, severity=Severity.INFO)
