"""``medic backups list|show|verify|restore``: the backup catalogue (``$MEDIC_BACKUP_DIR`` or
STATE_DIR/backups).

Exit codes: 0 ok; 1 a backup failed verification or a restore differs from its backup; 2 unknown backup id or
bad arguments; 3 the restore itself failed (the message says what to do).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from medic.core.config import state_dir
from medic.kernel.errors import EXIT_FINDINGS_FAILED, UsageError
from medic.plugins.change.commands.common import catalogue, installed, provider_of
from medic.plugins.change.safety.backups import BackupDamaged, BackupError, BackupProvider
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.faults import fault
from medic.plugins.change.safety.hosts import Hosts
from medic.plugins.change.safety.journal import Journal, journal_dir


def register(sub: Any) -> None:
    p = sub.add_parser("backups", help="list, show, verify and restore backups")
    psub = p.add_subparsers(dest="backups_command", metavar="SUBCOMMAND", required=True)
    lst = psub.add_parser("list", help="backups in the catalogue")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    show = psub.add_parser("show", help="one backup's catalogue entry")
    show.add_argument("backup_id", metavar="BACKUP_ID")
    show.add_argument("--manifest", action="store_true", help="print every manifest entry too")
    show.set_defaults(func=cmd_show)
    ver = psub.add_parser("verify", help="re-read the hash and run a restore dry-run")
    ver.add_argument("backup_ids", nargs="+", metavar="BACKUP_ID")
    ver.set_defaults(func=cmd_verify)
    res = psub.add_parser("restore", help="verify, restore (journaled), then compare with the backup")
    res.add_argument("backup_id", metavar="BACKUP_ID")
    res.add_argument(
        "--into",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="restore elsewhere: path=/tmp/copy (files, sqlite), dbname=fresh (postgres)",
    )
    res.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="PATH",
        help="restore only these paths of a directory backup (repeatable)",
    )
    res.set_defaults(func=cmd_restore)


def cmd_list(args: argparse.Namespace) -> int:
    cat, _ = catalogue()
    entries = [{k: v for k, v in e.items() if k != "manifest"} for e in cat.entries()]
    if args.json:
        json.dump(entries, sys.stdout, indent=2, default=str)
        print()
        return 0
    for e in entries:
        v = e.get("verification") or {}
        state = "verified" if v.get("ok") else "FAILED verification" if v else "not verified"
        print(
            f"{e['id']}  {', '.join(e['resources'])}  {e['size']} bytes  {state}  run {e.get('run_id', '-')}"
        )
    if not entries:
        print(f"no backups in {cat.root}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    cat, _ = catalogue()
    entry = cat.get(args.backup_id)
    if not args.manifest:
        entry = {**entry, "manifest": f"{len(entry['manifest'])} entries (--manifest prints them)"}
    json.dump(entry, sys.stdout, indent=2, default=str)
    print()
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    cat, _ = catalogue()
    providers, hosts = installed()
    bad = 0
    try:
        for backup_id in args.backup_ids:
            entry = cat.get(backup_id)
            problems = cat.verify(entry, provider_of(providers, entry), hosts)
            print(f"{backup_id}: " + ("verified (hash re-read, restore dry-run ok)" if not problems
                                      else "FAILED: " + "; ".join(problems)))
            bad += bool(problems)
    finally:
        hosts.close()
    return EXIT_FINDINGS_FAILED if bad else 0


def cmd_restore(args: argparse.Namespace) -> int:
    cat, config = catalogue()
    into: dict[str, str] = {}
    for pair in args.into:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--into {pair!r}: expected KEY=VALUE")
        into[key] = value
    entry = cat.get(args.backup_id)
    providers, hosts = installed()
    try:
        return _restore(args, cat, config, entry, provider_of(providers, entry), hosts, into)
    finally:
        hosts.close()


def _restore(args: argparse.Namespace, cat: Catalogue, config: dict[str, Any], entry: dict[str, Any],
             provider: BackupProvider, hosts: Hosts, into: dict[str, str]) -> int:
    from medic.core.engine import new_run_id

    problems = cat.verify(entry, provider, hosts)
    if problems:
        raise BackupDamaged(
            f"backup {args.backup_id} of {', '.join(entry['resources'])} failed verification and "
            f"was not restored: {'; '.join(problems)}"
        )
    only = args.path or None
    host = entry.get("host")
    journal = Journal.create(journal_dir(state_dir(config)), "restore-" + new_run_id(),
                             target=(host or {}).get("name", "local"), host=host)
    try:
        journal.append(
            "intent",
            op="restore.1",
            step="cli",
            resource=", ".join(entry["resources"]),
            redo=True,
            undo={"type": "restore", "backup_id": args.backup_id, "paths": only},
            paths=[] if into else list(only or []),
        )
        try:
            cat.restore(entry, provider, hosts, only=only, into=into or None)
        except PermissionError as exc:
            raise BackupError(
                f"permission denied restoring {', '.join(entry['resources'])} ({exc.filename}); run as a "
                "user who can write it, then `medic recover` finishes the restore (files are replaced whole)"
            ) from None
        fault("after_action")
        journal.append("done", op="restore.1")
        diffs = cat.compare(entry, provider, hosts, only, into or None)
        journal.append("commit")
        journal.append("end", status="committed")
    finally:
        journal.close()
    if diffs:
        print(
            f"restored {', '.join(entry['resources'])}, but it differs from the backup: " + "; ".join(diffs)
        )
        return EXIT_FINDINGS_FAILED
    print(
        f"restored {', '.join(entry['resources'])} from {args.backup_id}"
        + (f" into {into}" if into else "") + "; identical to the backup"
    )
    return 0
