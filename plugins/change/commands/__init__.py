"""The change plugin's ``medic`` sub-commands: ``backups``, ``runs``, ``rollback`` and ``recover``."""

from __future__ import annotations

from typing import Any

from medic.plugins.change.commands import backups, recover, runs


def register(subparsers: Any) -> None:
    for module in (backups, runs, recover):
        module.register(subparsers)
