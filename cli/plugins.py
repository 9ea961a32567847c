"""``medic plugins list``: each plugin, its distribution and version, and what it registers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from medic.core.session import Session


def register(sub: Any) -> None:
    p = sub.add_parser("plugins", help="installed plugins")
    psub = p.add_subparsers(dest="plugins_command", metavar="SUBCOMMAND", required=True)
    lst = psub.add_parser("list", help="each plugin, its distribution and version, and what it registers")
    lst.add_argument("--json", action="store_true", help="one JSON document")
    lst.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    host = Session().plugins
    rows: list[dict[str, Any]] = [{"name": p.name, "distribution": p.origin.distribution, "version": p.origin.version,
             "provides": {k: v for k, v in p.provides.items() if v}} for p in host.plugins]
    if args.json:
        json.dump({"plugins": rows, "failed": [vars(f) for f in host.failures], "disabled": host.disabled},
                  sys.stdout, indent=2)
        print()
        return 0
    for row in rows:
        print(f"{row['name']}  ({row['distribution']} {row['version']})")
        for kind, names in row["provides"].items():
            shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
            print(f"    {kind}: {shown}")
    for failure in host.failures:
        print(f"FAILED {failure}")
    if host.disabled:
        print(f"disabled by MEDIC_DISABLE_PLUGINS: {', '.join(host.disabled)}")
    return 0
