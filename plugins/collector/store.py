"""The collector's state in ``DIR/state.sqlite`` (WAL, synchronous=FULL): enrollment codes, agents, uploads.

Codes and tokens are stored only as sha256 hashes. The server and the ``medic collector`` commands share the
file, so a revocation made from the command line applies to the very next request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS codes (code_hash TEXT PRIMARY KEY, name TEXT NOT NULL, quota INTEGER NOT NULL,
    expires_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS agents (agent_id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT UNIQUE NOT NULL,
    quota INTEGER NOT NULL, created_at REAL NOT NULL, revoked_at REAL, address TEXT);
CREATE TABLE IF NOT EXISTS uploads (upload_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, length INTEGER NOT NULL,
    "offset" INTEGER NOT NULL DEFAULT 0, sha256 TEXT NOT NULL, filename TEXT NOT NULL, created_at REAL NOT NULL,
    expires_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'incomplete', problem TEXT, receipt TEXT, case_id TEXT);
CREATE INDEX IF NOT EXISTS uploads_agent ON uploads (agent_id, sha256);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged offset survives a power cut
        self._db.executescript(SCHEMA)
        path.chmod(0o600)

    def _run(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = self._run(sql, *args)
        return dict(rows[0]) if rows else None

    # --- enrollment -------------------------------------------------------------------------------------------
    def new_code(self, name: str, quota: int, ttl: int) -> str:
        # hex, 128 bits: a urlsafe code could start with "-", which `--code CODE` on a command line takes for an option
        code = secrets.token_hex(16)
        self._run("INSERT INTO codes VALUES (?, ?, ?, ?, NULL)", digest(code), name, quota, time.time() + ttl)
        return code

    def redeem(self, code: str, address: str) -> tuple[str, str, str] | None:
        """Use a code once: ``(agent_id, token, name)``, or None when it is unknown, used or expired."""
        token, agent_id = secrets.token_urlsafe(32), "a-" + secrets.token_hex(8)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("UPDATE codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL "
                                       "AND expires_at > ? RETURNING name, quota",
                                       (time.time(), digest(code), time.time())).fetchone()
                if row is not None:
                    self._db.execute("INSERT INTO agents VALUES (?, ?, ?, ?, ?, NULL, ?)",
                                     (agent_id, row["name"], digest(token), row["quota"], time.time(), address))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return (agent_id, token, row["name"]) if row is not None else None

    def agent_for_token(self, token: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM agents WHERE token_hash = ? AND revoked_at IS NULL", digest(token))

    def agents(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._run("SELECT * FROM agents ORDER BY created_at")]

    def agent(self, ref: str) -> dict[str, Any] | None:
        """By agent id, or by name when exactly one agent has it."""
        rows = self._run("SELECT * FROM agents WHERE agent_id = ? OR name = ?", ref, ref)
        return dict(rows[0]) if len(rows) == 1 else None

    def revoke(self, agent_id: str) -> None:
        self._run("UPDATE agents SET revoked_at = ? WHERE agent_id = ?", time.time(), agent_id)

    def rotate(self, agent_id: str) -> str:
        token = secrets.token_urlsafe(32)
        self._run("UPDATE agents SET token_hash = ?, revoked_at = NULL WHERE agent_id = ?", digest(token), agent_id)
        return token

    # --- uploads ----------------------------------------------------------------------------------------------
    def create_upload(self, agent_id: str, length: int, sha256: str, filename: str, expiry: int) -> str:
        upload_id = secrets.token_hex(16)
        now = time.time()
        self._run("INSERT INTO uploads (upload_id, agent_id, length, sha256, filename, created_at, expires_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", upload_id, agent_id, length, sha256, filename, now, now + expiry)
        return upload_id

    def upload(self, upload_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM uploads WHERE upload_id = ?", upload_id)

    def delivered(self, agent_id: str, sha256: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM uploads WHERE agent_id = ? AND sha256 = ? AND state = 'complete'",
                         agent_id, sha256)

    def set_offset(self, upload_id: str, offset: int) -> None:
        self._run('UPDATE uploads SET "offset" = ? WHERE upload_id = ?', offset, upload_id)

    def finish(self, upload_id: str, state: str, *, problem: dict[str, Any] | None = None,
               receipt: dict[str, Any] | None = None, case_id: str | None = None) -> None:
        self._run("UPDATE uploads SET state = ?, problem = ?, receipt = ?, case_id = ? WHERE upload_id = ?", state,
                  json.dumps(problem) if problem else None, json.dumps(receipt) if receipt else None, case_id,
                  upload_id)

    def delete_upload(self, upload_id: str) -> None:
        self._run("DELETE FROM uploads WHERE upload_id = ?", upload_id)

    def uploads(self, incomplete: bool = False) -> list[dict[str, Any]]:
        where = "WHERE state = 'incomplete'" if incomplete else ""
        return [dict(r) for r in self._run(f"SELECT * FROM uploads {where} ORDER BY created_at")]  # noqa: S608

    def open_uploads(self, agent_id: str) -> int:
        rows = self._run("SELECT count(*) FROM uploads WHERE agent_id = ? AND state = 'incomplete' "
                         "AND expires_at > ?", agent_id, time.time())
        return int(rows[0][0])

    def bytes_today(self, agent_id: str) -> int:
        rows = self._run("SELECT coalesce(sum(length), 0) FROM uploads WHERE agent_id = ? AND created_at > ?",
                         agent_id, time.time() - 86400)
        return int(rows[0][0])

    def expired(self, now: float) -> list[dict[str, Any]]:
        return [dict(r) for r in self._run("SELECT * FROM uploads WHERE state = 'incomplete' AND expires_at <= ?",
                                           now)]

    def close(self) -> None:
        self._db.close()
