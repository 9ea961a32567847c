"""Who hears about a run, wherever it runs: ``medic run`` here, a deployment's run on a worker or ``medic serve``.

The channels are the configuration's ``notify:``, the playbook's ``notify:`` and, from the command line,
``--notify``; all are checked before anything runs (an unknown channel or a missing option is exit 2 / a Failed
run naming it). The live events (``run.started``, ``step.failed``, ...) go through :class:`RunEvents` on the
run's hooks; the ``run.finished`` notification is sent once the run's result is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medic.core.config import state_dir
from medic.plugins.channels.playbooknotify import checked_playbook_channels


def checked_config_channels(session: Any, extra: Sequence[str] = ()) -> list[str]:
    """The configuration's ``notify:`` and ``extra`` (``--notify``), checked before the playbook is loaded."""
    channels = [*(session.config.get("notify") or []), *extra]
    if channels or "channels" in session.config:  # else nothing to check: no channel machinery imported
        from medic.plugins.channels.configschema import checked_routes

        checked_routes(session, channels)  # the channels: section and every channel named
    return channels


def run_channels(session: Any, playbook: Any, extra: Sequence[str] = ()) -> list[str]:
    """Every channel a run of ``playbook`` reports to: configuration, playbook, then ``extra``."""
    return [*(session.config.get("notify") or []), *checked_playbook_channels(session, playbook), *extra]


def start_events(session: Any, channels: list[str], playbook: str) -> Any:
    """run.started and step.failed for the channels whose ``events:`` ask for them, on the run's hooks."""
    if not channels:
        return None
    from medic.core import notify
    from medic.plugins.channels.runevents import RunEvents

    routes = notify.resolve(channels, session.registry.channels, session.config)
    events = RunEvents.wanted(routes, state_dir(session.config) / "outbox.sqlite", playbook)
    if events is not None:
        session.plugins.pm.register(events, name="run-events")
    return events


def finish(session: Any, events: Any, run: Any, channels: list[str]) -> list[str]:
    """Stop the live events and send ``run.finished``; one line per delivery problem (nothing is lost: what was
    not delivered stays in the outbox for ``medic notify flush``)."""
    problems: list[str] = []
    if events is None and not channels:  # nobody to tell: the outbox (SQLite) is not even opened
        return problems
    if events is not None:
        session.plugins.pm.unregister(events)
        problems += events.finish()
    return [*problems, *session.notify(run, channels)]
