"""``medic playbooks list|validate|schema|show``.

``validate`` checks a playbook as ``medic run`` loads it (core), its ``triggers:`` as ``medic deploy`` compiles
them (medic.flows.triggers) and its ``notify:`` channels as ``medic run`` resolves them (the channels plugin): the
CLI is the one place that joins them (core never imports flows or plugins).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from medic.core import catalog
from medic.core import playbook as playbook_mod
from medic.core.schema import playbook_schema
from medic.core.session import Session
from medic.flows.triggers import trigger_issues  # no Prefect at import: the checker medic deploy uses
from medic.kernel.errors import EXIT_USAGE, UsageError, ValidationError
from medic.plugins.channels.playbooknotify import checked_playbook_channels


def register(sub: Any) -> None:
    p = sub.add_parser("playbooks", help="list, validate and show playbooks")
    psub = p.add_subparsers(dest="playbooks_command", metavar="SUBCOMMAND", required=True)
    lst = psub.add_parser("list", help="packaged playbooks and those in configured directories")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    val = psub.add_parser("validate", help="check playbook files; every problem with file:line:column")
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(func=cmd_validate)
    sch = psub.add_parser("schema", help="print the JSON Schema of playbooks (for editors)")
    sch.set_defaults(func=cmd_schema)
    probes = psub.add_parser("probes", help="the probe calls playbooks make with their default inputs "
                                            "(what a bundle must hold for them)")
    probes.add_argument("names", nargs="*", metavar="NAME_OR_PATH", help="default: every listed playbook")
    probes.add_argument("--json", action="store_true")
    probes.set_defaults(func=cmd_probes)
    show = psub.add_parser("show", help="show a playbook's inputs and steps")
    show.add_argument("name", metavar="NAME_OR_PATH")
    show.set_defaults(func=cmd_show)


def cmd_list(args: argparse.Namespace) -> int:
    session = Session()
    refs = catalog.all_playbooks(session.config)
    if args.json:
        json.dump([{"name": r.name, "path": str(r.path), "origin": r.origin, "description": r.description}
                   for r in refs], sys.stdout, indent=2)
        print()
        return 0
    width = max((len(r.name) for r in refs), default=4)
    for r in refs:
        print(f"{r.name:<{width}}  {r.description}  [{r.origin}]")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    session = Session()
    bad = 0
    for name in args.files:
        try:
            pb = playbook_mod.load(catalog.resolve(name, session.config), session.registry)
        except ValidationError as exc:
            bad += 1
            print("\n".join(str(i) for i in exc.issues), file=sys.stderr)
            continue
        issues = trigger_issues(pb)
        if issues:
            bad += 1
            print("\n".join(str(i) for i in issues), file=sys.stderr)
            continue
        try:
            checked_playbook_channels(session, pb)
        except UsageError as exc:
            bad += 1
            print(exc, file=sys.stderr)
            continue
        print(f"{name}: ok ({pb.name}, {len(pb.all_steps())} steps)")
    return EXIT_USAGE if bad else 0


def cmd_schema(args: argparse.Namespace) -> int:
    json.dump(playbook_schema(Session().registry), sys.stdout, indent=2)
    print()
    return 0


def cmd_probes(args: argparse.Namespace) -> int:
    skipped: dict[str, str] = {}
    table = Session().playbook_probes(args.names, skipped)
    for name, why in skipped.items():  # on stderr: the table (and --json) stays what a profile reads
        print(f"medic: skipped playbook {name}: {why}", file=sys.stderr)
    if args.json:
        json.dump(table, sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    for name, calls in table.items():
        print(f"{name}:")
        for call in calls:
            params = json.dumps(call["params"], sort_keys=True) if call["params"] else ""
            print(f"  {call['probe']} {params}".rstrip())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    session = Session()
    pb = session.load_playbook(args.name)
    print(f"{pb.name}  ({pb.source})")
    if pb.description:
        print(f"  {pb.description.strip()}")
    print("inputs:")
    for name, param in pb.inputs.items():
        default = "required" if param.required else f"default {param.default!r}"
        print(f"  {name} ({param.type}, {default}) {param.description}")
    if not pb.inputs:
        print("  (none)")
    print(f"targets: {', '.join(pb.targets)}")
    print("steps:")

    def show(steps: list[Any], depth: int) -> None:
        for s in steps:
            extra = (f"  when: {s.when}" if s.when else "") + \
                    ("" if s.become is None else f"  become: {'sudo' if s.become else 'false'}")
            print(f"{'  ' * depth}- {s.id}: {s.kind} {s.arg}{extra}")
            show(s.children, depth + 1)

    show(pb.steps, 1)
    return 0
