"""``medic kb add|search|show|edit|publish|suggest``: the knowledge base on the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from medic.core.config import load_config, state_dir
from medic.kernel.errors import UsageError
from medic.plugins.kb.store import FIELDS, STATES, Article, KnowledgeBase

EXIT_CODES = "Exit codes: 0 done, 2 usage error (an unknown article, bad JSON input), 3 internal error."


def open_kb() -> KnowledgeBase:
    return KnowledgeBase.default(state_dir(load_config()))


def _text_options(p: argparse.ArgumentParser) -> None:
    for name in FIELDS[1:]:
        p.add_argument(f"--{name}", metavar="TEXT", help=f"the article's {name} (Markdown)")
    p.add_argument("--checks", metavar="ID[,ID...]", help="the failing check ids this article is about")


def register(subparsers: Any) -> None:
    kb = subparsers.add_parser("kb", help="the knowledge base: search, show, add, edit, publish, suggest",
                               description="Knowledge-base articles (kb.sqlite in the state directory). "
                                           + EXIT_CODES)
    sub = kb.add_subparsers(dest="kb_command", metavar="COMMAND", required=True)
    p = sub.add_parser("add", help="add an article (a draft unless --publish)", description=EXIT_CODES)
    p.add_argument("--title", required=True, metavar="TEXT")
    _text_options(p)
    p.add_argument("--publish", action="store_true", help="publish it at once")
    p.add_argument("--json", action="store_true", help="print the article as JSON")
    p.set_defaults(func=cmd_add)
    p = sub.add_parser("search", help="full-text search, best first", description=EXIT_CODES)
    p.add_argument("query", metavar="TEXT", help='words, e.g. "dns fails after vpn" (no search syntax)')
    p.add_argument("--state", choices=(*STATES, "any"), default="any", help="only drafts or published (any)")
    p.add_argument("--limit", type=int, default=10, metavar="N")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("show", help="one article", description=EXIT_CODES)
    p.add_argument("id", metavar="ID", help="12 or KB-12")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("edit", help="change an article's fields", description=EXIT_CODES)
    p.add_argument("id", metavar="ID")
    p.add_argument("--title", metavar="TEXT")
    _text_options(p)
    p.set_defaults(func=cmd_edit)
    p = sub.add_parser("publish", help="publish a draft (suggestions and reports cite published articles only)",
                       description=EXIT_CODES)
    p.add_argument("id", metavar="ID")
    p.add_argument("--unpublish", action="store_true", help="make it a draft again")
    p.set_defaults(func=cmd_publish)
    p = sub.add_parser("suggest", help="rank published articles for a case or a findings file",
                       description="Rank articles by symptom text and failing check ids. SOURCE: a run document "
                                   "(medic run --json), a case JSON, a list of findings, - for standard input, "
                                   "or a case id. " + EXIT_CODES)
    p.add_argument("source", metavar="CASE-or-FINDINGS.json")
    p.add_argument("--drafts", action="store_true", help="rank drafts too")
    p.add_argument("--limit", type=int, default=5, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_suggest)


def _with_kb(work: Callable[[KnowledgeBase], int]) -> int:
    kb = open_kb()
    try:
        return work(kb)
    finally:
        kb.close()


def _line(a: Article, score: bool = False) -> str:
    shown = f"  {a.score:7.3f}" if score else ""
    return f"KB-{a.id:<5} {a.state:<9}{shown}  {a.title}"


def _print(a: Article) -> None:
    print(f"KB-{a.id}: {a.title}\nstate: {a.state}" + (f" (from case {a.case_id})" if a.case_id else "")
          + f"\nchecks: {', '.join(a.checks) or '-'}\nupdated: {a.updated}")
    for name in FIELDS[1:]:
        print(f"\n{name.capitalize()}:\n{getattr(a, name) or '-'}")


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    return {f: getattr(args, f, None) for f in FIELDS}


def cmd_add(args: argparse.Namespace) -> int:
    def work(kb: KnowledgeBase) -> int:
        fields = {k: v for k, v in _fields(args).items() if k != "title" and v is not None}
        a = kb.add(args.title, checks=args.checks or (), state="published" if args.publish else "draft", **fields)
        print(json.dumps(a.to_dict(), indent=2) if args.json else f"KB-{a.id} added ({a.state})")
        return 0
    return _with_kb(work)


def cmd_search(args: argparse.Namespace) -> int:
    def work(kb: KnowledgeBase) -> int:
        found = kb.search(args.query, state=None if args.state == "any" else args.state, limit=args.limit)
        if args.json:
            print(json.dumps([a.to_dict() for a in found], indent=2))
        else:
            print("\n".join(_line(a, score=True) for a in found) or "no article matches")
        return 0
    return _with_kb(work)


def cmd_show(args: argparse.Namespace) -> int:
    def work(kb: KnowledgeBase) -> int:
        a = kb.get(args.id)
        print(json.dumps(a.to_dict(), indent=2)) if args.json else _print(a)
        return 0
    return _with_kb(work)


def cmd_edit(args: argparse.Namespace) -> int:
    fields = _fields(args)
    if all(v is None for v in fields.values()) and args.checks is None:
        raise UsageError("medic kb edit: nothing to change; give --title, --symptoms, --cause, --fix, "
                         "--verification or --checks")

    def work(kb: KnowledgeBase) -> int:
        a = kb.edit(args.id, checks=args.checks, **fields)
        print(f"KB-{a.id} updated ({a.state})")
        return 0
    return _with_kb(work)


def cmd_publish(args: argparse.Namespace) -> int:
    def work(kb: KnowledgeBase) -> int:
        a = kb.set_state(args.id, "draft" if args.unpublish else "published")
        print(f"KB-{a.id} {a.state}")
        return 0
    return _with_kb(work)


def case_problem(source: str) -> dict[str, Any] | None:
    """A case id that is not a file: the case's title, notes and its runs' findings; else None."""
    import os

    if source == "-" or os.path.exists(source):
        return None
    from medic.plugins.cases.store import default_path, open_store
    from medic.plugins.kb.fromcase import run_documents

    config = load_config()
    if not default_path(config).exists():
        return None
    with open_store(config) as store:
        if not store.exists(source):
            return None
        case = store.get(source)
        notes = [str(e.data.get("text", "")) for e in store.timeline(source) if e.kind == "note"]
    return {"title": case.title, "description": "\n".join(notes),
            "runs": run_documents(case, state_dir(config))}


def cmd_suggest(args: argparse.Namespace) -> int:
    from medic.plugins.kb.suggest import load_problem, rank, symptoms_of

    doc = case_problem(args.source) or load_problem(args.source)
    text, checks = symptoms_of(doc)

    def work(kb: KnowledgeBase) -> int:
        found = rank(kb, text, checks, state=None if args.drafts else "published", limit=args.limit)
        if args.json:
            print(json.dumps([a.to_dict() for a in found], indent=2))
        else:
            print("\n".join(_line(a, score=True) for a in found) or "no article matches")
        return 0
    return _with_kb(work)
