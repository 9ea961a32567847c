"""medic's hook specifications (pluggy project name ``medic``, entry-point group ``medic``).

Registration hooks receive a ``register`` callable: ``register(obj)`` adds one object, ``register(obj,
override=True)`` replaces a same-named one from another plugin (without it, two plugins registering one name is an
error naming both distributions). Lifecycle hooks observe a run. Probes have no hook: a distribution declares its
probe modules under the entry-point group ``medic.probes`` (see :mod:`medic.kernel.probes`).
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("medic")
hookimpl = pluggy.HookimplMarker("medic")


@hookspec
def register_checks(register: Any) -> None:
    """Register diagnostic checks (CheckSpec)."""


@hookspec
def register_channels(register: Any) -> None:
    """Register notification channels (Channel instances)."""


@hookspec
def register_step_kinds(register: Any) -> None:
    """Register step kinds (StepKind instances): check, group, and later action, backup, verify..."""


@hookspec
def register_target_kinds(register: Any) -> None:
    """Register target kinds (TargetKind): local, ssh, bundle..."""


@hookspec
def register_backup_providers(register: Any) -> None:
    """Register backup providers (BackupProvider instances): files, sqlite, postgres, command..."""


@hookspec
def register_commands(subparsers: Any) -> None:
    """Add ``medic`` sub-commands: ``subparsers.add_parser(...)``; each parser sets ``func(args) -> int``."""


@hookspec
def before_step(step: Any, target: Any, run_id: str) -> None:
    """Called before a step runs on a target."""


@hookspec
def after_step(step: Any, target: Any, result: Any, run_id: str) -> None:
    """Called after a step ran on a target, with its StepResult."""


@hookspec
def on_step_error(step: Any, target: Any, error: BaseException, run_id: str) -> None:
    """Called when running a step raised (the step then reports ``error``)."""


@hookspec
def on_run_end(run: Any) -> None:
    """Called once when a run has finished, with its RunResult."""


@hookspec(firstresult=True)
def collector_bundle_received(upload: dict[str, Any], bundle_path: str) -> str | None:
    """A verified bundle arrived (upload: agent_id agent_name upload_id bundle_sha256 bundle_size host note): case."""


@hookspec
def collector_bundle_triaged(case_id: str, run_document: dict[str, Any], report_path: str) -> None:
    """The triage of an arrived bundle finished: attach its run document and report to the case."""
