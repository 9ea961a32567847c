"""``medic cases open|list|show|ack|assign|note|wait|resume|resolve|close|reopen|rate`` (added through the hook
``register_commands``), and ``rate``. ``close`` archives the case and drafts its knowledge-base article
(plugins/kb) unless that plugin is disabled, and asks for a rating (followup.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from typing import Any

from medic.core.config import load_config
from medic.kernel.errors import MedicError, UsageError
from medic.kernel.probes import DISABLE_ENV, disabled
from medic.plugins.cases.model import CATEGORIES, PRIORITIES, SOURCES, STATES, Case
from medic.plugins.cases.store import CaseStore, open_store

# command -> (state it moves the case to, help)
MOVES = {
    "ack": ("acknowledged", "acknowledge a case: someone has it"),
    "wait": ("waiting_customer", "wait for the customer (SLA clocks pause)"),
    "resume": ("in_progress", "work on the case (again): from acknowledged, dispatched or waiting_customer"),
    "resolve": ("resolved", "the problem is fixed"),
    "reopen": ("in_progress", "reopen a resolved or closed case"),
}


CLOSE_EXIT_CODES = ("Exit codes: 0 closed (archived, rating asked, article drafted), 2 usage error (an unknown "
                    "case, a case that is not resolved), 3 internal error; when the case closed but its archive, "
                    "rating request or article failed, the first such error's code with a line for each.")
KB_PLUGIN = "builtin_kb"  # the knowledge base's entry-point name (MEDIC_DISABLE_PLUGINS=builtin_kb: no article)


def register(sub: Any) -> None:
    cs = sub.add_parser("cases", help="support cases: open, list, show, acknowledge, assign, resolve...")
    csub = cs.add_subparsers(dest="cases_command", metavar="SUBCOMMAND", required=True)
    op = csub.add_parser("open", help="open a case")
    op.add_argument("--title", required=True, help="what the problem is, in one line")
    op.add_argument("--reporter", default="", help="who reported it")
    op.add_argument("--contact", default="", help="how to reach the reporter (e-mail, phone)")
    op.add_argument("--source", choices=SOURCES, default="cli", help="where it came from (default cli)")
    op.add_argument("--category", choices=CATEGORIES)
    op.add_argument("--priority", choices=PRIORITIES)
    op.add_argument("--host", help="the host it is about")
    op.add_argument("--json", action="store_true")
    op.set_defaults(func=cmd_open)
    ls = csub.add_parser("list", help="cases, newest first")
    ls.add_argument("--state", choices=STATES)
    ls.add_argument("--category", choices=CATEGORIES)
    ls.add_argument("--priority", choices=PRIORITIES)
    ls.add_argument("--assignee")
    ls.add_argument("--open", action="store_true", help="only cases not yet resolved")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    sh = csub.add_parser("show", help="a case with its runs, bundles, actions and timeline")
    sh.add_argument("id", metavar="ID")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)
    asg = csub.add_parser("assign", help="give a case to someone (dispatches it)")
    asg.add_argument("id", metavar="ID")
    asg.add_argument("assignee", metavar="ASSIGNEE")
    asg.add_argument("--tier", type=int, help="support tier (1, 2, 3...)")
    asg.add_argument("--by", default=None, help="who does it (default: the current user)")
    asg.set_defaults(func=cmd_assign)
    nt = csub.add_parser("note", help="add a note to the timeline")
    nt.add_argument("id", metavar="ID")
    nt.add_argument("text", metavar="TEXT")
    nt.add_argument("--by", default=None, help="who writes it (default: the current user)")
    nt.set_defaults(func=cmd_note)
    for name, (_state, what) in MOVES.items():
        p = csub.add_parser(name, help=what)
        p.add_argument("id", metavar="ID")
        p.add_argument("--note", default="", help="why, kept in the timeline")
        p.add_argument("--by", default=None, help="who does it (default: the current user)")
        p.set_defaults(func=cmd_move, move=name)
    cl = csub.add_parser("close", help="close a resolved case: archive it, ask for a rating, draft its KB article",
                         description="Close a resolved case: it is archived with its timeline, runs, report and "
                                     "bundles (one checksummed file under the state directory), the reporter is "
                                     "asked for a rating through routing.yaml's notify channels, and its "
                                     "knowledge-base article is drafted from it (once per case; edit and publish it "
                                     "with `medic kb edit|publish`). " + CLOSE_EXIT_CODES)
    cl.add_argument("id", metavar="ID")
    cl.add_argument("--note", default="", help="why, kept in the timeline")
    cl.add_argument("--by", default=None, help="who does it (default: the current user)")
    cl.add_argument("--no-article", action="store_true", help="draft no knowledge-base article")
    cl.set_defaults(func=cmd_close)
    rt = csub.add_parser("rate", help="record the reporter's satisfaction with a case (1-5)")
    rt.add_argument("id", metavar="ID")
    rt.add_argument("score", type=int, choices=range(1, 6), metavar="SCORE", help="1 (bad) to 5 (very good)")
    rt.add_argument("--comment", default="", metavar="TEXT")
    rt.set_defaults(func=cmd_rate)


def _store() -> CaseStore:
    return open_store(load_config())


def _actor(args: argparse.Namespace) -> str:
    return args.by or getpass.getuser()


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    print()


def cmd_open(args: argparse.Namespace) -> int:
    with _store() as store:
        case = store.open(args.title, reporter=args.reporter, contact=args.contact, source=args.source,
                          category=args.category, priority=args.priority, host=args.host,
                          actor=args.reporter or getpass.getuser())
    if args.json:
        _print_json(case.to_json())
    else:
        print(f"case {case.id} opened: {case.title}")
    return 0


def _row(case: Case) -> str:
    return (f"{case.id}  {case.state:<16} {case.priority or '-':<8} {case.category or '-':<13} "
            f"{case.assignee or '-':<10} {case.title}")


def cmd_list(args: argparse.Namespace) -> int:
    with _store() as store:
        cases = store.list(state=args.state, category=args.category, priority=args.priority,
                           assignee=args.assignee, open_only=args.open)
    if args.json:
        _print_json([c.to_json() for c in cases])
        return 0
    if not cases:
        print("no case")
    for case in cases:
        print(_row(case))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _store() as store:
        case = store.get(args.id)
        events = store.timeline(args.id)
    if args.json:
        _print_json({**case.to_json(), "timeline": [e.to_json() for e in events]})
        return 0
    print(f"{case.id}: {case.title}")
    print(f"  state {case.state}, priority {case.priority or '-'}, category {case.category or '-'}, "
          f"source {case.source}, tier {case.tier}, assignee {case.assignee or '-'}")
    print(f"  reporter {case.reporter or '-'}, contact {case.contact or '-'}, host {case.host or '-'}")
    for link in case.links:
        print(f"  {link.kind} {link.ref}  {json.dumps(link.data, sort_keys=True, default=str)}")
    print("timeline:")
    for e in events:
        print(f"  {_when(e.at)}  {e.kind:<12} {e.actor or '-':<10} {json.dumps(e.data, sort_keys=True, default=str)}")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    actor = _actor(args)
    with _store() as store:
        fields: dict[str, Any] = {"assignee": args.assignee}
        if args.tier is not None:
            fields["tier"] = args.tier
        case = store.update(args.id, actor=actor, **fields)
        if case.state in ("opened", "acknowledged", "in_progress"):
            case = store.transition(args.id, "dispatched", actor=actor)
    print(f"case {case.id} assigned to {case.assignee} (tier {case.tier}), {case.state}")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    with _store() as store:
        store.add_event(args.id, "note", {"text": args.text}, actor=_actor(args))
    print(f"case {args.id}: note added")
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    state = MOVES[args.move][0]
    with _store() as store:
        current = store.get(args.id).state
        if args.move == "reopen" and current not in ("resolved", "closed"):
            raise UsageError(f"case {args.id} is {current}: only a resolved or closed case can be reopened")
        case = store.transition(args.id, state, actor=_actor(args), note=args.note)
    print(f"case {case.id}: {case.state}")
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    from medic.plugins.cases.followup import ask_rating

    with _store() as store:
        case = store.transition(args.id, "closed", actor=_actor(args), note=args.note)
    print(f"case {case.id}: {case.state}")
    if KB_PLUGIN in disabled():
        print(f"no archive, no article: the knowledge base plugin is disabled ({DISABLE_ENV})", file=sys.stderr)
        print(ask_rating(case.id), file=sys.stderr)
        return 0
    # the knowledge base reads cases (and holds the report): imported when needed only
    from medic.plugins.kb.casecmds import archive_for, draft_for

    steps = [("archived", lambda: archive_for(case.id)), ("asked for a rating", lambda: ask_rating(case.id))]
    if not args.no_article:
        steps.append(("given its article", lambda: draft_for(case.id)))
    code = 0
    for what, step in steps:  # each is tried: a failing channel stops neither the archive nor the article
        try:
            print(step(), file=sys.stderr)
        except MedicError as exc:
            print(f"medic: error: case {case.id} closed, but not {what}: {exc}", file=sys.stderr)
            code = code or exc.exit_code
    return code


def cmd_rate(args: argparse.Namespace) -> int:
    from medic.plugins.cases.followup import record_rating

    print(record_rating(args.id, args.score, args.comment))
    return 0
