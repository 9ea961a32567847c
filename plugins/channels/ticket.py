"""``ticket``: Request Tracker 5 through its REST2 API. The first notification of a run creates a ticket, later
ones comment on it, and a ``run.finished`` whose status is in ``resolve_on`` (default: pass) comments and resolves it.

    channels:
      helpdesk: {type: ticket, url: "https://rt.example.org", queue: Support, token: "env:RT_TOKEN",
                 events: [step.failed, approval.requested, change.rolled_back, run.finished]}

The run's ticket id is kept in ``tickets.sqlite`` in medic's state directory (key: the RT API URL, queue and run
id), with what each notification has already done there (posted, resolved): a retry after a lost reply or a
restart resumes where it stopped instead of commenting twice. A run that ends well before any ticket was opened
opens none. ``token`` is a secret reference to an RT auth token (sent as ``Authorization: token ...``); RT answers
401 for a bad token and 403 for a queue the user may not create tickets in: permanent errors, like any 4xx.
Content goes as ``text/plain``, which RT shows as text, never as markup.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from medic.core.channel import Channel, DeliveryError, Notification
from medic.core.config import state_dir
from medic.kernel.errors import UsageError
from medic.plugins.channels import http, secrets

MAX_CONTENT = 20000  # characters: a ticket comment is read by a person; the full run is in `medic runs show`
_KNOWN = {"url", "queue", "token", "resolve_on", "timeout"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (key TEXT PRIMARY KEY, ticket TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS done (key TEXT NOT NULL, note TEXT NOT NULL, action TEXT NOT NULL,
                                 PRIMARY KEY (key, note, action));
"""


class TicketLinks:
    """Which RT ticket a run has, and what each notification already did to it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def ticket(self, key: str) -> str | None:
        row = self._db.execute("SELECT ticket FROM tickets WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def link(self, key: str, ticket: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO tickets VALUES (?, ?, ?)", (key, ticket, time.time()))

    def done(self, key: str, note: str, action: str) -> bool:
        return self._db.execute("SELECT 1 FROM done WHERE key=? AND note=? AND action=?",
                                (key, note, action)).fetchone() is not None

    def mark(self, key: str, note: str, action: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO done VALUES (?, ?, ?)", (key, note, action))


def links_path() -> Path:
    return state_dir() / "tickets.sqlite"


def api_url(options: dict[str, Any]) -> str:
    return str(options["url"]).rstrip("/") + "/REST/2.0/"


def content(note: Notification) -> str:
    details = [f"{k}: {v}" for k, v in note.data.items() if isinstance(v, (str, int, float))]
    text = "\n".join([note.title, "", note.body, "", *details, f"medic notification {note.id}"])
    if len(text) <= MAX_CONTENT:
        return text
    run = note.data.get("run_id", "")
    return text[:MAX_CONTENT] + f"\n… (cut at {MAX_CONTENT} characters; full report: medic runs show {run})"


def _resolve_on(options: dict[str, Any]) -> list[str]:
    given = options.get("resolve_on", ["pass"])
    if not isinstance(given, list) or not all(isinstance(s, str) for s in given):
        raise UsageError("ticket channel: option 'resolve_on' is a list of run statuses (e.g. [pass, warn])")
    return given


def check(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise UsageError(f"ticket channel: unknown option {unknown[0]!r}; known: {', '.join(sorted(_KNOWN))}")
    if not isinstance(options.get("url"), str) or not options["url"]:
        raise UsageError("ticket channel: option 'url' (the RT base URL, https://rt.example.org) is required")
    http.check_url(options["url"], http.Allowance.from_env())
    if not isinstance(options.get("queue", "General"), str):
        raise UsageError("ticket channel: option 'queue' is the name of an RT queue")
    if "token" not in options:
        raise UsageError("ticket channel: option 'token' (a reference to an RT auth token, env:NAME) is required")
    secrets.resolve(options["token"], "ticket channel token")
    _resolve_on(options)


class _Rt:
    """The three REST2 calls the channel makes, through the guarded client."""

    def __init__(self, client: http.GuardedClient, api: str, token: str) -> None:
        self.client, self.api = client, api
        self.headers = {"content-type": "application/json", "authorization": f"token {token}",
                        "user-agent": "medic-ticket/1"}

    def _call(self, method: str, path: str, body: dict[str, Any], what: str) -> http.Reply:
        reply = self.client.request(method, self.api + path, json.dumps(body).encode(), self.headers)
        http.classify(reply, f"RT {what}")
        return reply

    def create(self, queue: str, subject: str, text: str) -> str:
        reply = self._call("POST", "ticket", {"Queue": queue, "Subject": subject[:200], "Content": text,
                                              "ContentType": "text/plain"}, "ticket creation")
        try:
            return str(json.loads(reply.body)["id"])
        except (ValueError, KeyError, TypeError):
            raise DeliveryError(f"RT answered {reply.status} to a ticket creation without a ticket id",
                                retryable=False) from None

    def comment(self, ticket: str, text: str) -> None:
        self._call("POST", f"ticket/{ticket}/comment", {"Content": text, "ContentType": "text/plain"},
                   f"comment on ticket {ticket}")

    def resolve(self, ticket: str) -> None:
        self._call("PUT", f"ticket/{ticket}", {"Status": "resolved"}, f"resolving ticket {ticket}")


class TicketChannel(Channel):
    name = "ticket"
    description = "Request Tracker 5 (REST2): a ticket per run, commented, resolved (options: url, queue, token)"
    durable = True
    arg_option = "url"

    def check_options(self, options: dict[str, Any]) -> None:
        check(options)

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        check(options)
        token = secrets.resolve(options["token"], "ticket channel token").reveal()
        queue = str(options.get("queue", "General"))
        key = f"{api_url(options)}|{queue}|{notification.data.get('run_id') or notification.id}"
        resolve = notification.event == "run.finished" and notification.status in _resolve_on(options)
        with closing(TicketLinks(links_path())) as links, \
                http.GuardedClient(timeout=float(options.get("timeout", 10))) as client:
            rt = _Rt(client, api_url(options), token)
            ticket = links.ticket(key)
            if ticket is None and resolve:
                return  # the run ended well before anything opened a ticket: nothing to resolve
            if ticket is None:
                ticket = rt.create(queue, notification.title, content(notification))
                links.link(key, ticket)
                links.mark(key, notification.id, "posted")
            elif not links.done(key, notification.id, "posted"):
                rt.comment(ticket, content(notification))
                links.mark(key, notification.id, "posted")
            if resolve and not links.done(key, notification.id, "resolved"):
                rt.resolve(ticket)
                links.mark(key, notification.id, "resolved")
