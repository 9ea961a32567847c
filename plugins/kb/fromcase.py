"""A case as a report and as a knowledge-base article: what the case store, the run history and the SLA clocks say.

Uses the case store's public API only (``medic.plugins.cases.store``). The runs attached to a case are read from
the run history (``STATE_DIR/runs/RUN_ID.json``); a run whose document is gone contributes what the case kept of
it (its failing checks). Satisfaction is the newest ``satisfaction`` event of the case's timeline
(``medic feedback``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from medic.plugins.cases.model import Case, Event
from medic.plugins.cases.store import CaseStore
from medic.plugins.kb.store import Article, KnowledgeBase

BAD = ("fail", "error", "warn")


def when(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_documents(case: Case, state: Path) -> list[dict[str, Any]]:
    docs = []
    for link in case.runs:
        path = state / "runs" / f"{link.ref}.json"
        try:
            docs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):  # the history file is gone: what the case kept of the run
            failing = [{"check": f.get("check", ""), "target": f.get("target", ""), "status": "fail",
                        "severity": "", "summary": "", "evidence": {}} for f in link.data.get("failing") or []]
            docs.append({"run_id": link.ref, "playbook": link.data.get("playbook", ""), "status":
                         link.data.get("status", ""), "findings": failing, "steps": {},
                         "targets": [{"name": t} for t in link.data.get("targets") or []]})
    return docs


def _event_text(e: Event) -> str:
    data = e.data
    if e.kind == "state":
        return f"{data.get('from')} → {data.get('to')}" + (f": {data['note']}" if data.get("note") else "")
    return str(data.get("text") or data.get("note") or data.get("description") or
               ", ".join(f"{k}={v}" for k, v in data.items()))


def satisfaction(events: list[Event]) -> dict[str, Any] | None:
    given = [e for e in events if e.kind == "satisfaction"]
    return dict(given[-1].data) if given else None


def sla_rows(case: Case, events: list[Event], now: float) -> list[dict[str, Any]]:
    """The case's clocks under the routing in force; none when it cannot be loaded or has no level for the case."""
    from medic.kernel.errors import MedicError
    from medic.plugins.cases import routing, sla

    try:
        evaluation = sla.evaluate(case, events, routing.load(), now)
    except MedicError:
        return []
    if evaluation is None:
        return []
    return [{"clock": c.name, "budget": f"{c.budget / 3600:.1f} h", "used": f"{c.elapsed / 3600:.1f} h",
             "met": c.state != "breached", "state": c.state} for c in evaluation.clocks]


def case_model(store: CaseStore, case_id: str, now: float) -> dict[str, Any]:
    """The case as ``far.build`` reads it."""
    case, events = store.get(case_id), store.timeline(case_id)
    notes = [str(e.data.get("text", "")) for e in events if e.kind == "note"]
    resolved = [str(e.data.get("note", "")) for e in events
                if e.kind == "state" and e.data.get("to") in ("resolved", "closed") and e.data.get("note")]
    return {**case.to_json(), "description": "\n\n".join(notes),
            "events": [{"at": when(e.at), "kind": e.kind, "actor": e.actor, "text": _event_text(e)} for e in events],
            "actions": [{"at": when(a.at), "what": a.data.get("description", a.ref), "backup": a.data.get("backup"),
                         "rollback": a.data.get("rollback")} for a in case.actions],
            "sla": sla_rows(case, events, now), "satisfaction": satisfaction(events),
            "resolution": "\n\n".join(resolved)}


def draft_article(kb: KnowledgeBase, store: CaseStore, case_id: str, state: Path) -> Article:
    """The case's article: a draft made from it the first time, the same article after."""
    existing = kb.by_case(case_id)
    if existing is not None:
        return existing
    case, events = store.get(case_id), store.timeline(case_id)
    runs = run_documents(case, state)
    bad = [f for r in runs for f in r.get("findings") or [] if f.get("status") in BAD]
    checks = sorted({str(f["check"]) for f in bad if f.get("check") and f["check"] != "target.reachable"})
    cause = next((r["summary"]["probable_cause"] for r in runs if (r.get("summary") or {}).get("probable_cause")),
                 None)
    notes = [str(e.data.get("text", "")) for e in events if e.kind == "note"]
    resolution = [str(e.data.get("note", "")) for e in events if e.kind == "state" and e.data.get("note")
                  and e.data.get("to") in ("resolved", "closed")]
    verify = [f"{f.get('check')}: {f.get('summary')}" for r in runs for t in (r.get("steps") or {}).values()
              for s in t if s.get("kind") == "verify" for f in s.get("findings") or []]
    return kb.add(case.title, checks=checks, case_id=case_id,
                  symptoms="\n".join([case.title, *notes, *(f"{f.get('check')}: {f.get('summary')}" for f in bad)]),
                  cause=f"{cause['check']} on {cause['target']}: {cause['summary']}" if cause else "",
                  fix="\n".join([*(a.data.get("description", a.ref) for a in case.actions), *resolution]),
                  verification="\n".join(verify))


def draft_closed(kb: KnowledgeBase, store: CaseStore, state: Path) -> list[Article]:
    """Draft an article for every closed case that has none yet (closing a case drafts its article)."""
    drafted = []
    done = {row[0] for row in kb.db.execute("SELECT case_id FROM articles WHERE case_id IS NOT NULL")}
    for case in store.list(state="closed"):
        if case.id not in done:
            drafted.append(draft_article(kb, store, case.id, state))
    return drafted
