"""``medic collector init|serve|enroll|agents|uploads|gc`` (added through the ``register_commands`` hook)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from medic.kernel.errors import UsageError
from medic.plugins.collector import config as config_mod
from medic.plugins.collector.context import Collector, open_store
from medic.plugins.collector.keys import certificate_pin, new_receipt_key, self_signed_certificate

DIR_ENV = "MEDIC_COLLECTOR_DIR"


def register(sub: Any) -> None:
    col = sub.add_parser("collector", help="receive bundles from enrolled agents: tus over TLS, signed receipts")
    csub = col.add_subparsers(dest="collector_command", metavar="SUBCOMMAND", required=True)
    init = csub.add_parser("init", help="create a collector directory: receipt key, TLS certificate, config")
    init.add_argument("dir", metavar="DIR")
    init.add_argument("--cert", metavar="FILE", help="TLS certificate (PEM); default: a new self-signed one")
    init.add_argument("--key", metavar="FILE", help="the certificate's private key (PEM)")
    init.add_argument("--public-url", metavar="URL", help="https://HOST:PORT agents reach (default: from --bind)")
    init.add_argument("--bind", metavar="HOST:PORT", default="127.0.0.1:8443", help="default 127.0.0.1:8443")
    init.set_defaults(func=cmd_init)
    serve = csub.add_parser("serve", help="serve enrollments and uploads (TLS only) until interrupted")
    serve.add_argument("dir", metavar="DIR")
    serve.add_argument("--bind", metavar="HOST:PORT", help="override the config's bind address")
    serve.set_defaults(func=cmd_serve)
    enroll = csub.add_parser("enroll", help="a single-use enrollment code for one agent, and the certificate pin")
    enroll.add_argument("--name", required=True, metavar="NAME", help="who the agent is (host or user)")
    enroll.add_argument("--ttl", default="24h", metavar="DURATION", help="how long the code is valid (24h)")
    enroll.add_argument("--quota", metavar="SIZE/day", help="bytes a day this agent may upload (config default)")
    enroll.set_defaults(func=cmd_enroll)
    agents = csub.add_parser("agents", help="enrolled agents: list, revoke, rotate a token")
    asub = agents.add_subparsers(dest="agents_command", metavar="SUBCOMMAND", required=True)
    lst = asub.add_parser("list", help="every agent, enrolled when, revoked or not")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_agents_list)
    for name, what in (("revoke", "refuse the agent's token from its next request on"),
                       ("rotate", "give the agent a new token (printed once); the old one stops working")):
        p = asub.add_parser(name, help=what)
        p.add_argument("agent", metavar="AGENT", help="agent id, or a name only one agent has")
        p.set_defaults(func=cmd_agents_change, change=name)
    uploads = csub.add_parser("uploads", help="uploads: complete, refused and unfinished")
    usub = uploads.add_subparsers(dest="uploads_command", metavar="SUBCOMMAND", required=True)
    ulist = usub.add_parser("list", help="every upload with its state, offset and case")
    ulist.add_argument("--incomplete", action="store_true", help="only unfinished uploads")
    ulist.add_argument("--json", action="store_true")
    ulist.set_defaults(func=cmd_uploads_list)
    gc = csub.add_parser("gc", help="remove unfinished uploads past their expiry")
    gc.set_defaults(func=cmd_gc)
    for p in (enroll, lst, *asub.choices.values(), ulist, gc):
        if not any("--dir" in a.option_strings for a in p._actions):
            p.add_argument("--dir", metavar="DIR", default=os.environ.get(DIR_ENV, "."),
                           help=f"the collector directory (default ${DIR_ENV}, else the current directory)")


def cmd_init(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    if (directory / config_mod.CONFIG_NAME).exists():
        raise UsageError(f"{directory}: already a collector directory ({config_mod.CONFIG_NAME} exists)")
    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together (the certificate and its private key)")
    host, port = config_mod.parse_bind(args.bind)
    cfg = config_mod.CollectorConfig(bind=args.bind, public_url=args.public_url or f"https://{host}:{port}")
    cfg.validate("--public-url")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    if args.cert:
        for option, given in (("--cert", args.cert), ("--key", args.key)):
            if not Path(given).is_file():
                raise UsageError(f"{option} {given}: no such file")
        cfg.tls_cert, cfg.tls_key = str(Path(args.cert).resolve()), str(Path(args.key).resolve())
    else:
        self_signed_certificate(directory / cfg.tls_cert, directory / cfg.tls_key,
                                urlsplit(cfg.public_url).hostname or host)
    new_receipt_key(directory / cfg.receipt_key)
    config_mod.save(directory, cfg)
    open_store(directory).close()
    print(f"{directory}: collector ready, public URL {cfg.public_url}")
    print(f"certificate pin: {certificate_pin(config_mod.resolve(directory, cfg.tls_cert))}")
    return 0


def cmd_enroll(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    cfg = config_mod.load(directory)
    ttl = config_mod.parse_duration(args.ttl, "--ttl")
    quota = config_mod.parse_quota(args.quota) if args.quota else cfg.default_quota
    store = open_store(directory)
    try:
        code = store.new_code(args.name, quota, ttl)
    finally:
        store.close()
    pin = certificate_pin(config_mod.resolve(directory, cfg.tls_cert))
    print(f"code: {code}")
    print(f"pin: {pin}")
    print(f"valid for {args.ttl}, quota {quota} bytes/day; on the agent's machine:")
    print(f"  python3 medic-agent.pyz collect --upload {cfg.public_url} --code {code} --pin {pin}")
    return 0


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)) if stamp else "-"


def cmd_agents_list(args: argparse.Namespace) -> int:
    store = open_store(Path(args.dir))
    try:
        rows = [{k: v for k, v in a.items() if k != "token_hash"} for a in store.agents()]
    finally:
        store.close()
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    for a in rows:
        state = f"revoked {_when(a['revoked_at'])}" if a["revoked_at"] else "active"
        print(f"{a['agent_id']}  {a['name']:<20} enrolled {_when(a['created_at'])}  quota {a['quota']}  {state}")
    if not rows:
        print("no agents enrolled")
    return 0


def cmd_agents_change(args: argparse.Namespace) -> int:
    store = open_store(Path(args.dir))
    try:
        agent = store.agent(args.agent)
        if agent is None:
            raise UsageError(f"no single agent {args.agent!r} (see `medic collector agents list`)")
        if args.change == "revoke":
            store.revoke(agent["agent_id"])
            print(f"{agent['agent_id']} ({agent['name']}): revoked; its next request gets 401")
        else:
            token = store.rotate(agent["agent_id"])
            print(f"{agent['agent_id']} ({agent['name']}): new token (shown once): {token}")
    finally:
        store.close()
    return 0


def triage_state(directory: Path, upload: dict[str, Any]) -> str | None:
    """What became of a delivered bundle's triage: queued, running, done, failed, or skipped and why."""
    path = directory / "cases" / str(upload["case_id"]) / f"triage-{upload['upload_id']}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    reason = record.get("reason") or record.get("error")
    return f"{record.get('status')}: {reason}" if reason else str(record.get("status"))


def cmd_uploads_list(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    store = open_store(directory)
    try:
        rows = [{k: v for k, v in u.items() if k not in ("receipt", "problem")} | {
            "problem": json.loads(u["problem"])["detail"] if u["problem"] else None,
            "triage": triage_state(directory, u) if u["case_id"] else None}
            for u in store.uploads(args.incomplete)]
    finally:
        store.close()
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    for u in rows:
        print(f"{u['upload_id']}  {u['agent_id']}  {u['state']:<10} {u['offset']}/{u['length']}  "
              f"{u['case_id'] or '-'}  expires {_when(u['expires_at'])}  "
              f"{u['problem'] or (u['triage'] and 'triage ' + u['triage']) or ''}".rstrip())
    if not rows:
        print("no uploads")
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    col = Collector.open(Path(args.dir))
    try:
        gone = col.gc()
    finally:
        col.store.close()
    print(f"removed {len(gone)} expired unfinished upload(s)" + (": " + ", ".join(gone) if gone else ""))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from medic.plugins.collector.serve import serve

    return serve(Path(args.dir), args.bind)
