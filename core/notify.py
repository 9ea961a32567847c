"""Where a run's notifications go: ``--notify`` specs and the ``channels:`` section of the configuration, resolved
and checked before a run starts, and delivered after it (durable channels through the outbox).

    channels:
      team-hook: {type: webhook, url: "https://hooks.example.org/medic", secret: "env:MEDIC_HOOK_SECRET",
                  events: [run.finished]}

``--notify team-hook`` names an instance; ``--notify TYPE[:ARG]`` uses a channel type directly, ARG filling the
type's main option (``file:/path/events.jsonl``, ``webhook:https://...``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from medic.core.channel import Channel, Notification
from medic.core.outbox import Outbox
from medic.kernel.errors import MedicError, UsageError

# the events a run emits; a route's `events:` may only name these. Without `events:` a route gets run.finished
# only, so the events sent while a run goes on are asked for, never a surprise.
EVENTS = ("run.started", "step.failed", "run.finished", "approval.requested", "change.rolled_back")
DEFAULT_EVENTS = ("run.finished",)
DELIVERY_BUDGET_S = 15.0  # how long a command waits for first attempts before leaving the rest to the outbox


@dataclass(frozen=True)
class Route:
    name: str
    channel: Channel
    options: dict[str, Any]
    events: tuple[str, ...] = DEFAULT_EVENTS

    def wants(self, event: str) -> bool:
        return event in self.events


def _instance(name: str, raw: object, channels: Mapping[str, Channel]) -> Route:
    where = f"configuration channels.{name}"
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise UsageError(f"{where}: expected a mapping with a 'type' (one of {', '.join(channels)})")
    channel = channels.get(raw["type"])
    if channel is None:
        raise UsageError(f"{where}: unknown channel type {raw['type']!r}; installed: {', '.join(channels)}")
    events = raw.get("events")
    if events is not None and (not isinstance(events, list) or not all(e in EVENTS for e in events)):
        raise UsageError(f"{where}: 'events' is a list of {', '.join(EVENTS)}")
    options = {k: v for k, v in raw.items() if k not in ("type", "events")}
    return Route(name, channel, options, tuple(events) if events is not None else DEFAULT_EVENTS)


def resolve(specs: Sequence[str], channels: Mapping[str, Channel], config: Mapping[str, Any]) -> list[Route]:
    """Routes for ``specs``; every problem (unknown name, missing option, unresolvable secret) raises UsageError."""
    configured = config.get("channels") or {}
    if not isinstance(configured, dict):
        raise UsageError("configuration 'channels' is a mapping of NAME: {type: ..., options...}")
    routes = []
    for spec in specs:  # NAME[:ARG][@EVENT,...]: a suffix of known event names chooses the route's events
        head, at, tail = spec.rpartition("@")
        events = tuple(tail.split(",")) if at and set(tail.split(",")) <= set(EVENTS) else None
        name, sep, arg = (head if events else spec).partition(":")
        if name in configured and not sep:
            route = _instance(name, configured[name], channels)
        elif name in channels:
            channel = channels[name]
            options = {channel.arg_option: arg} if sep and channel.arg_option else {}
            route = Route(name, channel, options)
        else:
            known = sorted({*configured, *channels})
            raise UsageError(f"unknown channel {spec!r}; configured or installed: {', '.join(known)} "
                             f"(see `medic channels list`)")
        route = replace(route, events=events) if events else route
        try:
            route.channel.check_options(route.options)
        except MedicError as exc:
            raise UsageError(f"channel {route.name!r}: {exc}") from None
        routes.append(route)
    return routes


def deliver(routes: Sequence[Route], note: Notification, outbox_path: Path) -> list[str]:
    """Send ``note`` on every route that wants its event; return one line per problem. Never raises for a
    failed delivery: the run being reported on has already ended and its result must not be lost."""
    problems = []
    durable = [r for r in routes if r.wants(note.event) and r.channel.durable]
    for route in routes:
        if not route.wants(note.event) or route.channel.durable:
            continue
        try:
            route.channel.send(note, route.options)
        except MedicError as exc:
            problems.append(f"channel {route.name}: {exc}")
        except Exception as exc:  # someone else's plugin: report, do not lose the run's result
            problems.append(f"channel {route.name} failed: {type(exc).__name__}: {exc}")
    if durable:
        problems += _deliver_durable(durable, note, outbox_path)
    return problems


_OPEN = threading.local()  # per thread: an SQLite connection belongs to the thread that opened it
_KEEP_OPEN = 4
os.register_at_fork(after_in_child=lambda: _OPEN.__dict__.pop("boxes", None))  # a forked child opens its own


def _outbox(path: Path) -> Outbox:
    """The outbox at ``path``, kept open for this thread (opening and closing it was most of a delivery's own
    cost; a key with ``os.getpid()``, a system call per delivery, is what the fork hook above saves)."""
    boxes: dict[Path, Outbox] = _OPEN.__dict__.setdefault("boxes", {})
    if path not in boxes:
        if len(boxes) >= _KEEP_OPEN:
            boxes.pop(next(iter(boxes))).close()
        boxes[path] = Outbox(path)
    return boxes[path]


def _deliver_durable(routes: Sequence[Route], note: Notification, outbox_path: Path) -> list[str]:
    outbox, kinds = _outbox(outbox_path), {r.channel.name: r.channel for r in routes}
    claimed = [outbox.enqueue(r.name, r.channel.name, r.options, note, claim=True) for r in routes]
    results = [(m, outbox.attempt(m, kinds[m.kind])) for m in claimed if m is not None]  # written, leased: send
    results += outbox.drain(kinds, only={note.id}, budget_s=DELIVERY_BUDGET_S) if None in claimed else []
    pending = {m.channel: m for m in outbox.of(note.id) if m.state != "delivered"} if any(e for _, e in results) else {}
    problems = []
    for msg, error in results:
        if error is None:
            continue
        if msg.channel in pending and pending[msg.channel].state == "pending":
            problems.append(f"channel {msg.channel}: {error}; kept in the outbox, retried by `medic notify flush` "
                            f"(message {note.id})")
        else:
            problems.append(f"channel {msg.channel}: {error}; not delivered, see `medic notify dead-letter`")
    return problems
