"""``medic hosts list|trust``: the SSH inventory, and pinning a host key on explicit request (added to ``medic``
through the hook ``register_commands``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from medic.core.config import load_config
from medic.kernel.errors import UsageError
from medic.plugins.ssh import hostkeys, load_inventory
from medic.plugins.ssh import inventory as inv


def register(sub: Any) -> None:
    p = sub.add_parser("hosts", help="SSH hosts of the inventory; pin a host key")
    psub = p.add_subparsers(dest="hosts_command", metavar="SUBCOMMAND", required=True)
    lst = psub.add_parser("list", help="hosts (and their groups) of the inventory; connects to nothing")
    lst.add_argument("names", nargs="*", metavar="NAME", help="hosts or groups (default: all)")
    lst.add_argument("--inventory", metavar="FILE", help="inventory file (default: config key inventory)")
    lst.add_argument("--limit", metavar="PATTERN", help="only hosts or groups matching these shell patterns")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    trust = psub.add_parser("trust", help="fetch, show and pin a host's SSH key")
    trust.add_argument("host", metavar="HOST", help="inventory host name or ssh://[user@]host[:port]")
    trust.add_argument("--inventory", metavar="FILE", help="inventory file (default: config key inventory)")
    trust.add_argument("--yes", action="store_true", help="pin without asking (fingerprint checked)")
    trust.set_defaults(func=cmd_trust)


def _inventory(path: str | None) -> Any:
    path = path or load_config().get("inventory")
    if not path:
        raise UsageError("no inventory: pass --inventory FILE or set the config key inventory")
    return load_inventory(str(path))


def cmd_list(args: argparse.Namespace) -> int:
    inv = _inventory(args.inventory)
    hosts = inv.select(args.names or ["all"], args.limit)
    rows = [{"name": h.name, "address": h.address, "port": h.port, "user": h.user, "groups": list(h.groups),
             "jump": h.jump.name if h.jump else None, "become": h.become, "vars": dict(h.vars)}
            for h in hosts]
    if args.json:
        json.dump(rows, sys.stdout, indent=2, default=str)
        print()
        return 0
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        extra = f"  via {r['jump']}" if r["jump"] else ""
        print(f"{r['name']:<{width}}  {r['user']}@{r['address']}:{r['port']}  "
              f"[{', '.join(r['groups'])}]{extra}")
    return 0


def _host(args: argparse.Namespace) -> Any:
    if args.host.startswith("ssh:"):
        path = args.inventory or load_config().get("inventory")
        defaults = _inventory(path).defaults if path else None
        return inv.parse_ssh_spec(args.host, defaults)
    hosts = _inventory(args.inventory).select([args.host])
    if len(hosts) != 1:
        raise UsageError(f"{args.host!r} is a group of {len(hosts)} hosts; trust one host at a time")
    return hosts[0]


def cmd_trust(args: argparse.Namespace) -> int:
    from medic.plugins.ssh.keyscan import fetch_host_key  # imports paramiko

    host = _host(args)
    key = fetch_host_key(host)
    known = hostkeys.compare(host, key)
    where = f"{host.name} ({host.address}:{host.port})"
    if known.status == "match":
        print(f"{where}: key {hostkeys.describe(key)} is already pinned in {hostkeys.known_hosts_file(host)}")
        return 0
    if known.status == "revoked" and known.revoked_line is not None:
        raise hostkeys.revoked_error(host, key, known.revoked_line)
    if known.status == "changed":
        raise hostkeys.changed_key_error(host, key, known.expected)
    print(f"{where} offers {hostkeys.describe(key)}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("not pinned: check the fingerprint with the host's administrator, then re-run "
                             "with --yes")
        answer = input(f"Pin this key in {hostkeys.known_hosts_file(host)}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("not pinned")
            return 1
    path = hostkeys.pin(host, key)
    print(f"pinned in {path}")
    return 0
