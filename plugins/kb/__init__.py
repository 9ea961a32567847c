"""The knowledge base plugin: ``medic kb ...`` (store.py: SQLite FTS5; suggest.py: ranking for a problem)."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.kb import commands

    commands.register(subparsers)
