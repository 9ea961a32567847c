"""What each page shows: read from the case store, the run history and the knowledge base, rendered by Jinja2
(autoescape on; people's Markdown through markdown-it with raw HTML off)."""

from __future__ import annotations

import functools
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from medic.kernel.errors import MedicError
from medic.plugins.cases.model import CATEGORIES, PRIORITIES, STATES, Case, Event
from medic.plugins.cases.store import CaseStore
from medic.plugins.kb.store import KnowledgeBase
from medic.plugins.reports import render

PAGE = 200  # cases per page unless ?limit= says (at most MAX_LIMIT)
MAX_LIMIT = 10_000
CHUNK = 900  # cases per timeline query (SQLite's variable limit is at least 999)


@functools.cache
def environment() -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.PackageLoader("medic.plugins.casespage", "templates"),
                                  jinja2.PackageLoader("medic.plugins.reports", "templates")])
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html.j2"],
                                                                               default_for_string=True),
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(markdown=render.markdown_html, shown=render.shown, when=_when)
    env.globals.update(states=STATES, categories=CATEGORIES, priorities=PRIORITIES, case_rows=case_rows)
    return env


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(at))


def page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


@dataclass
class Sources:
    """Where the page reads: the case store, the knowledge base and the run history (``state/runs``).

    SQLite connections belong to the thread that opened them: each serving thread opens its own, once."""

    cases_path: Path
    state: Path
    routing: Any  # the routing in force, or None when it cannot be loaded (no SLA column then)
    local: threading.local = field(default_factory=threading.local)

    @property
    def cases(self) -> CaseStore:
        if getattr(self.local, "cases", None) is None:
            self.local.cases = CaseStore(self.cases_path)
        return self.local.cases

    @property
    def kb(self) -> KnowledgeBase:
        if getattr(self.local, "kb", None) is None:
            self.local.kb = KnowledgeBase.default(self.state)
        return self.local.kb


def load_routing() -> Any:
    from medic.plugins.cases import routing

    try:
        return routing.load()
    except MedicError:
        return None


def timelines(store: CaseStore, ids: list[str]) -> dict[str, list[Event]]:
    """What the SLA clocks need of the timelines of many cases, in a few queries (``store.timeline`` is one query
    per case: 10,000 cases on a page spent most of their time there). Reads the store's ``events`` table as
    ``CaseStore.timeline`` does (a ``timelines(ids)`` in the store's API would spare this)."""
    out: dict[str, list[Event]] = {i: [] for i in ids}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        marks = ",".join("?" * len(chunk))
        # the clocks read state and sla.* events only: notes and the rest are not even fetched
        rows = store.db.execute("SELECT case_id, seq, at, kind, actor, data FROM events "  # noqa: S608
                                f"WHERE case_id IN ({marks}) AND (kind = 'state' OR kind LIKE 'sla.%') "
                                "ORDER BY seq", chunk)
        for case_id, seq, at, kind, actor, data in rows:
            out[case_id].append(Event(case_id, seq, at, kind, actor, json.loads(data)))
    return out


def sla_state(src: Sources, case: Case, now: float, events: list[Event] | None = None) -> str:
    """The worst of the case's clocks: breached, at risk (80 % used), running, paused, met; "" without a level."""
    from medic.plugins.cases import sla

    if src.routing is None or (case.priority or "") not in src.routing.levels:
        return ""
    evaluation = sla.evaluate(case, src.cases.timeline(case.id) if events is None else events, src.routing, now)
    if evaluation is None or not evaluation.clocks:
        return ""
    states = {c.state for c in evaluation.clocks}
    for label in ("breached", "running", "paused"):
        if label in states:
            return "at risk" if label != "breached" and evaluation.at_risk else label
    return "met"


def filters_of(query: Any) -> dict[str, Any]:
    def one(name: str, choices: tuple[str, ...] | None = None) -> str | None:
        value = (query.get(name) or "").strip()
        return value if value and (choices is None or value in choices) else None

    try:
        limit = min(MAX_LIMIT, max(1, int(query.get("limit") or PAGE)))
        offset = max(0, int(query.get("offset") or 0))
    except ValueError:
        limit, offset = PAGE, 0
    return {"state": one("state", STATES), "category": one("category", CATEGORIES),
            "priority": one("priority", PRIORITIES), "assignee": one("assignee"), "host": one("host"),
            "open_only": query.get("open") == "1", "limit": limit, "offset": offset}


SLA_CLASS = {"breached": "breached", "at risk": "warn", "met": "met"}


def case_rows(rows: list[tuple[Case, str]]) -> Markup:
    """The list's table rows, every value escaped. Written here rather than as a template loop: 10,000 rows took
    about a quarter less time (240 against 330 ms on this project's VM; rendering is the page's largest cost with
    every case on one page)."""
    def row(c: Case, sla: str) -> str:
        cells = (c.title, c.state, c.category or "", c.priority or "", c.assignee or "", c.host or "")
        return (f'<tr><td><a href="/cases/{escape(c.id)}">{escape(c.id)}</a></td>'
                + "".join(f"<td>{escape(v)}</td>" for v in cells)
                + f'<td class="{SLA_CLASS.get(sla, "")}">{escape(sla)}</td><td>{_when(c.updated)}</td></tr>\n')
    return Markup("".join(row(c, sla) for c, sla in rows))  # noqa: S704 - every value above is escaped


def case_list(src: Sources, query: Any) -> str:
    f = filters_of(query)
    cases = src.cases.list(**f)
    now = time.time()
    events = timelines(src.cases, [c.id for c in cases]) if src.routing is not None else {}
    rows = [(c, sla_state(src, c, now, events.get(c.id))) for c in cases]
    breaching = query.get("sla") == "breaching"
    if breaching:
        rows = [(c, s) for c, s in rows if s in ("breached", "at risk")]
    return page("list.html.j2", rows=rows, f=f, breaching=breaching, total=src.cases.count(),
                more=len(cases) == f["limit"])


def case_page(src: Sources, case_id: str) -> str:
    case = src.cases.get(case_id)
    events = src.cases.timeline(case_id)
    return page("case.html.j2", case=case, events=events, sla=sla_state(src, case, time.time()))


def far_page(src: Sources, case_id: str) -> str:
    from medic.plugins.kb.fromcase import case_model, run_documents
    from medic.plugins.kb.suggest import rank, symptoms_of
    from medic.plugins.reports import far

    model = case_model(src.cases, case_id, time.time())
    runs = run_documents(src.cases.get(case_id), src.state)
    text, checks = symptoms_of({"title": model["title"], "runs": runs})
    articles = [a.to_dict() for a in rank(src.kb, text, checks, limit=3) if a.case_id != case_id]
    return page("far.html.j2", far=far.build(runs, model, articles), case_id=case_id)


def kb_page(src: Sources, query: Any) -> str:
    text = (query.get("q") or "").strip()
    found = src.kb.search(text, limit=50) if text else []
    return page("kb.html.j2", q=text, found=found)


def article_page(src: Sources, article_id: str) -> str:
    return page("article.html.j2", a=src.kb.get(article_id))
