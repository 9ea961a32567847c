"""Many cases with their SLA state, filtered, counted and paged in SQL: what the cases page lists (10,000 cases).

A case's SLA state changes in two ways: through its timeline (a state change, a new priority) and through time
passing while a clock runs. So ``sla_due`` stores, per case, the state as it will be rather than as it is: either
``fixed``, a state time no longer changes (breached, met, paused, at risk while paused; "" without an SLA level),
or, while clocks run, the instants the case becomes "at risk" (80 % of a budget) and "breached", with the business
calendar's working hours counted in. One query then gives every case's state at any ``now`` with two comparisons.

A row holds until the case's next event (a trigger of the store deletes it; the SLA runner's own ``sla.*`` events
change no state), a change of routing.yaml (rows carry its fingerprint) or, with simulated clocks, an event dated
after the evaluation (``valid_until``). Cases without a valid row are evaluated by :func:`sla.evaluate`, the same
code as ``medic sla status``, before the list query; reading and writing in one transaction, so no event slips in
between. Stores opened with ``open_store`` keep the rows as they write (``keeper``): the list evaluates only the
cases changed by a process that did not (or died in between), and every case after routing.yaml changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from medic.plugins.cases.calendar import advance
from medic.plugins.cases.model import OPEN_STATES, PRIORITIES
from medic.plugins.cases.routing import Routing
from medic.plugins.cases.sla import WARN_AT, Clock, Evaluation, at_risk, clocks, spans
from medic.plugins.cases.store import CaseStore

SLA_STATES = ("breached", "at risk", "running", "paused", "met")
BREACHING = ("breached", "at risk")
COLUMNS = ("id", "title", "state", "category", "priority", "assignee", "host", "updated", "sla")
_CHUNK = 900
# the state at :now from a case's row; "" for a case without one (no routing, or evaluated by no one yet)
_LABEL = ("CASE WHEN s.case_id IS NULL THEN '' WHEN s.fixed IS NOT NULL THEN s.fixed "
          "WHEN :now >= s.breach_at THEN 'breached' WHEN :now >= s.warn_at THEN 'at risk' ELSE 'running' END")
_FILTERS = ("state", "category", "priority", "assignee", "source", "host")


def keys(routing: Routing) -> dict[str, str]:
    """Per priority ("": none), what of routing.yaml its cases' SLA states depend on, hashed: its level's budgets
    and, for a level counted in business hours, the calendar. A row carries its case's key, so a change of
    routing.yaml re-evaluates only the cases whose rule changed (a level's budgets: that level's cases; the
    calendar: the cases of business-hours levels; the category or priority rules: none)."""
    cal = routing.calendar
    calendar = [cal.timezone, list(cal.days), cal.start, cal.end, sorted(cal.holidays)]
    out = {}
    for name in ("", *PRIORITIES):
        lv = routing.levels.get(name)
        data = None if lv is None else [sorted(lv.budgets.items()), lv.business, calendar if lv.business else None]
        out[name] = hashlib.sha256(json.dumps([name, data], sort_keys=True).encode()).hexdigest()[:16]
    return out


def _key_of_case(keys: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The SQL expression giving a case's key (``c``: the cases table) and its parameters."""
    params: dict[str, str] = {}
    for i, (name, key) in enumerate(keys.items()):
        params[f"p{i}"], params[f"k{i}"] = name, key
    whens = " ".join(f"WHEN :p{i} THEN :k{i}" for i in range(len(keys)))
    return f"CASE ifnull(c.priority, '') {whens} END", params


Summary = tuple[str | None, float | None, float | None]  # fixed state, at-risk instant, breach instant


def summary(ev: Evaluation | None, routing: Routing, now: float) -> Summary:
    """(fixed state, at-risk instant, breach instant) of an evaluation at ``now``: the cases page's labels."""
    if ev is None:
        return "", None, None
    return _summary(ev.clocks, routing.calendar if routing.levels[ev.case.priority or ""].business else None, now)


def _summary(found: list[Clock], calendar: Any, now: float) -> Summary:
    if not found:
        return "", None, None
    states = {c.state for c in found}
    if "breached" in states:
        return "breached", None, None
    running = [c for c in found if c.state == "running"]
    if running:  # the case is in a counting state: every clock not met runs, until the case's next event
        return (None, min(advance(calendar, now, WARN_AT * c.budget - c.elapsed) for c in running),
                min(advance(calendar, now, c.budget - c.elapsed) for c in running))
    if "paused" in states:
        return ("at risk" if at_risk(found) else "paused"), None, None
    return "met", None, None


def state_at(fixed: str | None, warn_at: float | None, breach_at: float | None, now: float) -> str:
    """A summary's state at ``now`` (the query's ``CASE`` in Python)."""
    if fixed is not None:
        return fixed
    return ("breached" if breach_at is not None and now >= breach_at
            else "at risk" if warn_at is not None and now >= warn_at else "running")


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _rows(store: CaseStore, routing: Routing, keys: dict[str, str], now: float, ids: list[str]
          ) -> list[tuple[Any, ...]]:
    """The rows of these cases: what ``sla.evaluate`` gives, from their priority, opening and state changes read
    as plain values (building Case and Event objects, decoding every event's JSON, took half the time)."""
    marks = ",".join("?" * len(ids))
    changes: dict[str, list[tuple[float, str]]] = {i: [] for i in ids}
    for case_id, at, to in store.db.execute("SELECT case_id, at, json_extract(data, '$.to') FROM events "  # noqa: S608
                                            f"WHERE kind = 'state' AND case_id IN ({marks}) ORDER BY seq", ids):
        changes[case_id].append((at, to))
    rows = []
    for case_id, priority, created in store.db.execute(
            f"SELECT id, priority, created FROM cases WHERE id IN ({marks})", ids):  # noqa: S608
        level = routing.levels.get(priority or "")
        fixed, warn_at, breach_at = ("", None, None) if level is None else _summary(
            clocks(routing, level, spans(created, changes[case_id], now), now)[0],
            routing.calendar if level.business else None, now)
        later = [at for at, _ in changes[case_id] if at > now] + [created] * (created > now)
        rows.append((case_id, keys[priority or ""], fixed, warn_at, breach_at, min(later, default=None)))
    return rows


_UPSERT = "INSERT OR REPLACE INTO sla_due VALUES (?, ?, ?, ?, ?, ?)"


def refresh(store: CaseStore, routing: Routing, now: float) -> int:
    """Evaluate the cases whose row is missing or stale; the number evaluated."""
    current = keys(routing)
    key, params = _key_of_case(current)
    stale = [r[0] for r in store.db.execute(  # only placeholders are joined in
        f"SELECT c.id FROM cases c LEFT JOIN sla_due s ON s.case_id = c.id AND s.routing = {key} "  # noqa: S608
        "WHERE s.case_id IS NULL OR s.valid_until <= :now", {**params, "now": now})]
    for chunk in _chunks(stale):
        with store.tx() as db:
            db.executemany(_UPSERT, _rows(store, routing, current, now, chunk))
    return len(stale)


def keeper() -> Callable[[CaseStore, list[str]], None] | None:
    """What keeps each changed case's row as the store writes (``CaseStore.after_write``), under the routing in
    force now, in the same transaction as the change; None without a readable routing.yaml. So the list finds the
    rows of changed cases ready, and evaluates every case only after routing.yaml changed (``medic casespage``
    does that before it serves) or what a store opened without the keeper changed."""
    from medic.kernel.errors import MedicError
    from medic.plugins.cases import routing as routing_mod

    try:
        loaded = routing_mod.load()
    except MedicError:
        return None
    current = keys(loaded)

    def keep(store: CaseStore, ids: list[str]) -> None:  # inside the writing transaction, before its commit
        store.db.executemany(_UPSERT, _rows(store, loaded, current, store.clock(), ids))
    return keep


def listing(store: CaseStore, routing: Routing | None, now: float, *, sla: tuple[str, ...] = (),
            open_only: bool = False, limit: int = 200, offset: int = 0, **filters: str | None
            ) -> tuple[list[tuple[Any, ...]], int]:
    """(rows, how many cases match): newest first, each row the ``COLUMNS``; ``filters`` on the case's fields
    (state, category, priority, assignee, source, host), ``sla`` on its SLA state (e.g. ``BREACHING``)."""
    if routing is not None:
        refresh(store, routing, now)
    key, keyed = _key_of_case(keys(routing)) if routing is not None else ("''", {})
    where, params = [], {"now": now, **keyed}
    for name, value in filters.items():
        if name not in _FILTERS:
            raise TypeError(f"no filter {name!r}")
        if value is not None:
            where.append(f"c.{name} = :{name}")
            params[name] = value
    if open_only:
        where.append(f"c.state IN {OPEN_STATES!r}")
    if sla:
        where.append(f"sla IN ({', '.join(f':sla{i}' for i in range(len(sla)))})")
        params.update({f"sla{i}": label for i, label in enumerate(sla)})
    # only column names and placeholders are joined in; every value is a parameter
    body = (f"FROM cases c LEFT JOIN sla_due s ON s.case_id = c.id AND s.routing = {key}"
            + (" WHERE " + " AND ".join(where) if where else ""))
    fields = "c.id, c.title, c.state, c.category, c.priority, c.assignee, c.host, c.updated"
    cursor = store.db.cursor()
    cursor.row_factory = None  # plain tuples: the store's sqlite3.Row cost a third more on 10,000 rows
    rows = cursor.execute(f"SELECT {fields}, {_LABEL} AS sla {body} ORDER BY c.num DESC "
                          "LIMIT :limit OFFSET :offset", {**params, "limit": limit, "offset": offset}).fetchall()
    if 0 < len(rows) < limit or (not rows and offset == 0):  # the last page: no need to count
        return rows, offset + len(rows)
    total = store.db.execute(f"SELECT count(*) FROM (SELECT {_LABEL} AS sla {body})", params).fetchone()[0]  # noqa: S608
    return rows, int(total)
