"""What each page shows: read from the case store, the run history and the knowledge base, rendered by Jinja2
(autoescape on; people's Markdown through markdown-it with raw HTML off)."""

from __future__ import annotations

import functools
import html
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from medic.kernel.errors import MedicError
from medic.plugins.cases.model import CATEGORIES, PRIORITIES, STATES, Case
from medic.plugins.cases.store import CaseStore
from medic.plugins.kb.store import KnowledgeBase
from medic.plugins.reports import render

PAGE = 200  # cases per page unless ?limit= says (at most MAX_LIMIT)
MAX_LIMIT = 10_000


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


def sla_state(src: Sources, case: Case, now: float) -> str:
    """The worst of the case's clocks: breached, at risk (80 % used), running, paused, met; "" without a level
    (what the list shows for it, from the same summary)."""
    from medic.plugins.cases import listing, sla

    if src.routing is None:
        return ""
    evaluation = sla.evaluate(case, src.cases.timeline(case.id), src.routing, now)
    return listing.state_at(*listing.summary(evaluation, src.routing, now), now)


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
            "open_only": query.get("open") == "1", "breaching": query.get("sla") == "breaching",
            "limit": limit, "offset": offset}


SLA_CLASS = {"breached": "breached", "at risk": "warn", "met": "met"}


def case_rows(rows: list[tuple[Any, ...]]) -> Markup:
    """The list's table rows (``listing.COLUMNS``), every value escaped. Written here rather than as a template
    loop (which took a third longer), and with the standard library's ``html.escape`` rather than markupsafe's
    (which builds a Markup object per value: twice as long); rendering is the larger part of the list's time."""
    out, e = [], html.escape
    for case_id, title, state, category, priority, assignee, host, updated, sla in rows:
        cid = e(case_id)
        out.append(f'<tr><td><a href="/cases/{cid}">{cid}</a></td><td>{e(title)}</td><td>{e(state)}</td>'
                   f"<td>{e(category or '')}</td><td>{e(priority or '')}</td><td>{e(assignee or '')}</td>"
                   f"<td>{e(host or '')}</td><td class=\"{SLA_CLASS.get(sla, '')}\">{e(sla)}</td>"
                   f"<td>{_when(updated)}</td></tr>\n")
    return Markup("".join(out))  # noqa: S704 - every value above is escaped (quotes too)


def prepare(src: Sources) -> int:
    """Evaluate the SLA state of every case that has none stored yet (a store never listed, another routing.yaml);
    the number evaluated. Run before serving, so no request pays for all of them."""
    from medic.plugins.cases.listing import refresh

    return refresh(src.cases, src.routing, time.time()) if src.routing is not None else 0


def case_list(src: Sources, query: Any) -> str:
    """Newest first, one page (``PAGE`` cases unless ``?limit=``), with how many cases match the filters."""
    from medic.plugins.cases.listing import BREACHING, listing

    f = filters_of(query)
    rows, matching = listing(src.cases, src.routing, time.time(), sla=BREACHING if f["breaching"] else (),
                             open_only=f["open_only"], limit=f["limit"], offset=f["offset"], state=f["state"],
                             category=f["category"], priority=f["priority"], assignee=f["assignee"],
                             host=f["host"])
    return page("list.html.j2", rows=rows, f=f, matching=matching, total=src.cases.count(),
                more=f["offset"] + len(rows) < matching)


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
