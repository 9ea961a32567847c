"""``medic bundles inspect PATH``: verify a bundle and show its manifest (what was collected, skipped, redacted)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("bundles", help="diagnostics bundles collected by medic-agent")
    psub = p.add_subparsers(dest="bundles_command", metavar="SUBCOMMAND", required=True)
    inspect = psub.add_parser("inspect", help="verify every member's hash and show the manifest")
    inspect.add_argument("path", metavar="PATH")
    inspect.add_argument("--json", action="store_true", help="print the manifest as JSON")
    inspect.set_defaults(func=cmd_inspect)


def cmd_inspect(args: argparse.Namespace) -> int:
    from medic.kernel.bundle import open_bundle

    with open_bundle(args.path) as bundle:  # verifies sizes and sha256 of every member, refuses unsafe ones
        m = bundle.manifest.to_dict()
    if args.json:
        json.dump(m, sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    print(f"{args.path}: verified, format {m['format_version']}, agent {m['agent_version']}")
    print(f"host: {m['host']}   collected: {m['started_at']} .. {m['finished_at']}")
    for key, value in sorted((m.get("info") or {}).items()):
        print(f"{key}: {value}")
    members = m.get("members", [])
    print(f"members: {len(members)}, {sum(x['size'] for x in members)} bytes")
    for member in members:
        print(f"  {member['size']:>9}  {member['sha256'][:16]}  {member['kind']:<11} {member['path']}")
    probes = m.get("probes", [])
    print(f"probes: {len(probes)}")
    for p in probes:
        print(f"  {p['status']:<11} {p['duration_s']:7.3f} s  {p['key']}")
    skipped = m.get("skipped", [])
    if skipped:
        print(f"skipped: {len(skipped)}")
        for s in skipped:
            print(f"  {s['item']}: {s['reason']}")
    redaction = m.get("redaction") or {}
    print("redaction: " + (", ".join(f"{k} {v}" for k, v in redaction.items()) if redaction else "nothing found"))
    return 0
