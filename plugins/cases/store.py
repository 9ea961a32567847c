"""The case store: SQLite in WAL mode, one file ``STATE_DIR/cases.sqlite``; every change to a case is written in
the same transaction as an event of its timeline.

API (for commands, the collector hooks, reports and the cases page)::

    store = open_store(config)                      # or CaseStore(path, clock=...)
    case = store.open("DNS fails", reporter="ana", contact="ana@example.org", source="cli")
    store.get(case.id); store.list(state="opened", category="network", open_only=True)
    store.transition(case.id, "acknowledged", actor="bob")   # UsageError naming the allowed states
    store.update(case.id, actor="bob", assignee="carol", tier=2, priority="urgent")
    store.add_event(case.id, "note", {"text": "called the customer"}, actor="bob")
    store.attach_run(case.id, run_id, {"status": "fail", "report": "/path/far.md"})
    store.attach_bundle(case.id, sha256, {"path": ..., "upload_id": ...})
    store.add_action(case.id, "restarted unbound", {"backup": "b-1", "rollback": "..."})
    store.timeline(case.id)                         # list[Event], oldest first
    store.timelines(ids, kinds=("state", "sla.*"))   # many at once, some kinds only
    store.find_open(host="web1", agent_id="a-1")    # the open case of that host or agent, newest first

The clock (``clock=time.time``) is injectable: tests and the SLA evaluation run on simulated time.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from medic.core.config import state_dir
from medic.kernel.errors import UsageError
from medic.kernel.sqlitetx import write_transaction
from medic.plugins.cases.model import (
    CATEGORIES,
    OPEN_STATES,
    PRIORITIES,
    SOURCES,
    STATES,
    Case,
    Event,
    Link,
    check_choice,
    check_transition,
)

FILE_NAME = "cases.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    num INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, title TEXT NOT NULL, reporter TEXT NOT NULL,
    contact TEXT NOT NULL, source TEXT NOT NULL, category TEXT, priority TEXT, state TEXT NOT NULL,
    assignee TEXT, tier INTEGER NOT NULL DEFAULT 1, host TEXT, agent_id TEXT, created REAL NOT NULL,
    updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS cases_state ON cases (state);
CREATE TABLE IF NOT EXISTS links (
    case_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, ref));
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL, at REAL NOT NULL, kind TEXT NOT NULL,
    actor TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_case ON events (case_id, seq);
CREATE INDEX IF NOT EXISTS cases_host ON cases (host);
CREATE INDEX IF NOT EXISTS cases_agent ON cases (agent_id);
-- each case's SLA state as instants (listing.py); the case's next event (but the SLA runner's own) voids it
CREATE TABLE IF NOT EXISTS sla_due (
    case_id TEXT PRIMARY KEY, routing TEXT NOT NULL, fixed TEXT, warn_at REAL, breach_at REAL, valid_until REAL);
CREATE TRIGGER IF NOT EXISTS sla_due_stale AFTER INSERT ON events WHEN NEW.kind NOT LIKE 'sla.%'
    BEGIN DELETE FROM sla_due WHERE case_id = NEW.case_id; END;
"""

# the fields `update` may change, with the values each accepts (None: any string)
_UPDATABLE: dict[str, tuple[str, ...] | None] = {
    "title": None, "reporter": None, "contact": None, "category": CATEGORIES, "priority": PRIORITIES,
    "assignee": None, "tier": None, "host": None, "agent_id": None}


def default_path(config: dict[str, Any] | None = None) -> Path:
    return state_dir(config) / FILE_NAME


def open_store(config: dict[str, Any] | None = None, clock: Callable[[], float] = time.time) -> CaseStore:
    """The store in medic's state directory (``state_dir`` setting, MEDIC_STATE_DIR), keeping each changed case's
    SLA state for the cases page under the routing in force (listing.py, ``keeper``)."""
    from medic.plugins.cases.listing import keeper

    store = CaseStore(default_path(config), clock=clock)
    store.after_write = keeper()
    return store


class CaseStore:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        path.chmod(0o600)
        # called with the ids of the cases a transaction gave events, before it commits (listing.keeper)
        self.after_write: Callable[[CaseStore, list[str]], object] | None = None
        self._touched: set[str] = set()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: two processes never interleave their changes); before it
        commits, ``after_write`` hears which cases it changed (and may write in it)."""
        self._touched = set()
        with write_transaction(self.db) as db:
            yield db
            touched, self._touched = sorted(self._touched), set()
            if touched and self.after_write is not None:
                self.after_write(self, touched)

    def _event(self, db: sqlite3.Connection, case_id: str, kind: str, data: dict[str, Any], actor: str,
               at: float) -> None:
        db.execute("INSERT INTO events (case_id, at, kind, actor, data) VALUES (?, ?, ?, ?, ?)",
                   (case_id, at, kind, actor, json.dumps(data, sort_keys=True, default=str)))
        db.execute("UPDATE cases SET updated = ? WHERE id = ?", (at, case_id))
        if not kind.startswith("sla."):  # the SLA runner's own events leave the SLA state as it is
            self._touched.add(case_id)

    # -- writing --------------------------------------------------------------------------------------------

    def open(self, title: str, *, reporter: str = "", contact: str = "", source: str = "cli",
             category: str | None = None, priority: str | None = None, host: str | None = None,
             agent_id: str | None = None, actor: str = "") -> Case:
        check_choice("source", source, SOURCES)
        check_choice("category", category, CATEGORIES)
        check_choice("priority", priority, PRIORITIES)
        if not title.strip():
            raise UsageError("a case needs a title (--title)")
        now = self.clock()
        with self.tx() as db:
            cur = db.execute("INSERT INTO cases (title, reporter, contact, source, category, priority, state, host,"
                             " agent_id, created, updated) VALUES (?, ?, ?, ?, ?, ?, 'opened', ?, ?, ?, ?)",
                             (title, reporter, contact, source, category, priority, host, agent_id, now, now))
            case_id = f"C-{cur.lastrowid:05d}"
            db.execute("UPDATE cases SET id = ? WHERE num = ?", (case_id, cur.lastrowid))
            self._event(db, case_id, "opened", {"title": title, "source": source, "reporter": reporter,
                                                "category": category, "priority": priority, "host": host}, actor
                        or reporter, now)
        return self.get(case_id)

    def transition(self, case_id: str, new_state: str, *, actor: str = "", note: str = "") -> Case:
        check_choice("state", new_state, STATES)
        now = self.clock()
        with self.tx() as db:
            current = self._state(db, case_id)
            check_transition(case_id, current, new_state)
            db.execute("UPDATE cases SET state = ? WHERE id = ?", (new_state, case_id))
            data: dict[str, Any] = {"from": current, "to": new_state}
            if note:
                data["note"] = note
            self._event(db, case_id, "state", data, actor, now)
        return self.get(case_id)

    def update(self, case_id: str, *, actor: str = "", **fields: Any) -> Case:
        """Change fields (title, reporter, contact, category, priority, assignee, tier, host, agent_id); one
        ``updated`` event with the old and new values (``assigned`` when the assignee or tier changes)."""
        for name, value in fields.items():
            if name not in _UPDATABLE:
                raise UsageError(f"cannot update {name!r}; fields: {', '.join(_UPDATABLE)}")
            choices = _UPDATABLE[name]
            if choices is not None:
                check_choice(name, value, choices)
        now = self.clock()
        with self.tx() as db:
            self._state(db, case_id)
            old = dict(db.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone())
            changes = {k: {"from": old[k], "to": v} for k, v in fields.items() if old[k] != v}
            if not changes:
                return self.get(case_id)
            for name, value in fields.items():
                db.execute(f"UPDATE cases SET {name} = ? WHERE id = ?", (value, case_id))  # noqa: S608 (a known name)
            kind = "assigned" if set(changes) & {"assignee", "tier"} else "updated"
            self._event(db, case_id, kind, changes, actor, now)
        return self.get(case_id)

    def add_event(self, case_id: str, kind: str, data: dict[str, Any] | None = None, actor: str = "") -> Event:
        now = self.clock()
        with self.tx() as db:
            self._state(db, case_id)
            self._event(db, case_id, kind, data or {}, actor, now)
            seq = db.execute("SELECT max(seq) FROM events WHERE case_id = ?", (case_id,)).fetchone()[0]
        return Event(case_id, seq, now, kind, actor, data or {})

    def _link(self, case_id: str, kind: str, ref: str, data: dict[str, Any], actor: str) -> bool:
        """Attach once: attaching the same run, bundle or action again changes nothing (False)."""
        now = self.clock()
        with self.tx() as db:
            self._state(db, case_id)
            cur = db.execute("INSERT OR IGNORE INTO links (case_id, kind, ref, at, data) VALUES (?, ?, ?, ?, ?)",
                             (case_id, kind, ref, now, json.dumps(data, sort_keys=True, default=str)))
            if cur.rowcount:
                self._event(db, case_id, kind, {"ref": ref, **data}, actor, now)
        return bool(cur.rowcount)

    def attach_run(self, case_id: str, run_id: str, data: dict[str, Any] | None = None, actor: str = "") -> bool:
        """Attach a run (data: status, playbook, target, report path...)."""
        return self._link(case_id, "run", run_id, data or {}, actor)

    def attach_bundle(self, case_id: str, sha256: str, data: dict[str, Any] | None = None, actor: str = "") -> bool:
        """Attach a bundle by its SHA-256 (data: path, upload_id, agent_id, host...)."""
        return self._link(case_id, "bundle", sha256, data or {}, actor)

    def add_action(self, case_id: str, description: str, data: dict[str, Any] | None = None, actor: str = ""
                   ) -> bool:
        """Record an action taken (data: run_id, backup id, rollback command or run...)."""
        ref = f"{self.clock():.6f}:{description}"
        return self._link(case_id, "action", ref, {"description": description, **(data or {})}, actor)

    # -- reading --------------------------------------------------------------------------------------------

    def _state(self, db: sqlite3.Connection, case_id: str) -> str:
        row = db.execute("SELECT state FROM cases WHERE id = ?", (case_id,)).fetchone()
        if row is None:
            raise UsageError(f"no case {case_id!r} (see `medic cases list`)")
        return str(row[0])

    def exists(self, case_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is not None

    def get(self, case_id: str) -> Case:
        row = self.db.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
        if row is None:
            raise UsageError(f"no case {case_id!r} (see `medic cases list`)")
        links = self.db.execute("SELECT * FROM links WHERE case_id = ? ORDER BY at, rowid", (case_id,))
        return _case(row, tuple(Link(r["kind"], r["ref"], r["at"], json.loads(r["data"])) for r in links))

    def list(self, *, state: str | None = None, category: str | None = None, priority: str | None = None,
             assignee: str | None = None, source: str | None = None, host: str | None = None,
             open_only: bool = False, limit: int | None = None, offset: int = 0) -> builtins.list[Case]:
        """Cases, newest first, filtered on every field given (links not loaded: ``get`` one for them)."""
        where, params = [], []
        for name, value in (("state", state), ("category", category), ("priority", priority),
                            ("assignee", assignee), ("source", source), ("host", host)):
            if value is not None:
                where.append(f"{name} = ?")
                params.append(value)
        if open_only:
            where.append(f"state IN ({', '.join('?' * len(OPEN_STATES))})")
            params.extend(OPEN_STATES)
        # only column names and placeholders are joined in; every value is a parameter
        sql = "SELECT * FROM cases" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY num DESC"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [_case(r, ()) for r in self.db.execute(sql, params)]

    def count(self, *, open_only: bool = False) -> int:
        sql = "SELECT count(*) FROM cases" + (f" WHERE state IN {OPEN_STATES!r}" if open_only else "")  # noqa: S608
        return int(self.db.execute(sql).fetchone()[0])

    def many(self, ids: builtins.list[str]) -> builtins.list[Case]:
        """The cases of these ids (links not loaded), in as few queries as SQLite's variable limit allows."""
        out = []
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            out += [_case(r, ()) for r in self.db.execute(f"SELECT * FROM cases WHERE id IN ({marks})", chunk)]  # noqa: S608
        return out

    def timelines(self, ids: builtins.list[str], kinds: tuple[str, ...] | None = None
                  ) -> dict[str, builtins.list[Event]]:
        """The timelines of many cases in a few queries rather than one ``timeline`` per case; only the events
        whose kind matches one of ``kinds`` (GLOB patterns: ``("state", "sla.*")``) when given."""
        out: dict[str, builtins.list[Event]] = {i: [] for i in ids}
        match = " AND (" + " OR ".join("kind GLOB ?" for _ in kinds) + ")" if kinds else ""
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute("SELECT case_id, seq, at, kind, actor, data FROM events "  # noqa: S608
                                   f"WHERE case_id IN ({marks}){match} ORDER BY seq", [*chunk, *(kinds or ())])
            for case_id, seq, at, kind, actor, data in rows:
                out[case_id].append(Event(case_id, seq, at, kind, actor, json.loads(data)))
        return out

    def timeline(self, case_id: str) -> builtins.list[Event]:
        self._state(self.db, case_id)
        rows = self.db.execute("SELECT * FROM events WHERE case_id = ? ORDER BY seq", (case_id,))
        return [Event(r["case_id"], r["seq"], r["at"], r["kind"], r["actor"], json.loads(r["data"])) for r in rows]

    def find_open(self, *, host: str | None = None, agent_id: str | None = None) -> Case | None:
        """The newest open case of this agent (by id) or, failing that, of this host name."""
        for column, value in (("agent_id", agent_id), ("host", host)):
            if value:
                row = self.db.execute(f"SELECT * FROM cases WHERE {column} = ? AND state IN {OPEN_STATES!r} "  # noqa: S608
                                      "ORDER BY num DESC LIMIT 1", (value,)).fetchone()
                if row is not None:
                    return _case(row, ())
        return None


def _chunks(ids: list[str], size: int = 900) -> Iterator[list[str]]:
    """Ids in groups a query can take as parameters (SQLite's variable limit is at least 999)."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _case(r: sqlite3.Row, links: tuple[Link, ...]) -> Case:
    return Case(r["id"], r["title"], r["reporter"], r["contact"], r["source"], r["category"], r["priority"],
                r["state"], r["assignee"], r["tier"], r["host"], r["agent_id"], r["created"], r["updated"], links)
