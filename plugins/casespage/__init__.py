"""The read-only cases page: ``medic casespage`` serves the cases list (filters, SLA state), a case's timeline,
its fault analysis report and the knowledge-base search, with Starlette and Jinja2 (no JavaScript at all).

``app.py`` builds the Starlette application, ``views.py`` reads the stores and renders, ``auth.py`` checks the
token required when the page is bound beyond loopback, ``command.py`` is the command.
"""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.casespage import command

    command.register(subparsers)
