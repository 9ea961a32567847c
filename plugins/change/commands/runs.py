"""``medic runs list|show``: run history (``STATE_DIR/runs/*.json``) joined with change journals.

With ``PREFECT_API_URL`` set, ``list``, ``show`` and ``cancel`` ask the Prefect server instead
(:mod:`medic.plugins.server.runs`); ``--local`` keeps the local history."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from medic.core.config import load_config, state_dir
from medic.kernel.errors import UsageError
from medic.plugins.change.safety.journal import JournalLog, journal_dir, journals, read


def register(sub: Any) -> None:
    p = sub.add_parser("runs", help="list and show past runs and their change journals")
    psub = p.add_subparsers(dest="runs_command", metavar="SUBCOMMAND", required=True)
    lst = psub.add_parser("list", help="runs, newest last, with the state of their changes")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    show = psub.add_parser("show", help="a run's result and its journal (intents, completions, undos)")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)
    for parser in (lst, show):
        parser.add_argument("--local", action="store_true",
                            help="the local history even when PREFECT_API_URL names a server")
    cancel = psub.add_parser("cancel", help="cancel a flow run on the Prefect server of PREFECT_API_URL")
    cancel.add_argument("run_id", metavar="RUN_ID", help="flow run id or name (medic runs list)")
    cancel.set_defaults(func=_on_server("cmd_cancel"))


def _on_server(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        from medic.plugins.server import runs as server_runs

        code: int = getattr(server_runs, name)(args)
        return code

    return run


def _server_wanted(args: argparse.Namespace) -> bool:
    from medic.plugins.server.runs import use_server

    return use_server(args)


def _runs(state: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((state / "runs").glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out[path.stem] = {
            "run_id": path.stem,
            "playbook": doc.get("playbook"),
            "started": doc.get("started"),
            "status": doc.get("status"),
            "changes": "-",
        }
    for path in journals(journal_dir(state)):
        log = read(path)
        row = out.setdefault(
            log.run_id, {"run_id": log.run_id, "playbook": "?", "started": log.begin.get("at"), "status": "?"}
        )
        row["changes"] = f"{log.status} ({len(log.intents())} intents)"
    return dict(sorted(out.items()))


def cmd_list(args: argparse.Namespace) -> int:
    if _server_wanted(args):
        return int(_on_server("cmd_list")(args))
    rows = list(_runs(state_dir(load_config())).values())
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    for r in rows:
        print(f"{r['run_id']}  {r['playbook'] or '?':<22} {r['status'] or '?':<8} changes: {r['changes']}")
    if not rows:
        print("no runs yet")
    return 0


def _journal_lines(log: JournalLog) -> list[str]:
    lines = []
    for r in log.records:
        kind = r["type"]
        if kind == "intent":
            lines.append(f"  intent {r['op']}: {r.get('resource')} undo={json.dumps(r['undo'])}")
        elif kind in ("done", "undone"):
            lines.append(f"  {kind} {r['op']}")
        else:
            lines.append(f"  {kind} " + " ".join(f"{k}={v}" for k, v in r.items() if k not in ("type", "at")))
    if log.torn_tail:
        lines.append("  (a torn last record, from a crash, was ignored)")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    if _server_wanted(args):
        return int(_on_server("cmd_show")(args))
    state = state_dir(load_config())
    doc_path = state / "runs" / f"{args.run_id}.json"
    jpath = journal_dir(state) / f"{args.run_id}.jnl"
    if "/" in args.run_id or (not doc_path.exists() and not jpath.exists()):
        raise UsageError(f"no run {args.run_id!r} in {state}; `medic runs list` shows them")
    doc = json.loads(doc_path.read_text(encoding="utf-8")) if doc_path.exists() else None
    log = read(jpath) if jpath.exists() else None
    if args.json:
        json.dump(
            {"run": doc, "journal": log.records if log else None, "changes": log.status if log else None},
            sys.stdout,
            indent=2,
            default=str,
        )
        print()
        return 0
    if doc:
        c = doc["summary"]["counts"]
        print(
            f"{args.run_id}: {doc['playbook']} {doc['status']} ({c['fail']} fail, {c['error']} error, "
            f"{c['warn']} warn, {c['pass']} pass), started {doc['started']}"
        )
        for f in doc["findings"]:
            if f["status"] != "pass":
                print(f"  {f['status']:<7} {f['step']}: {f['summary']}")
    if log:
        print(f"journal {log.path}: {log.status}")
        print("\n".join(_journal_lines(log)))
    return 0
