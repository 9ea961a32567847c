"""Undo what a journal says a run did: in-run rollback, ``medic rollback RUN_ID`` and ``medic recover``.

An intent's ``undo`` is self-describing so that any process can carry it out, with no memory of the run:

    {"type": "restore", "backup_id": ID, "paths": [...] | null}   restore (part of) a catalogued backup
    {"type": "argv", "argv": [...], "phase": "after"}           run a declared undo command
    {"type": "none", "reason": ...}                              nothing can be undone (``backup: none``)

Every undo is idempotent (restoring twice gives the same bytes), so an intent whose effect may or may not have
happened is simply undone. Restores run newest first; ``phase: after`` undos (restarting a service so it reads
the restored configuration) run once every restore is done. Restored files are then compared with the
manifest.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medic.kernel.errors import MedicError
from medic.kernel.models import canonical_json
from medic.plugins.change.safety import backup_ops  # noqa: F401 - registers the host functions undos run
from medic.plugins.change.safety.backups import BackupError, BackupProvider
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.faults import fault
from medic.plugins.change.safety.hosts import LOCAL_ONLY, Hosts
from medic.plugins.change.safety.journal import Journal, JournalLog, journal_dir, journals, read


@dataclass
class RollbackReport:
    run_id: str
    undone: list[str] = field(default_factory=list)  # op ids
    problems: list[str] = field(default_factory=list)
    compared: list[str] = field(default_factory=list)  # what was checked byte for byte
    status: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _provider(providers: Mapping[str, BackupProvider], entry: Mapping[str, Any]) -> BackupProvider:
    provider = providers.get(entry["provider"])
    if provider is None:
        raise BackupError(
            f"backup {entry['id']} needs the {entry['provider']!r} backup provider, which is not installed"
        )
    return provider


def apply_undo(
    undo: Mapping[str, Any],
    providers: Mapping[str, BackupProvider],
    catalogue: Catalogue,
    hosts: Hosts = LOCAL_ONLY,
    host: Mapping[str, Any] | None = None,
) -> None:
    """Carry out one undo; ``host`` is the run's host description (where ``argv`` undos run)."""
    kind = undo.get("type")
    if kind == "restore":
        entry = catalogue.get(str(undo["backup_id"]))
        catalogue.restore(entry, _provider(providers, entry), hosts, only=undo.get("paths"))
    elif kind == "argv":
        hosts.get(host).call("undo.run", argv=list(undo["argv"]))
    elif kind != "none":
        raise BackupError(f"unknown undo type {kind!r} in the journal")


def undo_all(
    journal: Journal,
    log: JournalLog,
    providers: Mapping[str, BackupProvider],
    catalogue: Catalogue,
    hosts: Hosts = LOCAL_ONLY,
) -> RollbackReport:
    """Undo every intent of the journal not undone yet, record each, then compare restored files."""
    report = RollbackReport(log.run_id)
    pending = log.pending_undo()
    ordered = [r for r in pending if r["undo"].get("phase") != "after"] + [
        r for r in reversed(pending) if r["undo"].get("phase") == "after"
    ]
    for record in ordered:
        try:
            apply_undo(record["undo"], providers, catalogue, hosts, _host_of(record, log))
        except (MedicError, OSError, subprocess.SubprocessError) as exc:
            report.problems.append(f"op {record['op']} ({record.get('resource', '?')}): {exc}")
            continue
        fault("after_undo")
        journal.append("undone", op=record["op"])
        report.undone.append(str(record["op"]))
    report.problems += _cleanup(log, hosts)
    if not report.problems:
        try:
            report.problems += _compare(log, providers, catalogue, report, hosts)
        except (MedicError, OSError) as exc:
            report.problems.append(f"comparing the restored resources: {exc}")
    return report


def _compare(
    log: JournalLog,
    providers: Mapping[str, BackupProvider],
    catalogue: Catalogue,
    report: RollbackReport,
    hosts: Hosts,
) -> list[str]:
    by_backup: dict[str, list[str] | None] = {}
    for r in log.intents():
        undo = r["undo"]
        if undo.get("type") != "restore" or r.get("redo"):
            continue
        paths = undo.get("paths")
        old = by_backup.get(undo["backup_id"], [])
        by_backup[undo["backup_id"]] = None if paths is None or old is None else [*old, *paths]
    problems = []
    for backup_id, paths in by_backup.items():
        entry = catalogue.get(backup_id)
        problems += catalogue.compare(entry, _provider(providers, entry), hosts, only=paths)
        report.compared.append(
            f"{', '.join(entry['resources'])}" + (f" ({', '.join(paths)})" if paths else "")
        )
    return problems


def _host_of(record: Mapping[str, Any], log: JournalLog) -> Mapping[str, Any] | None:
    """Where an intent's change ran: its own host (a step with another ``become:``) or the run's."""
    return record["host"] if "host" in record else log.begin.get("host")


def _cleanup(log: JournalLog, hosts: Hosts) -> list[str]:
    """Remove temporary files interrupted writes left beside the changed paths, on the host that changed them."""
    by_host: dict[str, tuple[Mapping[str, Any] | None, set[str]]] = {}
    for r in log.intents():
        host = _host_of(r, log)
        by_host.setdefault(canonical_json(host), (host, set()))[1].update(str(p) for p in r.get("paths") or [])
    problems = []
    for host, found in by_host.values():
        paths = sorted(found)
        if not paths:
            continue
        try:
            hosts.get(host).call("files.remove_temps", paths=paths)
        except (MedicError, OSError) as exc:
            problems.append(f"removing temporary files beside {', '.join(paths)}: {exc}")
    return problems


def rollback_run(
    path: Path,
    providers: Mapping[str, BackupProvider],
    catalogue: Catalogue,
    *,
    end: bool = True,
    hosts: Hosts = LOCAL_ONLY,
) -> RollbackReport | None:
    """Roll back a finished or interrupted run's changes; None when the run's process still holds it."""
    journal = Journal.reopen(path)
    if journal is None:
        return None
    try:
        report = undo_all(journal, read(path), providers, catalogue, hosts)
        if report.ok and end:
            journal.append("end", status="rolled_back")
        report.status = "rolled_back" if report.ok else "rollback incomplete"
        return report
    finally:
        journal.close()


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # unknown: assume alive, never roll back a run that may still be changing things
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reopen(path: Path, log: JournalLog, grace_s: float = 5.0) -> Journal | None:
    """Take over a journal. When its runner is dead but the lock is still held, a child the runner was starting
    (between fork and exec) holds it for a moment: wait a little for it rather than report the run as live."""
    journal = Journal.reopen(path)
    deadline = time.monotonic() + grace_s
    while journal is None and not _pid_alive(log.begin.get("pid")) and time.monotonic() < deadline:
        time.sleep(0.05)
        journal = Journal.reopen(path)
    return journal


def _remove_remote_staging(log: JournalLog, hosts: Hosts) -> list[str]:
    """An interrupted run on a remote host may have left a half-built backup in the host's backup location."""
    if not log.begin.get("host"):
        return []
    try:
        host = hosts.get(log.begin["host"])
        root = host.backup_root()
        removed: list[str] = host.call("backup.remove_staging", root=root) if root else []
    except (MedicError, OSError):
        return []  # the rollback that follows reports an unreachable host
    return removed


def recover(
    state: Path, providers: Mapping[str, BackupProvider], catalogue: Catalogue, hosts: Hosts = LOCAL_ONLY
) -> list[RollbackReport]:
    """Finish every interrupted run: mark committed ones done, roll the others back. Idempotent."""
    reports = []
    removed: list[Any] = catalogue.remove_staging()
    for path in journals(journal_dir(state)):
        log = read(path)
        if log.end is not None:
            continue
        removed += _remove_remote_staging(log, hosts)
        journal = _reopen(path, log)
        if journal is None:
            reports.append(RollbackReport(log.run_id, status="still running (its process holds the journal)"))
            continue
        try:
            if log.committed:
                _cleanup(log, hosts)
                journal.append("end", status="committed", by="recover")
                reports.append(RollbackReport(log.run_id, status="committed: marked done"))
                continue
            report = undo_all(journal, log, providers, catalogue, hosts)
            if report.ok:
                journal.append("end", status="rolled_back", by="recover")
            report.status = "rolled back" if report.ok else "rollback incomplete: fix and run recover again"
            reports.append(report)
        finally:
            journal.close()
    if removed and not reports:
        reports.append(RollbackReport("-", status=f"removed {len(removed)} half-built backup(s)"))
    return reports

