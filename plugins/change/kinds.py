"""The ``backup`` and ``action`` step kinds.

    - id: b1
      backup: files                 # a backup provider: files, sqlite, postgres, command
      with: {path: /etc/app}        # the provider's parameters (+ verify: true)
    - id: set
      action: set_key               # a built-in action (plugins/change/actions.py)
      with: {path: /etc/app/app.ini, section: main, key: workers, value: 8}
      # backup: none                # only with a reason: changes without a verified backup
      # reason: "scratch file"
      # resources: [file:/srv/data] # what a `command` action changes

An action runs only when every resource it changes has a backup verified in this run (hash re-read and restore
dry-run passed), or the step says ``backup: none`` with a ``reason`` (reported as a warning).

``become: sudo`` (or ``false``) on a step runs its backup or change with sudo (or without) on an SSH host. The
backup's catalogue entry and the change's journal intent record it, so verifying, restoring and undoing run
with the same privileges.
"""

from __future__ import annotations

import subprocess
from typing import Any

from medic.core.expr import ExprError
from medic.core.hosts import Host
from medic.core.steps import Step, StepContext, StepKind, StepResult, ValidationContext
from medic.kernel.errors import MedicError
from medic.kernel.models import Severity, Status
from medic.plugins.change.actions import ACTIONS, Plan
from medic.plugins.change.common import finding, reported, result, rollback_findings, skipped
from medic.plugins.change.state import RunState, state_for

CHECK_MODE = "(check mode)"


def no_timeout(step: Step, vc: ValidationContext) -> None:
    """A timed-out step is abandoned while its thread goes on: a change must never be left half-way."""
    if step.timeout is not None:
        vc.error(
            step,
            f"a {step.kind} step cannot have `timeout:` (an abandoned change would go on unjournaled); "
            "commands it runs have their own time limits",
            f"step {step.id!r}.timeout",
        )


class BackupStep(StepKind):
    name = "backup"
    description = "Back up a resource through a backup provider and verify it (hash re-read, restore dry-run)."

    def validate(self, step: Step, vc: ValidationContext) -> None:
        providers = vc.registry.tables["backup_providers"]
        if step.arg not in providers:
            vc.error(
                step,
                f"unknown backup provider {step.arg!r}; installed: {', '.join(providers)}",
                f"step {step.id!r}.backup",
            )

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        params = dict(ctx.render(step.params))
        # `verify: true|false` is this step's; a list is the command provider's own verify command
        verify = params.pop("verify") if isinstance(params.get("verify"), bool) else True
        state = state_for(ctx)
        provider = state.providers[str(step.arg)]
        try:
            resources = provider.resources(params)
            if state.check_mode:
                state.verified.update(dict.fromkeys(resources, CHECK_MODE))
                return reported(
                    step,
                    ctx,
                    Status.PASS,
                    f"would {provider.describe(params)}",
                    {"backup_id": CHECK_MODE, "resources": resources},
                )
            entry = state.catalogue.take(
                provider, params, state.host_for(step.become), verify=verify, run_id=ctx.run_id, step=step.id,
                target=ctx.target.name,
            )
            problems = entry["verification"]["problems"] if verify else ["not verified (verify: false)"]
        except (MedicError, OSError) as exc:
            return reported(step, ctx, Status.FAIL, str(exc), {"verified": False})
        outputs = {
            "backup_id": entry["id"],
            "resources": resources,
            "sha256": entry["sha256"],
            "size": entry["size"],
            "verified": not problems,
        }
        if problems:
            return reported(
                step,
                ctx,
                Status.FAIL,
                f"backup {entry['id']} of {', '.join(resources)} is not verified: {'; '.join(problems)}",
                outputs,
                remediation="take a new backup; check the backup location's disk",
            )
        state.verified.update(dict.fromkeys(resources, entry["id"]))
        return reported(
            step,
            ctx,
            Status.PASS,
            f"backup {entry['id']} of {', '.join(resources)}"
            f" verified ({entry['size']} bytes, sha256 {entry['sha256'][:12]}...)",
            outputs,
            severity=Severity.INFO,
            backup_id=entry["id"],
        )


class ActionStep(StepKind):
    name = "action"
    description = (
        "Change something (set_key, replace_file, patch_file, restart_service, command); refused "
        "without a verified backup of what it changes."
    )
    extra_keys = ("backup", "reason", "resources")

    def validate(self, step: Step, vc: ValidationContext) -> None:
        where = f"step {step.id!r}"
        no_timeout(step, vc)
        if step.arg not in ACTIONS:
            vc.error(step, f"unknown action {step.arg!r}; expected one of {', '.join(ACTIONS)}", f"{where}.action")
        if "backup" in step.extra and (step.extra["backup"] != "none" or not str(step.extra.get("reason", "")).strip()):
            vc.error(step, "`backup:` may only be `none`, and then `reason:` must say why", f"{where}.backup")
        res = step.extra.get("resources")
        if res is not None and (not isinstance(res, list) or not all(isinstance(r, str) for r in res)):
            vc.error(
                step,
                "expected `resources:` as a list like [file:/etc/app, postgres:appdb]",
                f"{where}.resources",
            )
        if step.arg == "command" and res is None:
            vc.error(
                step,
                "a command action must declare the `resources:` it changes ([] if none)",
                f"{where}.resources",
            )

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        state = state_for(ctx)
        if state.halted:
            return skipped(step, ctx, state.halted)
        name = str(step.arg)
        params: dict[str, Any] = dict(ctx.render(step.params))
        try:
            host = state.host_for(step.become)
            # planned on the machine that holds the files (it reads them; systemd may be there or not)
            plan = Plan.from_dict(host.call("action.describe", name=name, params=params))
            resources = plan.resources + list(ctx.render(step.extra.get("resources") or []))
        except ExprError:  # a template the playbook got wrong: the step errors, the change did not fail
            raise
        except (MedicError, OSError) as exc:
            return self._failed(step, ctx, state, f"{name}: {exc}")
        outputs: dict[str, Any] = {"plan": plan.summary, "diff": plan.diff, "commands": plan.commands}
        no_backup = step.extra.get("backup") == "none"
        missing = [r for r in resources if not state.covering(r)]
        if missing and not no_backup:
            why = (
                f"refused: no verified backup of {', '.join(missing)} in this run; add a backup step "
                f"before it, or `backup: none` with a `reason:`"
            )
            if state.check_mode:
                return reported(step, ctx, Status.FAIL, f"would be {why}", outputs)
            return self._failed(step, ctx, state, why, outputs)
        findings = []
        if no_backup and resources:
            why = f"changes {', '.join(resources)} without a backup: {step.extra.get('reason')}"
            findings.append(finding(step, ctx, Status.WARN, why, severity=Severity.MEDIUM))
        if state.check_mode:
            findings.append(
                finding(
                    step,
                    ctx,
                    Status.PASS,
                    plan.summary,
                    severity=Severity.INFO,
                    **({"diff": plan.diff} if plan.diff else {"commands": plan.commands}),
                )
            )
            return result(step, ctx, findings, outputs)
        try:
            outputs.update(
                state.change(
                    step.id,
                    self._intents(name, plan, resources, state, step, host),
                    lambda: host.call("action.apply", name=name, params=params),
                )
            )
        except (MedicError, OSError, subprocess.SubprocessError) as exc:
            return self._failed(step, ctx, state, f"{name} failed: {exc}", outputs)
        findings.append(finding(step, ctx, Status.PASS, plan.summary.replace("would ", "", 1), severity=Severity.INFO))
        return result(step, ctx, findings, outputs)

    def _intents(
        self, name: str, plan: Plan, resources: list[str], state: RunState, step: Step, host: Host
    ) -> list[dict[str, Any]]:
        paths = plan.paths
        intents: list[dict[str, Any]] = []
        for res in resources:
            backup_id = state.covering(res)
            undo = (
                {
                    "type": "restore",
                    "backup_id": backup_id,
                    "paths": [res[5:]] if res.startswith("file:") else None,
                }
                if backup_id
                else {"type": "none", "reason": step.extra.get("reason", "")}
            )
            intents.append({"resource": res, "undo": undo, "paths": paths})
        if plan.undo or not intents:
            intents.append({"resource": f"action:{name}", "undo": plan.undo or {"type": "none"}, "paths": paths})
        if host is not state.host:  # another become than the run's host: undo commands run as this step did
            for intent in intents:
                intent["host"] = host.describe()
        return intents

    def _failed(
        self, step: Step, ctx: StepContext, state: RunState, why: str, outputs: dict[str, Any] | None = None
    ) -> StepResult:
        findings = [finding(step, ctx, Status.FAIL, why)]
        if not state.check_mode:
            findings += rollback_findings(step, ctx, state.rollback(why))
        return result(step, ctx, findings, outputs)
