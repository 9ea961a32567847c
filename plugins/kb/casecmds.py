"""``medic far CASE``, ``medic metrics``, ``medic feedback CASE SCORE``; and :func:`draft_for`, which ``medic cases
close`` calls to draft the closed case's knowledge-base article."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from medic.core.config import load_config, state_dir
from medic.kernel.errors import UsageError

EXIT_CODES = "Exit codes: 0 done, 2 usage error (an unknown case, a bad period or score), 3 internal error."


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("far", help="a case's fault analysis report (Markdown, or HTML for .html)",
                              description="The fault analysis report of a case: its problem, timeline, runs' "
                                          "findings, actions, verification, rollback, SLA compliance and "
                                          "satisfaction. " + EXIT_CODES)
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument("--output", "-o", metavar="FILE", help="write it here (.html/.htm: HTML); default: Markdown "
                                                         "on standard output")
    p.set_defaults(func=cmd_far)
    p = subparsers.add_parser("metrics", help="satisfaction, first-time resolution, repeat faults, SLA compliance",
                              description="Support metrics over the cases closed in a period (definitions: "
                                          "README, Knowledge base and reports). " + EXIT_CODES)
    p.add_argument("--since", default="30d", metavar="PERIOD", help="30d (default), 12h, 2w, 90m")
    p.add_argument("--repeat-days", type=int, default=7, metavar="N",
                   help="a fault on the same host and check within N days of closing is a repeat (7)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_metrics)
    p = subparsers.add_parser("feedback", help="record the customer's satisfaction with a case (1-5)",
                              description=EXIT_CODES)
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument("score", type=int, choices=range(1, 6), metavar="SCORE", help="1 (bad) to 5 (very good)")
    p.add_argument("--comment", default="", metavar="TEXT")
    p.set_defaults(func=cmd_feedback)


def _stores() -> tuple[Any, Any, Path]:
    from medic.plugins.cases.store import open_store
    from medic.plugins.kb.store import KnowledgeBase

    config = load_config()
    state = state_dir(config)
    return open_store(config), KnowledgeBase.default(state), state


def draft_for(case_id: str) -> str:
    from medic.plugins.kb.fromcase import draft_article

    store, kb, state = _stores()
    try:
        article = draft_article(kb, store, case_id, state)
    finally:
        store.close()
        kb.close()
    return f"KB-{article.id} drafted from case {case_id} ({article.state}; medic kb edit|publish {article.id})"


def far_report(store: Any, kb: Any, state: Path, case_id: str, destination: str) -> str:
    """The case's fault analysis report, HTML for a destination ending in .html/.htm, else Markdown."""
    from medic.plugins.kb.fromcase import case_model, run_documents
    from medic.plugins.kb.suggest import rank, symptoms_of
    from medic.plugins.reports.write import case_report

    case = case_model(store, case_id, time.time())
    runs = run_documents(store.get(case_id), state)
    text, checks = symptoms_of({"title": case["title"], "runs": runs})
    articles = [a.to_dict() for a in rank(kb, text, checks, limit=3) if a.case_id != case_id]
    return case_report(runs, case, destination, articles)


def archive_for(case_id: str) -> str:
    """Archive a closed case with its report (``plugins/kb/archive.py``); the line saying where."""
    from medic.plugins.kb.archive import write_archive

    store, kb, state = _stores()
    try:
        far = {kind: far_report(store, kb, state, case_id, f"far.{kind}") for kind in ("md", "html")}
        done = write_archive(store, case_id, state, far)
    finally:
        store.close()
        kb.close()
    return f"case {case_id} archived: {done['path']} (sha256 {done['sha256']})"


def cmd_far(args: argparse.Namespace) -> int:
    store, kb, state = _stores()
    try:
        report = far_report(store, kb, state, args.case, args.output or "far.md")
    finally:
        store.close()
        kb.close()
    if not args.output:
        print(report, end="")
        return 0
    try:
        Path(args.output).expanduser().write_text(report, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {args.output}: cannot write: {exc.strerror or exc}") from None
    print(f"report written to {args.output}", file=sys.stderr)
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from medic.plugins.kb.metrics import compute, lines, period

    since = period(args.since)
    if args.repeat_days < 0:
        raise UsageError("--repeat-days: expected 0 or more days")
    store, kb, state = _stores()
    try:
        result = compute(store, state, since, time.time(), args.repeat_days)
    finally:
        store.close()
        kb.close()
    print(json.dumps(result, indent=2) if args.json else "\n".join(lines(result)))
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from medic.plugins.cases.followup import record_rating

    print(record_rating(args.case, args.score, args.comment))
    return 0
