"""``apprise`` (opt-in): any of Apprise's many services, for the long tail medic has no channel of its own for.

Outside the SSRF guard: Apprise posts with ``requests``, follows redirects and checks no address at connect
time, so an ``apprise`` instance reaches whatever its URL names. Configure it only with URLs an admin chose.
The Apprise URL carries the service's credentials, so ``url`` is a secret reference, resolved when sending.
Apprise says only whether a delivery worked, so a failure is retried by the outbox and then dead-lettered.
"""

from __future__ import annotations

from typing import Any

from medic.core.channel import Channel, DeliveryError, Notification
from medic.kernel.errors import UsageError
from medic.plugins.channels import secrets
from medic.plugins.channels.chat import shorten


def _apprise_for(url: str) -> Any:
    import apprise  # installed with Prefect; imported only by a run that uses this channel

    client = apprise.Apprise()
    if not client.add(url):
        raise UsageError("apprise channel: Apprise does not recognise the URL (see its list of service URLs)")
    return client


class AppriseChannel(Channel):
    name = "apprise"
    description = "send through Apprise's services, outside the SSRF guard (option: url, a secret reference)"
    durable = True
    arg_option = "url"

    def check_options(self, options: dict[str, Any]) -> None:
        unknown = sorted(set(options) - {"url"})
        if unknown:
            raise UsageError(f"apprise channel: unknown option {unknown[0]!r}; known: url")
        if "url" not in options:
            raise UsageError("apprise channel: option 'url' is required, a secret reference to an Apprise URL "
                             "(env:NAME or file:PATH)")
        _apprise_for(secrets.resolve(options["url"], "apprise channel url").reveal())

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        self.check_options(options)
        import apprise

        client = _apprise_for(secrets.resolve(options["url"], "apprise channel url").reveal())
        sent = client.notify(title=f"[{notification.status.upper()}] {notification.title}",
                             body=shorten(notification.body, notification), body_format=apprise.NotifyFormat.TEXT)
        if not sent:
            raise DeliveryError("apprise: the service did not accept the notification", retryable=True)
