"""Rank knowledge-base articles for a problem: its symptom text and its failing check ids.

Score = number of the problem's failing checks the article names + its text relevance scaled to 0..0.9 (its bm25
over the best match's). So an article naming the failing check outranks one that only shares words, and among
those the symptom text decides.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medic.kernel.errors import UsageError

if TYPE_CHECKING:  # a run without a knowledge base imports neither the store nor sqlite3 (medic run's start-up)
    from medic.plugins.kb.store import Article, KnowledgeBase

BAD = ("fail", "error", "warn")
CANDIDATES = 50
TEXT_WEIGHT = 0.9  # below one check: naming the failing check always counts more than words


def symptoms_of(doc: Mapping[str, Any]) -> tuple[str, list[str]]:
    """(symptom text, failing check ids) of a run document (``medic.run/1``), a case, or ``{"findings": [...]}``.

    A case contributes its title and description, and the findings of the runs it carries (``runs``)."""
    docs = [doc, *[r for r in doc.get("runs") or [] if isinstance(r, Mapping)]]
    words = [str(doc.get(k) or "") for k in ("title", "description", "symptoms")]
    checks: list[str] = []
    for d in docs:
        for f in d.get("findings") or []:
            if isinstance(f, Mapping) and f.get("status", "fail") in BAD:
                words.append(str(f.get("summary") or ""))
                if f.get("check") and f["check"] not in checks and f["check"] != "target.reachable":
                    checks.append(str(f["check"]))
    return " ".join(w for w in words if w), checks


def rank(kb: KnowledgeBase, text: str, checks: list[str], *, state: str | None = "published",
         limit: int = 5) -> list[Article]:
    by_text = kb.search(text, state=state, limit=CANDIDATES) if text else []
    by_check = kb.with_checks(checks, state=state)
    best = max((a.score for a in by_text), default=0.0) or 1.0
    scored: dict[int, tuple[float, Article]] = {}
    for a in by_text:
        scored[a.id] = (by_check.get(a.id, 0) + TEXT_WEIGHT * a.score / best, a)
    for article_id, n in by_check.items():
        if article_id not in scored:
            scored[article_id] = (float(n), kb.get(article_id))
    ranked = sorted(scored.values(), key=lambda pair: (-pair[0], pair[1].id))[:limit]
    for score, article in ranked:
        article.score = round(score, 4)
    return [article for _, article in ranked]


def load_problem(source: str) -> dict[str, Any]:
    """A findings or case JSON file (``-`` is standard input)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).expanduser().read_text(encoding="utf-8")
        doc = json.loads(text)
    except OSError as exc:
        raise UsageError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if isinstance(doc, list):
        doc = {"findings": doc}
    if not isinstance(doc, dict):
        raise UsageError(f"{source}: expected a run document (medic run --json), a case, or a list of findings")
    return doc


def citations(run_doc: Mapping[str, Any], state: Path, limit: int = 3) -> list[dict[str, Any]]:
    """Published articles matching a run's failing checks or symptoms, for its next steps. No KB file: none
    (a run never creates one)."""
    path = state / "kb.sqlite"
    text, checks = symptoms_of(run_doc)
    if not path.exists() or not checks:
        return []
    from medic.plugins.kb.store import KnowledgeBase

    kb = KnowledgeBase(path)
    try:
        return [{"id": a.id, "title": a.title, "score": a.score} for a in rank(kb, text, checks, limit=limit)]
    finally:
        kb.close()


def run_citations(run: Any, state: Path) -> list[dict[str, Any]]:
    """:func:`citations` of a finished run (a ``RunResult``); no KB file: nothing is computed."""
    if not (state / "kb.sqlite").exists():
        return []
    import sqlite3

    try:
        return citations({"findings": [f.to_dict() for f in run.findings()]}, state)
    except sqlite3.Error as exc:  # a broken KB never costs a run its results
        print(f"medic: warning: knowledge base {state / 'kb.sqlite'}: {exc}", file=sys.stderr)
        return []


def citation_lines(articles: list[dict[str, Any]]) -> list[str]:
    return [f"  KB-{a['id']} {a['title']} (medic kb show {a['id']})" for a in articles]
