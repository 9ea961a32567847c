"""One write transaction on a SQLite connection opened in autocommit mode (``isolation_level=None``).

``BEGIN IMMEDIATE`` takes the write lock at the start, so two processes sharing a store (a CLI command and a
long-running server) never interleave their changes, and a busy store waits at BEGIN, not halfway through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
