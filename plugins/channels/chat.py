"""Chat channels: ``slack`` and ``mattermost`` incoming webhooks, ``teams`` (a Workflows webhook taking an Adaptive
Card; Office 365 connectors are retired).

A chat webhook URL is itself a credential, so ``url`` is a secret reference (``env:NAME``, ``file:PATH``) and is
resolved only when sending. Collected text is escaped for each service's markup and can never mention anyone;
long text is cut with a pointer to the run. Redirects are followed at most 3 hops, each hop vetted by the guard.
"""

from __future__ import annotations

import json
import re
from abc import abstractmethod
from typing import Any

from medic.core.channel import Channel, Notification
from medic.kernel.errors import UsageError
from medic.plugins.channels import http, secrets

MAX_TEXT = 3000  # characters of summary shown; chat services cut or refuse longer messages
REDIRECTS = 3
_ZWSP = "\u200b"  # after "@" it keeps the text readable and stops it being a mention
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def shorten(text: str, note: Notification) -> str:
    if len(text) <= MAX_TEXT:
        return text
    run = note.data.get("run_id", "")
    return text[:MAX_TEXT] + f"\n… (cut at {MAX_TEXT} characters; full report: medic runs show {run})".rstrip()


def slack_text(text: str) -> str:
    """Slack mrkdwn: & < > are the only control characters; <!here>, <@U1> and links need them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mattermost_text(text: str) -> str:
    """Mattermost Markdown: escape markup, and break @channel/@all/@here/@user mentions."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("@", "@" + _ZWSP).replace("<", "&lt;")


def teams_text(text: str) -> str:
    """Adaptive Card TextBlock Markdown: escape markup; mentions need entities (never sent), "@" is broken anyway
    so a copy pasted elsewhere mentions nobody either."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("@", "@" + _ZWSP).replace("<", "&lt;")


class _ChatChannel(Channel):
    durable = True
    arg_option = "url"
    service = ""

    def check_options(self, options: dict[str, Any]) -> None:
        unknown = sorted(set(options) - {"url", "timeout"})
        if unknown:
            raise UsageError(f"{self.name} channel: unknown option {unknown[0]!r}; known: url, timeout")
        if "url" not in options:
            raise UsageError(f"{self.name} channel: option 'url' is required, a secret reference to the "
                             f"{self.service} webhook URL (env:NAME or file:PATH)")
        http.check_url(self._url(options), http.Allowance.from_env())

    def _url(self, options: dict[str, Any]) -> str:
        return secrets.resolve(options["url"], f"{self.name} channel url").reveal()

    @abstractmethod
    def payload(self, note: Notification) -> dict[str, Any]:
        """The JSON body the service takes, every piece of collected text escaped for its markup."""

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        self.check_options(options)
        url = self._url(options)
        body = json.dumps(self.payload(notification)).encode()
        headers = {"content-type": "application/json", "user-agent": f"medic-{self.name}/1"}
        with http.GuardedClient(timeout=float(options.get("timeout", 10))) as client:
            reply = client.post(url, body, headers, redirects=REDIRECTS)
        # the URL is a secret: name the service and host only
        http.classify(reply, f"{self.name} {http.check_url(url, client.allowance).host}")


class SlackChannel(_ChatChannel):
    name = "slack"
    service = "Slack incoming"
    description = "post to a Slack incoming webhook (option: url, a secret reference)"

    def payload(self, note: Notification) -> dict[str, Any]:
        head = slack_text(f"[{note.status.upper()}] {note.title}")
        return {"text": f"*{head}*\n{slack_text(shorten(note.body, note))}", "unfurl_links": False,
                "unfurl_media": False}


class MattermostChannel(_ChatChannel):
    name = "mattermost"
    service = "Mattermost incoming"
    description = "post to a Mattermost incoming webhook (option: url, a secret reference)"

    def payload(self, note: Notification) -> dict[str, Any]:
        head = mattermost_text(f"[{note.status.upper()}] {note.title}")
        return {"text": f"**{head}**\n{mattermost_text(shorten(note.body, note))}"}


class TeamsChannel(_ChatChannel):
    name = "teams"
    service = "Teams Workflows"
    description = "post an Adaptive Card to a Teams Workflows webhook (option: url, a secret reference)"

    def payload(self, note: Notification) -> dict[str, Any]:
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True,
                 "text": teams_text(f"[{note.status.upper()}] {note.title}")},
                {"type": "TextBlock", "wrap": True, "text": teams_text(shorten(note.body, note))},
            ],
        }
        return {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}
