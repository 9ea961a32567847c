"""Change safety: verified backup before change, stepwise change with verification, crash-safe rollback.

Registers the step kinds backup, action, verify, rollback and approve; the backup providers files, sqlite,
postgres and command; the checks change.file_contains and change.command_succeeds; and closes each run's
journal when the run ends (commit, or rolled back); adds the commands ``medic backups|runs|rollback|recover``.
docs/change-safety.md describes it all.

Layout:

- step kinds: ``kinds.py`` (backup, action), ``verify.py``, ``rollback.py``, ``approve.py``; what they share:
  ``common.py`` (findings), ``state.py`` (one run's backups, journal and rollback state);
- actions: ``actions.py`` (set_key, replace_file, patch_file, restart_service, command), ``fileedit.py``;
- ``providers/``: the backup providers;
- ``safety/``: the machinery, usable without the step kinds (``medic backups``, ``rollback``, ``recover``):
  ``backups.py`` (provider interface, errors), ``catalogue.py`` (the backup catalogue), ``journal.py`` (the
  durable run journal), ``rollback.py`` (undo, rollback, recover), ``hosts.py`` (this machine as a host, hosts
  reached again from journals), ``hostfunctions.py`` (the registry of functions that run on a host),
  ``backup_ops.py`` (the backup work done there), ``atomicio.py``, ``tiedproc.py``, ``faults.py`` (crash-test
  fault points).

Modules that run on remote hosts (``safety/backup_ops.py`` and what it imports, ``actions.py``, the providers)
import only the standard library and medic modules that do too: an SSH host receives them without this package's
``__init__``.
"""

from __future__ import annotations

import sys
from typing import Any

from medic.core.hookspecs import hookimpl
from medic.core.steps import StepResult
from medic.kernel.models import Status

CHANGE_KINDS = ("action", "verify", "rollback")


@hookimpl(trylast=True)
def register_step_kinds(register: Any) -> None:
    from medic.plugins.change.approve import ApproveStep
    from medic.plugins.change.kinds import ActionStep, BackupStep
    from medic.plugins.change.rollback import RollbackStep
    from medic.plugins.change.verify import VerifyStep

    for kind in (BackupStep(), ActionStep(), VerifyStep(), RollbackStep(), ApproveStep()):
        register(kind)


@hookimpl(trylast=True)
def register_backup_providers(register: Any) -> None:
    from medic.plugins.change.providers import BUILTIN

    for provider in BUILTIN:
        register(provider)


@hookimpl(trylast=True)
def register_checks(register: Any) -> None:
    from medic.plugins.change import checks

    register(checks.config_key.spec)  # type: ignore[attr-defined]
    register(checks.file_contains.spec)  # type: ignore[attr-defined]
    register(checks.command_succeeds.spec)  # type: ignore[attr-defined]


def _errored(results: list[StepResult]) -> bool:
    return any((r.kind in CHANGE_KINDS and r.status == Status.ERROR) or _errored(r.children) for r in results)


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.change import commands

    commands.register(subparsers)


@hookimpl
def on_run_end(run: Any) -> None:
    state = sys.modules.get("medic.plugins.change.state")
    if state is None:  # no change step ran in this process: no journal to close, nothing to import
        return
    state.finish_run(run.run_id, {t for t, results in run.results.items() if _errored(results)})
