"""``medic checks list|show``: the installed check catalogue."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from medic.core.check import CheckSpec
from medic.core.errors import UsageError
from medic.core.models import Category
from medic.core.session import Session


def register(sub: Any) -> None:
    p = sub.add_parser("checks", help="the diagnostic check catalogue")
    psub = p.add_subparsers(dest="checks_command", metavar="SUBCOMMAND", required=True)
    lst = psub.add_parser("list", help="every installed check")
    lst.add_argument("--category", choices=[str(c) for c in Category])
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    show = psub.add_parser("show", help="a check's parameters, thresholds and an example step")
    show.add_argument("id", metavar="ID")
    show.set_defaults(func=cmd_show)


def cmd_list(args: argparse.Namespace) -> int:
    registry = Session().registry
    specs: list[CheckSpec] = [s for s in registry.checks.values()
                              if not args.category or str(s.category) == args.category]
    if args.json:
        json.dump([s.to_dict() for s in specs], sys.stdout, indent=2)
        print()
        return 0
    width = max((len(s.id) for s in specs), default=2)
    for s in specs:
        live = " (live only)" if s.live else ""
        print(f"{s.id:<{width}}  {s.category:<13} {s.severity:<8} {s.title}{live}")
    return 0


def example_yaml(spec: CheckSpec) -> str:
    lines = [f"- id: {spec.id.split('.')[-1]}", f"  check: {spec.id}"]
    if spec.params:
        lines.append("  with:")
        for p in spec.params:
            value = "..." if p.required else json.dumps(p.default)
            lines.append(f"    {p.name}: {value}")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    registry = Session().registry
    spec: CheckSpec | None = registry.checks.get(args.id)
    if spec is None:
        raise UsageError(f"no check {args.id!r}; `medic checks list` shows the installed ones")
    origin = registry.checks.origin(spec.id)
    print(f"{spec.id}: {spec.title}")
    print(f"  category {spec.category}, severity {spec.severity}, from {origin.distribution}"
          + (", needs a live target" if spec.live else ""))
    if spec.description:
        print(f"  {spec.description}")
    print(f"  probes: {', '.join(spec.probes) or '(depend on parameters)'}")
    print("parameters:")
    for p in spec.params:
        default = "required" if p.required else f"default {json.dumps(p.default)}"
        print(f"  {p.name} ({p.expected()}, {default}): {p.description}")
    if not spec.params:
        print("  (none)")
    if spec.remediation:
        print(f"remediation: {spec.remediation}")
    print("example:")
    print("\n".join("  " + line for line in example_yaml(spec).splitlines()))
    return 0
