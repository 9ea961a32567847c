"""``medic rollback RUN_ID`` and ``medic recover``: undo a run's changes from its journal.

``recover`` finds runs whose process died (their journal has no end and no live process holds its lock): a run
that had committed is marked done, any other is rolled back. Running it again does nothing. Exit codes: 0 done
(or nothing to do), 2 unknown run, 3 a rollback could not finish (the message says what failed; run it again
once fixed).
"""

from __future__ import annotations

import argparse
from typing import Any

from medic.core.config import load_config, state_dir
from medic.kernel.errors import EXIT_INTERNAL, MedicError
from medic.plugins.change.commands.common import catalogue, installed
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.journal import find, journal_dir, read
from medic.plugins.change.safety.rollback import RollbackReport, recover, rollback_run


def register(sub: Any) -> None:
    rb = sub.add_parser("rollback", help="undo a run's changes (newest first) from its journal and backups")
    rb.add_argument("run_id", metavar="RUN_ID")
    rb.set_defaults(func=cmd_rollback)
    rc = sub.add_parser("recover", help="roll back runs that were interrupted (crash, kill -9, power loss)")
    rc.set_defaults(func=cmd_recover)


def _print(report: RollbackReport) -> None:
    print(
        f"{report.run_id}: {report.status}"
        + (f"; undid {len(report.undone)} change(s)" if report.undone else "")
    )
    for c in report.compared:
        print(f"  identical to its backup: {c}")
    for p in report.problems:
        print(f"  problem: {p}")


def cmd_rollback(args: argparse.Namespace) -> int:
    state = state_dir(load_config())
    path = find(journal_dir(state), args.run_id)
    cat: Catalogue = catalogue()[0]
    if read(path).status == "rolled_back":
        print(f"{args.run_id}: already rolled back")
        return 0
    providers, hosts = installed()
    try:
        report = rollback_run(path, providers, cat, hosts=hosts)
    finally:
        hosts.close()
    if report is None:
        raise MedicError(
            f"run {args.run_id} is still running (its process holds the journal); wait for it or stop "
            f"it, then run `medic recover`"
        )
    _print(report)
    return 0 if report.ok else EXIT_INTERNAL


def cmd_recover(args: argparse.Namespace) -> int:
    state = state_dir(load_config())
    providers, hosts = installed()
    try:
        reports = recover(state, providers, catalogue()[0], hosts)
    finally:
        hosts.close()
    if not reports:
        print("nothing to recover")
    for r in reports:
        _print(r)
    return 0 if all(r.ok for r in reports) else EXIT_INTERNAL
