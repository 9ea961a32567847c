"""``medic routing validate [FILE]`` and ``medic routing explain FINDINGS.json`` (added through the hook
``register_commands``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from medic.kernel.errors import UsageError
from medic.plugins.cases import routing
from medic.plugins.cases.decide import decide, findings_of


def register(sub: Any) -> None:
    rt = sub.add_parser("routing", help="case routing: categories, priorities, SLA budgets (routing.yaml)")
    rsub = rt.add_subparsers(dest="routing_command", metavar="SUBCOMMAND", required=True)
    val = rsub.add_parser("validate", help="check routing.yaml against its schema; warn about unset budgets")
    val.add_argument("file", metavar="FILE", nargs="?",
                     help="default: $MEDIC_ROUTING, ~/.config/medic/routing.yaml, else built-ins")
    val.set_defaults(func=cmd_validate)
    exp = rsub.add_parser("explain", help="the category and priority findings get, and the rules that fired")
    exp.add_argument("findings", metavar="FINDINGS.json", help="a run document (medic run --json) or a list")
    exp.add_argument("--routing", metavar="FILE", help="routing.yaml to use (default: as validate)")
    exp.add_argument("--users", type=int, default=None, metavar="N", help="users affected (default: the "
                     "document's users_affected, else 0)")
    exp.add_argument("--json", action="store_true")
    exp.set_defaults(func=cmd_explain)


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = routing.load(args.file)
    print(f"{loaded.source}: valid ({loaded.scheme} scheme, {len(loaded.categories)} category rule(s), "
          f"calendar {loaded.calendar.timezone} {'/'.join(loaded.calendar.days)} {loaded.calendar.start}-"
          f"{loaded.calendar.end}, {loaded.tiers} tiers)")
    for warning in loaded.warnings:
        print(f"medic: warning: {warning}", file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    path = Path(args.findings)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        findings, users = findings_of(document)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None
    loaded = routing.load(args.routing)
    decision = decide(loaded, findings, args.users if args.users is not None else users)
    if args.json:
        json.dump({**decision.to_json(), "routing": loaded.source}, sys.stdout, indent=2)
        print()
        return 0
    print(f"category {decision.category or '-'}, priority {decision.priority} (routing: {loaded.source})")
    for line in decision.fired:
        print(f"  {line}")
    return 0
