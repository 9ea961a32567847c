"""``medic channels list|test|schema|validate`` and ``medic notify outbox|dead-letter|replay|flush`` (added
through the hook ``register_commands``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from medic.core.channel import Notification
from medic.core.config import config_path, state_dir
from medic.core.notify import resolve
from medic.core.outbox import Message, Outbox
from medic.core.session import Session
from medic.kernel import yamlload
from medic.kernel.errors import EXIT_INTERNAL, Issue, MedicError, UsageError, ValidationError
from medic.plugins.channels import configschema
from medic.plugins.channels.drain import drain
from medic.plugins.channels.guard import ALLOW_ENV, Allowance


def register(sub: Any) -> None:
    ch = sub.add_parser("channels", help="notification channels: configured instances, a test message")
    chsub = ch.add_subparsers(dest="channels_command", metavar="SUBCOMMAND", required=True)
    lst = chsub.add_parser("list", help="configured channel instances and installed channel types")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    test = chsub.add_parser("test", help="send a test notification now, without the outbox")
    test.add_argument("name", metavar="NAME", help="a configured instance or TYPE[:ARG]")
    test.set_defaults(func=cmd_test)
    sch = chsub.add_parser("schema", help="print the JSON Schema of the configuration's channels: section")
    sch.set_defaults(func=cmd_schema)
    val = chsub.add_parser("validate", help="check the channels: section of a configuration file (exit 2 if not)")
    val.add_argument("file", nargs="?", metavar="FILE", help="default: $MEDIC_CONFIG or ~/.config/medic/config.yaml")
    val.set_defaults(func=cmd_validate)

    nt = sub.add_parser("notify", help="the notification outbox: pending, dead letters, replay, flush")
    ntsub = nt.add_subparsers(dest="notify_command", metavar="SUBCOMMAND", required=True)
    for name, what in (("outbox", "messages waiting for delivery"), ("dead-letter", "messages given up on")):
        p = ntsub.add_parser(name, help=what)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_messages, state="pending" if name == "outbox" else "dead")
    replay = ntsub.add_parser("replay", help="put a dead (or waiting) message back in line now")
    replay.add_argument("id", metavar="ID", help="message id (from `medic notify dead-letter`)")
    replay.set_defaults(func=cmd_replay)
    flush = ntsub.add_parser("flush", help="attempt every message that is due now")
    flush.add_argument("--budget", type=float, default=60.0, metavar="SECONDS", help="stop after this long")
    flush.set_defaults(func=cmd_flush)


def _outbox(session: Session) -> Outbox:
    return Outbox(state_dir(session.config) / "outbox.sqlite")


def cmd_list(args: argparse.Namespace) -> int:
    session = Session()
    configured = session.config.get("channels") or {}
    rows = [{"name": name, "type": (spec or {}).get("type"), "events": (spec or {}).get("events") or "all",
             "destination": (spec or {}).get("url") or (spec or {}).get("path") or ""}
            for name, spec in configured.items()]
    types = {name: ch.description for name, ch in session.registry.channels.items()}
    allowance = Allowance.from_env().describe()
    if args.json:
        json.dump({"instances": rows, "types": types, "allowed_lab_addresses": allowance}, sys.stdout, indent=2)
        print()
        return 0
    print("configured channels:" if rows else "no channels configured (config key channels)")
    for r in rows:
        print(f"  {r['name']:<16} {r['type']:<10} events: {r['events']}  {r['destination']}")
    print("installed channel types:")
    for name, description in types.items():
        print(f"  {name:<16} {description}")
    print(f"lab addresses allowed ({ALLOW_ENV}): {allowance}")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    session = Session()
    configschema.check(session.config)
    route = resolve([args.name], session.registry.channels, session.config)[0]
    note = Notification("channel.test", "medic channel test", "pass", f"test message for channel {route.name}",
                        {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print(f"lab addresses allowed ({ALLOW_ENV}): {Allowance.from_env().describe()}")
    try:
        route.channel.send(note, route.options)
    except MedicError as exc:
        print(f"medic: channel {route.name}: not delivered: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    print(f"channel {route.name}: delivered (message {note.id})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    json.dump(configschema.schema(), sys.stdout, indent=2)
    print()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """The schema, then what it cannot say: each instance's type installed and its secret references readable."""
    path = Path(args.file).expanduser() if args.file else config_path()
    if not path.is_file():
        raise UsageError(f"configuration file {path} not found")
    config = yamlload.load_file(path) or {}
    if not isinstance(config, dict):
        raise ValidationError([Issue("expected a mapping of settings", str(path), 1, 1)], subject=str(path))
    configschema.check(config, str(path))
    instances = config.get("channels") or {}
    installed = Session(config=config).registry.channels
    for name in instances:
        try:
            resolve([name], installed, config)
        except MedicError as exc:
            raise UsageError(f"{path}: {exc}") from None
    listed = ", ".join(f"{n} ({spec['type']})" for n, spec in instances.items()) or "none"
    print(f"{path}: channels valid: {listed}")
    return 0


def _describe(m: Message) -> dict[str, Any]:
    return {"id": m.id, "channel": m.channel, "type": m.kind, "event": m.notification.event,
            "title": m.notification.title, "attempts": m.attempts, "state": m.state,
            "next_attempt": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(m.next_at)),
            "last_error": m.last_error}


def cmd_messages(args: argparse.Namespace) -> int:
    box = _outbox(Session())
    rows = [_describe(m) for m in box.messages(args.state)]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    if not rows:
        print("no message waiting" if args.state == "pending" else "no dead letter")
    for r in rows:
        when = f"next {r['next_attempt']}" if r["state"] == "pending" else "given up"
        print(f"{r['id']}  {r['channel']}  {r['event']}  attempts {r['attempts']}  {when}  {r['last_error'] or ''}")
    for channel, reason in box.disabled().items():
        print(f"channel {channel} is disabled: {reason}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    count = _outbox(Session()).replay(args.id)
    if not count:
        raise UsageError(f"no undelivered message {args.id!r} (see `medic notify dead-letter`)")
    print(f"message {args.id}: back in line for {count} channel(s); `medic notify flush` sends it now")
    return 0


def cmd_flush(args: argparse.Namespace) -> int:
    session = Session()
    box = _outbox(session)
    results = drain(box, session.registry.channels, budget_s=args.budget)  # concurrent, batched
    failed = [(m, err) for m, err in results if err]
    print(f"{len(results) - len(failed)} delivered, {len(failed)} failed, "
          f"{len(box.messages('pending'))} waiting")
    for m, err in failed:
        print(f"medic: channel {m.channel}: message {m.id}: {err}", file=sys.stderr)
    return EXIT_INTERNAL if failed else 0
