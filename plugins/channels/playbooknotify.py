"""A playbook's ``notify:``: the channels its runs report to and the events each one wants, in the ``--notify``
syntax (``NAME[:ARG][@EVENT,...]``), added to the configuration's ``notify:`` and the command line's ``--notify``.

    notify:
      - oncall@run.finished,step.failed          # a channel of the configuration, two events
      - file:/var/log/medic/dns.jsonl             # an installed channel with its argument, run.finished

The playbook says who hears about its runs (a change playbook tells the change board about ``change.rolled_back``);
every entry is checked before the run like ``--notify``: an unknown channel or a missing option is exit 2 naming
the playbook's file and line.
"""

from __future__ import annotations

from typing import Any

from medic.kernel.errors import MedicError, UsageError
from medic.kernel.marks import mark_of

SYNTAX = "NAME[:ARG][@EVENT,...], e.g. oncall@run.finished,step.failed"


def _where(playbook: Any, container: Any, key: str | int) -> str:
    mark = mark_of(container, key)
    return f"{playbook.source}:{mark[0]}" if mark else str(playbook.source)


def playbook_channels(playbook: Any) -> list[str]:
    """The ``notify:`` entries of ``playbook`` (none when it has no such key); a wrong type is a UsageError."""
    doc = playbook.raw or {}
    raw = doc.get("notify")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UsageError(f"playbook {playbook.name} ({_where(playbook, doc, 'notify')}): notify: expected a list "
                         f"of channels, each {SYNTAX}")
    for index, entry in enumerate(raw):
        if not isinstance(entry, str) or not entry.strip():
            raise UsageError(f"playbook {playbook.name} ({_where(playbook, raw, index)}): notify[{index}]: "
                             f"expected a channel {SYNTAX}, not {entry!r}")
    return [entry.strip() for entry in raw]


def checked_playbook_channels(session: Any, playbook: Any) -> list[str]:
    """``playbook_channels`` with each entry resolved as ``--notify`` is (channel known, options, secrets)."""
    entries = playbook_channels(playbook)
    if not entries:  # the common case: no channel machinery (outbox, SQLite) imported
        return entries
    from medic.plugins.channels.configschema import checked_routes

    for index, entry in enumerate(entries):
        try:
            checked_routes(session, [entry])
        except MedicError as exc:
            where = _where(playbook, playbook.raw.get("notify"), index)
            raise UsageError(f"playbook {playbook.name} ({where}): notify[{index}]: {exc}") from None
    return entries
