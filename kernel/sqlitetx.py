"""Write transactions on SQLite connections opened in autocommit mode (``isolation_level=None``).

``BEGIN IMMEDIATE`` takes the write lock at the start, so two processes sharing a store (a CLI command and a
long-running server) never interleave their changes, and a busy store waits at BEGIN, not halfway through.
:class:`WriteLater` collects rows for one statement and writes them together, shortly after, off the caller's thread.
"""

from __future__ import annotations

import atexit
import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class WriteLater:
    """Rows for ``sql`` written in one transaction by a timer thread ``delay`` seconds after the first is added,
    on a connection of its own; ``flush`` writes them at once (from any thread), and so does the exit of the
    process at the latest. What a crash loses is at most ``delay`` seconds of rows: use it only for writes whose
    loss the data already survives (an outbox's "delivered" marks: the message is sent again)."""

    def __init__(self, path: Path, sql: str, delay: float) -> None:
        self.path, self.sql, self.delay = path, sql, delay
        self._rows: list[Sequence[Any]] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def add(self, row: Sequence[Any]) -> None:
        with self._lock:
            self._rows.append(row)
            if self._timer is None:
                self._timer = threading.Timer(self.delay, self._flush_quietly)
                self._timer.daemon = True  # never keeps a process alive: the exit writes what is left
                self._timer.start()
        _WAITING.add(self)

    def flush(self) -> None:
        with self._lock:
            rows, self._rows, self._timer = self._rows, [], None
        if rows:
            try:
                with contextlib.closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db, \
                        write_transaction(db):
                    db.executemany(self.sql, rows)
            except sqlite3.Error:
                with self._lock:  # kept for the next flush (the exit's at the latest)
                    self._rows[:0] = rows
                raise

    def _flush_quietly(self) -> None:
        # the timer's thread has nobody to tell: a locked or vanished database leaves the rows for the next flush,
        # instead of a traceback on the user's terminal
        with contextlib.suppress(sqlite3.Error):
            self.flush()


_WAITING: weakref.WeakSet[WriteLater] = weakref.WeakSet()


@atexit.register
def _write_waiting() -> None:
    for later in list(_WAITING):
        with contextlib.suppress(sqlite3.Error):  # the database is gone: nothing left to write into
            later.flush()
