"""The durable outbox: a notification is written here before its first attempt and leaves only when delivered or
dead-lettered, so a receiver that is down never loses a message and a restart never sends one twice.

SQLite in WAL mode, one file under medic's state directory. A delivery claims its row with a lease first, so two
medic processes draining the same outbox do not both send a message; a process that dies mid-send leaves a lease
that expires and the message is sent again with the same id (receivers deduplicate on it: at-least-once delivery
with stable ids). Rows keep channel options with secret *references* only; errors are stored, never secrets. Sent
as it is written (``attempt``), a message is marked delivered by a timer, many at once, within ``ACK_DELAY_S``.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from medic.core.channel import Channel, DeliveryError, Notification
from medic.kernel.errors import MedicError
from medic.kernel.sqlitetx import WriteLater, connect_wal, write_transaction

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 3600.0
LEASE_S = 120.0
ACK_DELAY_S = 0.5  # longest a delivered message waits for its "delivered" mark to be written (well under LEASE_S)
CHECKPOINT_LATE_PAGES = 10_000  # the WAL's bound (40 MiB) when no delivered mark comes to checkpoint it sooner
_ACK = "UPDATE messages SET state='delivered', attempts=attempts+1, last_error=NULL, lease_until=0, updated=? " \
    "WHERE id=? AND channel=? AND state='pending'"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, options TEXT NOT NULL, notification TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0, last_error TEXT, created REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (id, channel));
CREATE INDEX IF NOT EXISTS messages_in_line ON messages (state, next_at, created);  -- the claim order, no sort
CREATE TABLE IF NOT EXISTS disabled (channel TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL);
"""


class Message(NamedTuple):  # built per notification: a named tuple is five times faster than a frozen dataclass
    id: str
    channel: str
    kind: str
    options: dict[str, Any]
    notification: Notification
    state: str
    attempts: int
    next_at: float
    last_error: str | None
    created: float


_JITTER = random.SystemRandom()  # its own source: a seeded or shared global ``random`` must not shape retries


def backoff(attempts: int, retry_after: float | None = None, rng: Callable[[], float] = _JITTER.random) -> float:
    """Seconds before attempt ``attempts + 1``: exponential with full jitter in [½, 1]; Retry-After wins, capped."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), BACKOFF_CAP_S)
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(attempts - 1, 0)) * (0.5 + rng() / 2)


def _row(r: sqlite3.Row) -> Message:
    return Message(r["id"], r["channel"], r["kind"], orjson.loads(r["options"]),
                   Notification(**orjson.loads(r["notification"])), r["state"],
                   r["attempts"], r["next_at"], r["last_error"], r["created"])


class Outbox:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path, self.clock = path, clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect_wal(path, checkpoint_pages=CHECKPOINT_LATE_PAGES)  # checkpoints: the marks' thread
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)
        path.chmod(0o600)
        self.delivered = WriteLater(path, _ACK, ACK_DELAY_S)  # (time, id, channel) of messages sent by attempt()

    def close(self) -> None:
        self.delivered.flush()
        self._db.close()

    def enqueue(self, channel: str, kind: str, options: dict[str, Any], note: Notification, claim: bool = False
                ) -> Message | None:
        """Write it before any attempt, once per channel; ``claim``: lease it too (unless disabled), return it."""
        now = self.clock()
        leased = self._db.execute(  # one statement, so one implicit transaction: the cheapest durable write
            "INSERT OR IGNORE INTO messages (id, channel, kind, options, notification, next_at, created, updated,"
            " lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM disabled WHERE channel = ?)"
            " THEN 0 ELSE ? END) RETURNING lease_until", (note.id, channel, kind, orjson.dumps(  # json's 20 us
                options, default=str).decode(), orjson.dumps(note.__dict__, default=str).decode(), now,  # each
                now, now, channel, (now + LEASE_S) * claim)).fetchall()
        fresh = Message(note.id, channel, kind, options, note, "pending", 0, now, None, now)
        return fresh if claim and leased and leased[0][0] else None

    def messages(self, state: str | None = None) -> list[Message]:
        self.delivered.flush()
        rows = self._db.execute("SELECT * FROM messages WHERE ? IS NULL OR state = ? ORDER BY created, id, channel",
                                (state, state))
        return [_row(r) for r in rows]

    def of(self, note_id: str) -> list[Message]:
        """The messages (one per channel) of one notification."""
        return [_row(r) for r in self._db.execute("SELECT * FROM messages WHERE id = ? ORDER BY channel", (note_id,))]

    def disabled(self) -> dict[str, str]:
        return {r["channel"]: r["reason"] for r in self._db.execute("SELECT * FROM disabled")}

    def replay(self, msg_id: str) -> int:
        """Put dead (or pending) messages with this id back in line now (one statement, so one transaction)."""
        self.delivered.flush()
        return self._db.execute("UPDATE messages SET state='pending', attempts=0, next_at=?, lease_until=0, updated=?"
                                " WHERE id = ? AND state != 'delivered'", (self.clock(), self.clock(), msg_id)).rowcount

    def enable(self, channel: str) -> None:
        self._db.execute("DELETE FROM disabled WHERE channel = ?", (channel,))

    def claim(self, only: set[str] | None = None, limit: int = 1) -> list[Message]:
        """Lease up to ``limit`` due messages (of ``only`` notification ids if given) in one transaction."""
        self.delivered.flush()
        now, ids = self.clock(), json.dumps(sorted(only)) if only is not None else None
        with write_transaction(self._db) as db:
            found = db.execute("SELECT * FROM messages WHERE state='pending' AND next_at <= ? AND lease_until <= ? AND"
                               " channel NOT IN (SELECT channel FROM disabled) AND (? IS NULL OR id IN (SELECT value"
                               " FROM json_each(?))) ORDER BY next_at, created LIMIT ?", (now, now, ids, ids, limit))
            rows = found.fetchall()
            db.executemany("UPDATE messages SET lease_until=? WHERE id=? AND channel=?",
                           [(now + LEASE_S, r["id"], r["channel"]) for r in rows])
        return [_row(r) for r in rows]

    def _settle(self, msg: Message, state: str, error: str | None, next_at: float | None = None) -> None:
        self._db.execute("UPDATE messages SET state=?, attempts=attempts+1, last_error=?, next_at=?, lease_until=0,"
                         " updated=? WHERE id=? AND channel=?",  # one statement: its own transaction
                         (state, error, next_at if next_at is not None else msg.next_at, self.clock(), msg.id,
                          msg.channel))

    def attempt(self, msg: Message, channel: Channel | None) -> str | None:
        """One delivery attempt of a claimed message; returns the error text, None when delivered."""
        if (failure := outcome(msg, channel)) is not None:
            return self.record(msg, failure)
        self.delivered.add((self.clock(), msg.id, msg.channel))  # written with others by a timer
        return None

    def record(self, msg: Message, failure: Failure | None) -> str | None:
        """Settle a claimed message after its attempt (None: delivered); returns the error text."""
        if failure is None:
            self._settle(msg, "delivered", None)
            return None
        error, retryable, retry_after, gone = failure
        if gone:  # one statement: its own transaction, or part of the caller's
            self._db.execute("INSERT OR REPLACE INTO disabled VALUES (?, ?, ?)", (msg.channel, error, self.clock()))
        if retryable and msg.attempts + 1 < MAX_ATTEMPTS:
            self._settle(msg, "pending", error, self.clock() + backoff(msg.attempts + 1, retry_after))
        else:
            self._settle(msg, "dead", error)
        return error

    def drain(self, channels: dict[str, Channel], only: set[str] | None = None, budget_s: float = 30.0,
              send: Callable[[list[Message]], list[Failure | None]] | None = None, batch: int = 1
              ) -> list[tuple[Message, str | None]]:
        """Attempt every due message once (those of ``only`` notification ids if given), within ``budget_s``:
        ``batch`` leased at a time, sent by ``send`` (default: one after the other), settled in one transaction."""
        done: list[tuple[Message, str | None]] = []
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline and (msgs := self.claim(only, batch)):
            failures = send(msgs) if send else [outcome(m, channels.get(m.kind)) for m in msgs]
            with write_transaction(self._db):
                done += [(m, self.record(m, f)) for m, f in zip(msgs, failures, strict=True)]
        return done


Failure = tuple[str, bool, float | None, bool]  # why an attempt failed: error, retryable, Retry-After, gone (410)


def outcome(msg: Message, channel: Channel | None) -> Failure | None:
    """Send one message (no database: any thread may call it); None when delivered."""
    try:
        if channel is None:
            raise MedicError(f"channel type {msg.kind!r} is not installed")
        channel.send(msg.notification, msg.options)
    except DeliveryError as exc:
        return str(exc), exc.retryable, exc.retry_after, exc.gone
    except MedicError as exc:  # a configuration problem (secret gone, bad URL): retrying will not help
        return str(exc), False, None, False
    except Exception as exc:  # someone else's plugin: keep the message, report, never lose the run
        return f"{type(exc).__name__}: {exc}", True, None, False
    return None
