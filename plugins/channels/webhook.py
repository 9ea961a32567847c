"""The ``webhook`` channel: a JSON POST signed the Standard Webhooks way (https://www.standardwebhooks.com).

Headers ``webhook-id`` (the notification id, stable across retries so receivers deduplicate), ``webhook-timestamp``
(this attempt, seconds) and ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` under the
``whsec_`` secret. During a rotation ``secret`` may list two references: both signatures are sent.
Redirects are not followed: a webhook URL is configured once and a redirect is more likely an attack than a move.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import time
from typing import Any

from medic.core.channel import Channel, Notification
from medic.kernel.errors import UsageError
from medic.plugins.channels import http, secrets

SECRET_PREFIX = "whsec_"  # noqa: S105  (the format's prefix, not a secret)
MIN_SECRET_BYTES = 24


@functools.lru_cache(maxsize=16)  # decoded once per secret value (a rotated secret is a new value)
def secret_key(secret: str, what: str) -> bytes:
    """The HMAC key a ``whsec_<base64>`` secret stands for (at least 24 random bytes)."""
    if not secret.startswith(SECRET_PREFIX):
        raise UsageError(f"{what}: a webhook secret starts with {SECRET_PREFIX} (then base64 of ≥ 24 random bytes)")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{what}: the webhook secret after {SECRET_PREFIX} is not base64") from None
    if len(key) < MIN_SECRET_BYTES:
        raise UsageError(f"{what}: the webhook secret holds {len(key)} bytes; use at least {MIN_SECRET_BYTES}")
    return key


def sign(keys: list[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join("v1," + base64.b64encode(hmac.digest(k, signed, "sha256")).decode() for k in keys)


def payload(note: Notification) -> bytes:
    return json.dumps({"type": note.event, "timestamp": note.data.get("time") or None,
                       "data": {"title": note.title, "status": note.status, "summary": note.body, **note.data}},
                      sort_keys=True, default=str).encode()


def _secret_refs(options: dict[str, Any]) -> list[str]:
    raw = options.get("secret")
    given: list[Any] = raw if isinstance(raw, list) else [raw]
    refs = [r for r in given if isinstance(r, str) and r]
    if not refs or len(refs) != len(given) or len(refs) > 2:
        raise UsageError("webhook channel: option 'secret' is one or two references (env:NAME or file:PATH)")
    return refs


class WebhookChannel(Channel):
    name = "webhook"
    description = "POST signed JSON (Standard Webhooks) to a URL (options: url, secret)"
    durable = True
    arg_option = "url"

    def check_options(self, options: dict[str, Any]) -> None:
        url = options.get("url")
        if not isinstance(url, str) or not url:
            raise UsageError("webhook channel: option 'url' is required (https://...)")
        http.check_url(url, http.Allowance.from_env())
        for ref in _secret_refs(options):
            secret_key(secrets.resolve(ref, "webhook channel secret").reveal(), f"webhook secret {ref}")

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        # check_options' checks happen here as they are needed (the URL's when posting), each once per send
        keys = [secret_key(secrets.resolve(r, "webhook secret").reveal(), r) for r in _secret_refs(options)]
        if not isinstance(options.get("url"), str) or not options["url"]:
            raise UsageError("webhook channel: option 'url' is required (https://...)")
        body = payload(notification)
        msg_id = f"msg_{notification.id}"
        now = int(time.time())
        headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(now),
                   "webhook-signature": sign(keys, msg_id, now, body), "user-agent": "medic-webhook/1"}
        with http.GuardedClient(timeout=float(options.get("timeout", 10))) as client:
            reply = client.post(options["url"], body, headers)
        if not 200 <= reply.status < 300:
            http.classify(reply, f"webhook {http.check_url(options['url'], client.allowance).host}")
