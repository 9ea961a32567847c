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

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medic.core import atomicio
from medic.core.backups import LOCAL, BackupError, BackupProvider, Catalogue
from medic.core.faults import fault
from medic.core.journal import Journal, JournalLog, journal_dir, journals, read


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


def apply_undo(
    undo: Mapping[str, Any], providers: Mapping[str, BackupProvider], catalogue: Catalogue
) -> None:
    kind = undo.get("type")
    if kind == "restore":
        entry = catalogue.get(str(undo["backup_id"]))
        provider = providers.get(entry["provider"])
        if provider is None:
            raise BackupError(
                f"backup {entry['id']} needs the {entry['provider']!r} backup provider, which is not "
                f"installed"
            )
        provider.restore(entry, catalogue.directory(entry["id"]), LOCAL, only=undo.get("paths"))
    elif kind == "argv":
        proc = subprocess.run(list(undo["argv"]), capture_output=True, check=False, timeout=600)
        if proc.returncode != 0:
            raise BackupError(
                f"undo command {undo['argv'][0]} exited {proc.returncode}: "
                f"{proc.stderr.decode(errors='replace')[-300:]}"
            )
    elif kind != "none":
        raise BackupError(f"unknown undo type {kind!r} in the journal")


def undo_all(
    journal: Journal, log: JournalLog, providers: Mapping[str, BackupProvider], catalogue: Catalogue
) -> RollbackReport:
    """Undo every intent of the journal not undone yet, record each, then compare restored files."""
    report = RollbackReport(log.run_id)
    pending = log.pending_undo()
    ordered = [r for r in pending if r["undo"].get("phase") != "after"] + [
        r for r in reversed(pending) if r["undo"].get("phase") == "after"
    ]
    for record in ordered:
        try:
            apply_undo(record["undo"], providers, catalogue)
        except (BackupError, OSError, subprocess.SubprocessError) as exc:
            report.problems.append(f"op {record['op']} ({record.get('resource', '?')}): {exc}")
            continue
        fault("after_undo")
        journal.append("undone", op=record["op"])
        report.undone.append(str(record["op"]))
    _cleanup(log)
    if not report.problems:
        report.problems += _compare(log, providers, catalogue, report)
    return report


def _compare(
    log: JournalLog, providers: Mapping[str, BackupProvider], catalogue: Catalogue, report: RollbackReport
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
        problems += providers[entry["provider"]].compare(
            entry, catalogue.directory(backup_id), LOCAL, only=paths
        )
        report.compared.append(
            f"{', '.join(entry['resources'])}" + (f" ({', '.join(paths)})" if paths else "")
        )
    return problems


def _cleanup(log: JournalLog) -> None:
    for r in log.intents():
        for p in r.get("paths") or []:
            atomicio.remove_temps(Path(p).parent, Path(p).name)


def rollback_run(
    path: Path, providers: Mapping[str, BackupProvider], catalogue: Catalogue, *, end: bool = True
) -> RollbackReport | None:
    """Roll back a finished or interrupted run's changes; None when the run's process still holds it."""
    journal = Journal.reopen(path)
    if journal is None:
        return None
    try:
        report = undo_all(journal, read(path), providers, catalogue)
        if report.ok and end:
            journal.append("end", status="rolled_back")
        report.status = "rolled_back" if report.ok else "rollback incomplete"
        return report
    finally:
        journal.close()


def recover(
    state: Path, providers: Mapping[str, BackupProvider], catalogue: Catalogue
) -> list[RollbackReport]:
    """Finish every interrupted run: mark committed ones done, roll the others back. Idempotent."""
    reports = []
    removed = catalogue.remove_staging()
    for path in journals(journal_dir(state)):
        log = read(path)
        if log.end is not None:
            continue
        journal = Journal.reopen(path)
        if journal is None:
            reports.append(RollbackReport(log.run_id, status="still running (its process holds the journal)"))
            continue
        try:
            if log.committed:
                _cleanup(log)
                journal.append("end", status="committed", by="recover")
                reports.append(RollbackReport(log.run_id, status="committed: marked done"))
                continue
            report = undo_all(journal, log, providers, catalogue)
            if report.ok:
                journal.append("end", status="rolled_back", by="recover")
            report.status = "rolled back" if report.ok else "rollback incomplete: fix and run recover again"
            reports.append(report)
        finally:
            journal.close()
    if removed and not reports:
        reports.append(RollbackReport("-", status=f"removed {len(removed)} half-built backup(s)"))
    return reports

