"""``medic metrics``: how support went over a period, from the case store and the run history.

Definitions (the cases counted are those **closed** in the period: their newest move to ``closed`` is within it):

- satisfaction: the mean score (1-5) of the newest ``satisfaction`` event of each counted case that has one
  (``medic cases rate``, ``medic feedback``), with how many answered; and the response rate: the share of the
  counted cases asked for a rating (a ``satisfaction.requested`` event: closing sent the request) that answered;
- first-time resolution rate: the share of counted cases never reopened (no move from ``resolved`` or ``closed``
  back to work);
- repeat fault rate: the share of counted cases for which another case, opened within N days (``--repeat-days``,
  default 7) after this one was closed, has a failing check on the same host (a host is the case's ``host`` or a
  target of its runs; a failing check is a ``fail`` finding of an attached run);
- SLA compliance per priority: for each priority, the share of counted cases whose SLA clocks (response, dispatch,
  resolution under the routing in force) were all met, i.e. none breached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medic.kernel.errors import UsageError
from medic.plugins.cases.model import Case, Event
from medic.plugins.cases.store import CaseStore
from medic.plugins.kb.fromcase import run_documents, satisfaction, sla_rows

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def period(text: str) -> float:
    """``30d``, ``12h``, ``2w``, ``90m`` in seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not m or int(m[1]) == 0:
        raise UsageError(f"--since {text!r}: expected a period such as 30d, 12h, 2w or 90m")
    return int(m[1]) * UNITS[m[2]]


@dataclass
class Closed:
    case: Case
    events: list[Event]
    closed_at: float
    faults: set[tuple[str, str]]  # (host, check) failing in its runs


def _closed_at(events: list[Event]) -> float | None:
    closes = [e.at for e in events if e.kind == "state" and e.data.get("to") == "closed"]
    return closes[-1] if closes else None


def _faults(case: Case, state: Path) -> set[tuple[str, str]]:
    out = set()
    for doc in run_documents(case, state):
        for f in doc.get("findings") or []:
            if f.get("status") == "fail" and f.get("check"):
                out.add((str(case.host or f.get("target") or ""), str(f["check"])))
                if case.host and f.get("target"):
                    out.add((str(f["target"]), str(f["check"])))
    return out


def _reopened(events: list[Event]) -> bool:
    return any(e.kind == "state" and e.data.get("from") in ("resolved", "closed")
               and e.data.get("to") not in ("closed",) for e in events)


def compute(store: CaseStore, state: Path, since_s: float, now: float, repeat_days: int = 7) -> dict[str, Any]:
    everyone = store.list()
    counted: list[Closed] = []
    for case in everyone:
        if case.state != "closed":
            continue
        events = store.timeline(case.id)
        at = _closed_at(events)
        if at is not None and now - since_s <= at <= now:
            counted.append(Closed(store.get(case.id), events, at, set()))
    for c in counted:
        c.faults = _faults(c.case, state)
    window = repeat_days * 86400
    later: list[tuple[Case, set[tuple[str, str]]]] = []
    if any(c.faults for c in counted):
        later = [(case, _faults(store.get(case.id), state)) for case in everyone]
    repeats = [c.case.id for c in counted
               if any(o.id != c.case.id and c.closed_at < o.created <= c.closed_at + window and faults & c.faults
                      for o, faults in later)]
    scores = [float(s["score"]) for c in counted if (s := satisfaction(c.events)) and "score" in s]
    asked = [c for c in counted if any(e.kind == "satisfaction.requested" for e in c.events)]
    answered = sum(satisfaction(c.events) is not None for c in asked)
    per_priority: dict[str, list[bool]] = {}
    for c in counted:
        rows = sla_rows(c.case, c.events, now)
        if rows:
            per_priority.setdefault(c.case.priority or "none", []).append(all(r["met"] for r in rows))
    n = len(counted)
    return {
        "since_s": since_s, "closed": n, "repeat_days": repeat_days,
        "satisfaction": {"mean": round(sum(scores) / len(scores), 2) if scores else None, "answers": len(scores),
                         "response": _rate(answered, len(asked))},
        "first_time_resolution": _rate(sum(not _reopened(c.events) for c in counted), n),
        "repeat_fault": {**_rate(len(repeats), n), "cases": repeats},
        "sla_compliance": {p: _rate(sum(v), len(v)) for p, v in sorted(per_priority.items())},
    }


def _rate(hits: int, total: int) -> dict[str, Any]:
    return {"rate": round(hits / total, 4) if total else None, "count": hits, "of": total}


def lines(m: dict[str, Any]) -> list[str]:
    def pct(r: dict[str, Any]) -> str:
        return "n/a" if r["rate"] is None else f"{100 * r['rate']:.1f} % ({r['count']}/{r['of']})"

    sat = m["satisfaction"]
    out = [f"cases closed: {m['closed']}",
           f"satisfaction: {'n/a' if sat['mean'] is None else sat['mean']} ({sat['answers']} answers)",
           f"satisfaction requests answered: {pct(sat['response'])}",
           f"first-time resolution: {pct(m['first_time_resolution'])}",
           f"repeat faults within {m['repeat_days']} d: {pct(m['repeat_fault'])}"]
    out += [f"SLA compliance, {p}: {pct(r)}" for p, r in m["sla_compliance"].items()] or ["SLA compliance: n/a"]
    return out
