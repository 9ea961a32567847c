"""The example plugin's pluggy part (entry-point group ``medic``): two checks and two channels.

``example.process_count`` reads a built-in probe; ``example.file_handles`` reads the plugin's own probe
(``medic_example.probes``, declared under ``medic.probes``), so it works on bundles the agent collected too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medic.core.channel import Channel, Notification
from medic.core.check import ProbeData, check
from medic.core.hookspecs import hookimpl
from medic.kernel.errors import UsageError
from medic.kernel.models import Outcome, failed, passed, warned
from medic.kernel.params import Param
from medic.plugins.channels import http, secrets


@check("example.process_count", title="Number of processes", category="software", severity="low",
       needs={"procs": "processes"},
       params=[Param("warn_at", "int", 2000, "warn at this many processes"),
               Param("fail_at", "int", 10000, "fail at this many processes")],
       remediation="Look for a fork storm or a leak of short-lived workers (ps -eo ppid | sort | uniq -c).",
       description="warn at warn_at processes, fail at fail_at.")
def process_count(data: ProbeData, p: dict[str, Any]) -> Outcome:
    count = len(data["procs"])
    if count >= p["fail_at"]:
        return failed(f"{count} processes (>= {p['fail_at']})", count=count)
    if count >= p["warn_at"]:
        return warned(f"{count} processes (>= {p['warn_at']})", count=count)
    return passed(f"{count} processes", count=count)


@check("example.file_handles", title="Open file handles", category="hardware", severity="medium",
       needs={"fh": "example_file_handles"},
       params=[Param("warn_pct", "float", 80.0, "warn at this percentage of fs.file-max"),
               Param("fail_pct", "float", 95.0, "fail at this percentage of fs.file-max")],
       remediation="Find the process holding most descriptors (ls /proc/*/fd | wc -l) or raise fs.file-max.",
       description="warn when open file handles reach warn_pct of the system-wide limit, fail at fail_pct.")
def file_handles(data: ProbeData, p: dict[str, Any]) -> Outcome:
    fh = data["fh"]
    summary = f"{fh['in_use']} of {fh['max']} file handles in use ({fh['used_pct']}%)"
    if fh["used_pct"] >= p["fail_pct"]:
        return failed(summary, **fh)
    if fh["used_pct"] >= p["warn_pct"]:
        return warned(summary, **fh)
    return passed(summary, **fh)


class TextLogChannel(Channel):
    name = "textlog"
    description = "append one plain text line per notification (option: path)"

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        path = Path(options.get("path") or "medic-notifications.log")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{notification.status.upper()} {notification.title}: {notification.body}\n")


class TeamHookChannel(Channel):
    """POST a small JSON message with a bearer token, through medic's guarded HTTP client (which vets every
    address and classifies replies: 429/5xx retried by the outbox, other 4xx permanent)."""

    name = "teamhook"
    description = "POST JSON with a bearer token to a team's endpoint (options: url, token, timeout)"
    durable = True
    arg_option = "url"

    def check_options(self, options: dict[str, Any]) -> None:
        if not isinstance(options.get("url"), str):
            raise UsageError("teamhook channel: option 'url' is required (https://...)")
        http.check_url(options["url"], http.Allowance.from_env())
        secrets.resolve(options.get("token"), "teamhook token")

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        self.check_options(options)
        token = secrets.resolve(options["token"], "teamhook token")
        body = json.dumps({"title": notification.title, "status": notification.status,
                           "text": notification.body}).encode()
        headers = {"content-type": "application/json", "authorization": f"Bearer {token.reveal()}",
                   "idempotency-key": notification.id}  # the same on every retry: the receiver drops repeats
        with http.GuardedClient(timeout=float(options.get("timeout", 10))) as client:
            reply = client.post(options["url"], body, headers)
        http.classify(reply, "teamhook")


@hookimpl
def register_checks(register: Any) -> None:
    register(process_count.spec)  # type: ignore[attr-defined]
    register(file_handles.spec)  # type: ignore[attr-defined]


@hookimpl
def register_channels(register: Any) -> None:
    register(TextLogChannel())
    register(TeamHookChannel())
