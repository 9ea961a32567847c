"""The knowledge base plugin: ``medic kb ...`` (store.py: SQLite FTS5; suggest.py: ranking for a problem), case
reports and metrics (``medic far``, ``medic metrics``, ``medic feedback``; fromcase.py, metrics.py), and the article
``medic cases close`` drafts (``casecmds.draft_for``)."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.kb import casecmds, commands

    commands.register(subparsers)
    casecmds.register(subparsers)
