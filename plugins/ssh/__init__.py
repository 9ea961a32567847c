"""Remote targets over SSH: kinds ``ssh`` (``ssh://[user@]host[:port]``) and ``inventory`` (bare names).

Importing this package does not import paramiko: that happens when a target first connects. Options (from
``medic run``): ``inventory`` (a file; else the config key ``inventory``), ``limit`` (``--limit`` patterns).
``ssh://`` targets take their settings (user, key, known_hosts...) from the inventory's ``defaults`` when an
inventory is given. The plugin also adds the command ``medic hosts`` (:mod:`medic.plugins.ssh.commands`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from medic.core.hookspecs import hookimpl
from medic.core.target import Target, TargetContext, TargetKind
from medic.kernel.errors import UsageError
from medic.plugins.ssh import inventory as inv
from medic.plugins.ssh.target import SSHTarget

_cache: dict[tuple[str, float], inv.Inventory] = {}
_lock = threading.Lock()


def inventory_path(ctx: TargetContext) -> str | None:
    path = ctx.options.get("inventory") or ctx.config.get("inventory")
    return str(path) if path else None


def load_inventory(path: str) -> inv.Inventory:
    p = Path(path).expanduser()
    key = (str(p.resolve()), p.stat().st_mtime if p.exists() else 0.0)
    with _lock:
        if key not in _cache:
            _cache[key] = inv.load(p)
        return _cache[key]


def _limit(ctx: TargetContext) -> str | None:
    limit = ctx.options.get("limit")
    return str(limit) if limit else None


def _open_ssh(spec: str, ctx: TargetContext) -> list[Target]:
    path = inventory_path(ctx)
    defaults = load_inventory(path).defaults if path else None
    host = inv.parse_ssh_spec(spec, defaults)
    limit = _limit(ctx)
    if limit is not None and not inv.matches_limit(host, limit):
        return []
    return [SSHTarget(host, ctx.probes)]


def _open_inventory(spec: str, ctx: TargetContext) -> list[Target]:
    path = inventory_path(ctx)
    if not path:
        raise UsageError(f"target {spec!r}: a host or group name needs an inventory (--inventory FILE or the "
                         f"config key inventory)")
    name = spec.removeprefix("inventory:")
    hosts = load_inventory(path).select([name], _limit(ctx))
    return [SSHTarget(h, ctx.probes) for h in hosts]


def _reopen(description: Any) -> Any:
    from medic.plugins.ssh.hostcall import reopen

    return reopen(description)


SSH = TargetKind("ssh", _open_ssh, "a host over SSH: ssh://[user@]host[:port] (paramiko, strict host keys)",
                 reopen=_reopen)
INVENTORY = TargetKind("inventory", _open_inventory, "hosts and groups of an inventory file (--inventory)")


@hookimpl(trylast=True)
def register_target_kinds(register: Any) -> None:
    register(SSH)
    register(INVENTORY)


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.ssh import commands

    commands.register(subparsers)
