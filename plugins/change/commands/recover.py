"""``medic rollback RUN_ID`` and ``medic recover``: undo a run's changes from its journal.

``recover`` finds runs whose process died (their journal has no end and no live process holds its lock): a run
that had committed is marked done, any other is rolled back. Running it again does nothing. Exit codes: 0 done
(or nothing to do), 2 unknown run, 3 a rollback could not finish (the message says what failed; run it again
once fixed).

Each run they undo is announced as ``change.rolled_back``, as a run announces its own rollback: to the channels of
the configuration's ``notify:`` whose ``events:`` ask for it, and to every channel named with ``--notify``. The
channels are checked before anything is undone (exit 2); a failed delivery stays in the outbox and never changes
the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from medic.core.config import load_config, state_dir
from medic.kernel.errors import EXIT_INTERNAL, MedicError
from medic.plugins.change.commands.common import catalogue, installed
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.journal import find, journal_dir, read
from medic.plugins.change.safety.rollback import RollbackReport, recover, rollback_run
from medic.plugins.change.state import rollback_event

EVENT = "change.rolled_back"


def register(sub: Any) -> None:
    rb = sub.add_parser("rollback", help="undo a run's changes (newest first) from its journal and backups")
    rb.add_argument("run_id", metavar="RUN_ID")
    rb.set_defaults(func=cmd_rollback)
    rc = sub.add_parser("recover", help="roll back runs that were interrupted (crash, kill -9, power loss)")
    rc.set_defaults(func=cmd_recover)
    for parser in (rb, rc):
        parser.add_argument("--notify", action="append", default=[], metavar="CHANNEL[:ARG]",
                            help=f"also send {EVENT} to this channel (besides config notify:); repeatable")


class Announcer:
    """``change.rolled_back`` for each run a command undid; the channels are resolved (and refused) up front."""

    def __init__(self, named: list[str]) -> None:
        from medic.core.session import Session
        from medic.plugins.channels.configschema import checked_routes

        session = Session()
        self.state = state_dir(session.config)
        asked = [replace(r, events=(*r.events, EVENT)) for r in checked_routes(session, named)]
        configured = [r for r in checked_routes(session, session.config.get("notify") or [])
                      if r.name not in {a.name for a in asked}]
        self.routes = [r for r in [*configured, *asked] if r.wants(EVENT)]

    def __call__(self, report: RollbackReport, why: str) -> None:
        if not self.routes or not (report.undone or report.problems):
            return
        from medic.core import notify
        from medic.plugins.channels.runevents import event_note

        journal = journal_dir(self.state) / f"{report.run_id}.jnl"
        target = str(read(journal).begin.get("target") or "?") if journal.exists() else "?"
        summary, body, level, data = rollback_event(why, report.status, report.compared, report.problems)
        note = event_note(EVENT, _playbook(self.state, report.run_id), report.run_id, target, summary, body, level,
                          {**data, "undone": len(report.undone)})
        for problem in notify.deliver(self.routes, note, self.state / "outbox.sqlite"):
            print(f"medic: warning: {problem}", file=sys.stderr)


def _playbook(state: Path, run_id: str) -> str:
    """The playbook of a run, from its history document (a run that crashed has none)."""
    try:
        return str(json.loads((state / "runs" / f"{run_id}.json").read_text(encoding="utf-8"))["playbook"])
    except (OSError, ValueError, KeyError, TypeError):
        return "run"


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
    announce = Announcer(args.notify)
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
    announce(report, "medic rollback")
    return 0 if report.ok else EXIT_INTERNAL


def cmd_recover(args: argparse.Namespace) -> int:
    announce = Announcer(args.notify)
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
        announce(r, "medic recover: the run was interrupted")
    return 0 if all(r.ok for r in reports) else EXIT_INTERNAL
