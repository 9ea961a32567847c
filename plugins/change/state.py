"""What the change step kinds of one run on one target share: verified backups, the journal, rollback state.

Created on the first change step of a run and finished by the ``on_run_end`` hook: a run whose changes all
completed (and whose verifications passed) is committed; one that rolled back is closed as such. A run that
dies leaves its journal open for ``medic recover``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from medic.core.config import state_dir
from medic.core.hosts import Host
from medic.core.steps import StepContext
from medic.plugins.change.safety.backups import BackupProvider
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.faults import fault
from medic.plugins.change.safety.hosts import Hosts
from medic.plugins.change.safety.journal import Journal, journal_dir
from medic.plugins.change.safety.rollback import RollbackReport, undo_all

_STATES: dict[tuple[str, str], RunState] = {}
_LOCK = threading.Lock()


def covers(backup_resource: str, resource: str) -> bool:
    if backup_resource == resource:
        return True
    if backup_resource.startswith("file:") and resource.startswith("file:"):
        return resource[5:].startswith(backup_resource[5:].rstrip("/") + "/")
    return False


def catalogue_for(options: Mapping[str, Any]) -> Catalogue:
    if os.environ.get("MEDIC_BACKUP_DIR"):
        return Catalogue.default()
    return Catalogue(state_of(options) / "backups")


def state_of(options: Mapping[str, Any]) -> Path:
    return Path(str(options["state_dir"])) if options.get("state_dir") else state_dir()


class RunState:
    def __init__(
        self,
        run_id: str,
        target: str,
        options: Mapping[str, Any],
        providers: Mapping[str, BackupProvider],
        open_host: Callable[[], Host],
        hosts: Hosts | None = None,
    ) -> None:
        self.run_id, self.target, self.options, self.providers = run_id, target, options, providers
        self._open_host = open_host
        self._host: Host | None = None
        self._become: dict[bool, Host] = {}  # the host with or without sudo, for steps with become:
        self.hosts = hosts or Hosts()
        self.check_mode = bool(options.get("check_mode"))
        self.catalogue = catalogue_for(options)
        self.verified: dict[str, str] = {}  # resource -> backup id (or "(check mode)")
        self._journal: Journal | None = None
        self.ops = 0
        self.rolled_back: RollbackReport | None = None
        self.halted: str | None = None  # why later changes must not run

    @property
    def host(self) -> Host:
        """The machine this target's changes happen on (raises TargetError for a target that cannot change)."""
        if self._host is None:
            self._host = self._open_host()
            self.hosts.add(self._host)
        return self._host

    def host_for(self, become: bool | None) -> Host:
        """The host as a step with this ``become`` changes things on it (None: as the target is set up)."""
        if become is None:
            return self.host
        if become not in self._become:
            host = self._become[become] = self.host.with_become(become)
            self.hosts.add(host)
        return self._become[become]

    def covering(self, resource: str) -> str | None:
        for res, backup_id in self.verified.items():
            if covers(res, resource):
                return backup_id
        return None

    def journal(self) -> Journal:
        if self._journal is None:
            name = self.run_id if self.target == "local" else f"{self.run_id}.{self.target}"
            self._journal = Journal.create(
                journal_dir(state_of(self.options)), name, target=self.target, host=self.host.describe()
            )
            fault("after_begin")
        return self._journal

    def change(self, step_id: str, intents: list[dict[str, Any]], fn: Callable[[], Any]) -> Any:
        """Journal every undo intent (synced), make the change, journal its completion."""
        journal = self.journal()
        ops = []
        for intent in intents:
            self.ops += 1
            op = f"{step_id}.{self.ops}"
            journal.append("intent", op=op, step=step_id, **intent)
            ops.append(op)
        fault("after_intent")
        result = fn()
        fault("after_action")
        for op in ops:
            journal.append("done", op=op)
        fault("after_done")
        return result

    def rollback(self, why: str) -> RollbackReport:
        """Undo every change of this run so far, newest first, then compare the restored resources."""
        self.halted = f"the run rolled back: {why}"
        if self._journal is None:
            self.rolled_back = RollbackReport(self.run_id, status="nothing to roll back")
            return self.rolled_back
        report = undo_all(self._journal, self._journal.log(), self.providers, self.catalogue, self.hosts)
        report.status = "rolled back" if report.ok else "rollback incomplete"
        self.rolled_back = report
        if report.undone or report.problems:
            self.announce_rollback(why, report.status, report.compared, report.problems)
        return report

    def announce_rollback(self, why: str, status: str, compared: list[str], problems: list[str]) -> None:
        """``change.rolled_back`` to the run's channels that ask for it."""
        from medic.plugins.channels.runevents import emit

        summary, body, level, data = rollback_event(why, status, compared, problems)
        emit(self.run_id, "change.rolled_back", self.target, summary, body, level, **data)

    def finish(self, failed: bool) -> None:
        try:
            self._finish(failed)
        finally:
            self.hosts.close()

    def _finish(self, failed: bool) -> None:
        journal = self._journal
        if journal is None:
            return
        try:
            if self.rolled_back is not None:
                if self.rolled_back.ok:
                    journal.append("end", status="rolled_back")
            elif failed:
                report = self.rollback("a change step failed")
                if report.ok:
                    journal.append("end", status="rolled_back")
            else:
                fault("before_commit")
                journal.append("commit")
                fault("after_commit")
                journal.append("end", status="committed")
        finally:
            journal.close()


def rollback_event(why: str, status: str, compared: list[str], problems: list[str]
                   ) -> tuple[str, str, str, dict[str, Any]]:
    """What ``change.rolled_back`` says, from a run or from ``medic rollback|recover``: summary, body, status, data."""
    body = "\n".join([f"{status}: {why}", *(f"checked: {c}" for c in compared), *problems])
    return f"{status}: {why}", body, "warn" if not problems else "fail", {
        "why": why, "rollback": status, "problems": len(problems)}


def state_for(ctx: StepContext) -> RunState:
    key = (ctx.run_id, ctx.target.name)
    with _LOCK:
        state = _STATES.get(key)
        if state is None:
            providers = ctx.registry.tables["backup_providers"]
            state = _STATES[key] = RunState(
                ctx.run_id,
                ctx.target.name,
                ctx.options,
                {n: providers[n] for n in providers},
                ctx.target.change_host,
                hosts_from(ctx.registry),
            )
        return state


def hosts_from(registry: Any) -> Hosts:
    """Hosts reachable again through the installed target kinds (for backups taken on other hosts)."""
    kinds = registry.tables["target_kinds"]
    return Hosts({n: kinds[n].reopen for n in kinds if getattr(kinds[n], "reopen", None)})


def finish_run(run_id: str, failed_targets: set[str]) -> None:
    with _LOCK:
        keys = [k for k in _STATES if k[0] == run_id]
        states = [_STATES.pop(k) for k in keys]
    for state in states:
        state.finish(state.target in failed_targets)
