"""medic's own HTTP channels pass the contract it offers plugin authors (medic.testing.ChannelContract)."""

from __future__ import annotations

import base64
from typing import Any

from medic.plugins.channels.chat import MattermostChannel, SlackChannel, TeamsChannel
from medic.plugins.channels.email import EmailChannel
from medic.plugins.channels.ticket import TicketChannel
from medic.plugins.channels.webhook import WebhookChannel
from medic.testing import Answer, ChannelContract, MailChannelContract, SmtpSink


class TestWebhookContract(ChannelContract):
    channel = WebhookChannel()
    idempotency_header = "webhook-id"
    secret_value = "whsec_" + base64.b64encode(b"contract-canary-key-0123456789ab").decode()

    def options(self, url: str) -> dict[str, Any]:
        return {"url": url, "secret": f"env:{self.secret_env}"}


class _ChatContract(ChannelContract):
    renders_markup = True
    secret_value = "T0KEN-contract-canary"

    def options(self, url: str) -> dict[str, Any]:
        return {"url": f"env:{self.secret_env}"}  # the URL itself is the secret

    def _send(self, sink: Any, note: Any, **extra: Any) -> None:
        import os

        os.environ[self.secret_env] = f"{sink.url}?token={self.secret_value}"
        super()._send(sink, note, **extra)


class TestSlackContract(_ChatContract):
    channel = SlackChannel()


class TestMattermostContract(_ChatContract):
    channel = MattermostChannel()


class TestTeamsContract(_ChatContract):
    channel = TeamsChannel()


class TestEmailContract(MailChannelContract):
    channel = EmailChannel()

    def options(self, smtp: SmtpSink) -> dict[str, Any]:
        return {"host": smtp.host, "port": smtp.port, "ca_file": smtp.ca_file, "from": "medic@example.org",
                "to": "ops@example.org", "username": smtp.username, "password": f"env:{self.secret_env}"}


class TestTicketContract(ChannelContract):
    """The ticket channel's first notification of a run is one ticket creation (RT answers 201 and its id)."""

    channel = TicketChannel()
    reply = Answer(201, {"content-type": "application/json"}, body=b'{"id": "7", "type": "ticket"}')

    def options(self, url: str) -> dict[str, Any]:
        return {"url": url.removesuffix("/hook"), "token": f"env:{self.secret_env}"}
