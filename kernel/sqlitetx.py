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

CHECKPOINT_PAGES = 1000  # SQLite's default: a WAL this long is copied into the database at the next commit


def connect_wal(path: Path, checkpoint_pages: int = CHECKPOINT_PAGES) -> sqlite3.Connection:
    """An autocommit connection in WAL mode with ``synchronous=NORMAL``: a commit reaches the operating system
    without an fsync (a crash of the process loses nothing, a power cut the last commits, never the file's
    integrity); the two fsyncs come at checkpoints, which this connection runs when its commit leaves
    ``checkpoint_pages`` in the WAL. A connection on a latency-bound path takes a high bound and leaves the
    checkpoints to a :class:`WriteLater`, whose writes off that thread checkpoint at :data:`CHECKPOINT_PAGES`."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     f" PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")
    return db


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
    on a connection of its own (:func:`connect_wal`, which also checkpoints the WAL when due); ``flush`` writes
    them at once (from any thread), and so does the exit of the process at the latest. What a crash loses is at
    most ``delay`` seconds of rows: use it only for writes whose loss the data already survives (an outbox's
    "delivered" marks: the message is sent again)."""

    def __init__(self, path: Path, sql: str, delay: float) -> None:
        self.path, self.sql, self.delay = path, sql, delay
        self._rows: list[Sequence[Any]] = []
        self._lock = threading.Lock()
        # one flush at a time: a flush returns only once the rows added before it are written (or raises), even
        # while the timer's thread is writing (or failing to write) the earlier ones
        self._writing = threading.Lock()
        self._timer: threading.Timer | None = None
        _WAITING.add(self)  # once, not per row: the exit writes what is left

    def add(self, row: Sequence[Any]) -> None:
        with self._lock:
            self._rows.append(row)
            if self._timer is None:
                self._timer = threading.Timer(self.delay, self._flush_quietly)
                self._timer.daemon = True  # never keeps a process alive: the exit writes what is left
                self._timer.start()

    def flush(self) -> None:
        with self._writing:
            with self._lock:
                rows, self._rows, self._timer = self._rows, [], None
            if rows:
                try:
                    with contextlib.closing(connect_wal(self.path)) as db, write_transaction(db):  # its commit
                        db.executemany(self.sql, rows)  # also checkpoints the WAL when due, off the caller's thread
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
