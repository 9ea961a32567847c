"""Built-in channels: ``console`` and ``file`` (local), ``webhook`` (signed JSON through the guarded
HTTP client), ``email`` (SMTP, certificate verified),
``slack``, ``mattermost`` and ``teams`` (chat webhooks), ``ticket`` (Request Tracker 5 REST2), ``apprise`` (opt-in,
outside the guard)."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_channels(register: Any) -> None:
    # imported when a channel is used, not with the package (``medic run`` imports its configschema and runevents)
    from medic.plugins.channels.apprise_channel import AppriseChannel
    from medic.plugins.channels.basic import ConsoleChannel, FileChannel
    from medic.plugins.channels.chat import MattermostChannel, SlackChannel, TeamsChannel
    from medic.plugins.channels.email import EmailChannel
    from medic.plugins.channels.ticket import TicketChannel
    from medic.plugins.channels.webhook import WebhookChannel

    register(ConsoleChannel())
    register(FileChannel())
    register(WebhookChannel())
    register(EmailChannel())
    for chat in (SlackChannel(), MattermostChannel(), TeamsChannel()):
        register(chat)
    register(TicketChannel())
    register(AppriseChannel())


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.channels import commands  # imported when medic builds its command line, not on every load

    commands.register(subparsers)
