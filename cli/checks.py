"""``medic checks list|show|docs``: the installed check catalogue and its generated reference."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from medic.core.check import CheckSpec
from medic.core.session import Session
from medic.kernel.errors import UsageError
from medic.kernel.models import Category
from medic.plugins.checks import docs


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
    docs = psub.add_parser("docs", help="the Markdown check reference generated from the installed checks")
    docs.add_argument("--output", metavar="FILE", help="write it to FILE instead of standard output")
    docs.add_argument("--check", action="store_true", help="exit 1 when FILE differs from the generated text")
    docs.add_argument("--builtin", action="store_true", help="only medic's own checks (as in docs/checks.md)")
    docs.set_defaults(func=cmd_docs)


def cmd_list(args: argparse.Namespace) -> int:
    registry = Session().registry
    specs: list[CheckSpec] = [
        s for s in registry.checks.values() if not args.category or str(s.category) == args.category
    ]
    if args.json:
        json.dump([s.to_dict() for s in specs], sys.stdout, indent=2)
        print()
        return 0
    width = max((len(s.id) for s in specs), default=2)
    for s in specs:
        live = " (live only)" if s.live else ""
        print(f"{s.id:<{width}}  {s.category:<13} {s.severity:<8} {s.title}{live}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    registry = Session().registry
    spec: CheckSpec | None = registry.checks.get(args.id)
    if spec is None:
        raise UsageError(f"no check {args.id!r}; `medic checks list` shows the installed ones")
    origin = registry.checks.origin(spec.id)
    print(f"{spec.id}: {spec.title}")
    print(
        f"  category {spec.category}, severity {spec.severity}, from {origin.distribution}"
        + (", needs a live target" if spec.live else "")
    )
    if spec.description:
        print(f"  {spec.description}")
    print(f"  probes: {', '.join(docs.probe_names(spec)) or '(depend on parameters)'}")
    print("parameters:")
    for p in spec.params:
        default = "required" if p.required else f"default {json.dumps(p.default)}"
        print(f"  {p.name} ({p.expected()}, {default}): {p.description}")
    if not spec.params:
        print("  (none)")
    limits = docs.thresholds(spec)
    if limits:
        print("thresholds: " + ", ".join(f"{p.name}={json.dumps(p.default)}" for p in limits))
    if spec.remediation:
        print(f"remediation: {spec.remediation}")
    print("example:")
    print("\n".join("  " + line for line in docs.example_yaml(spec).splitlines()))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    checks = Session().registry.checks
    text = docs.render(
        checks[i] for i in checks if not args.builtin or checks.origin(i).distribution == "medic"
    )
    if not args.output:
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    if args.check:
        current = path.read_text() if path.exists() else ""
        if current != text:
            print(f"{path} is out of date; run: medic checks docs --output {path}", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.write_text(text)
    print(f"wrote {path} ({text.count(chr(10))} lines)")
    return 0
