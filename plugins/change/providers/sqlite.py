"""The ``sqlite`` backup provider: SQLite's online backup API (consistent while other connections write).

Dry-run: the copy is restored to a scratch file and ``PRAGMA integrity_check`` must say ``ok``. Restore goes
through the backup API too (into the live database, under SQLite's locking). Compare: a SHA-256 of the logical
content (``iterdump``) of the live database and of the backup.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medic.plugins.change.safety.backups import BackupError, BackupProvider, Created, Runner, sha256_file

ARTIFACT = "db.sqlite"


def _path(params: Mapping[str, Any]) -> Path:
    path = params.get("path")
    if not isinstance(path, str) or not path:
        raise BackupError("the sqlite provider needs `path:` (the database file)")
    return Path(os.path.abspath(os.path.expanduser(path)))


def _copy(src: Path, dst: Path) -> None:
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst, timeout=30)
    try:
        source.backup(target, pages=4096)
    finally:
        target.close()
        source.close()


def content_hash(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        h = hashlib.sha256()
        for line in con.iterdump():
            h.update(line.encode() + b"\n")
        return h.hexdigest()
    finally:
        con.close()


class SqliteProvider(BackupProvider):
    name = "sqlite"
    description = "an SQLite database through the online backup API"

    def resources(self, params: Mapping[str, Any]) -> list[str]:
        return [f"sqlite:{_path(params)}"]

    def estimate(self, params: Mapping[str, Any], free: int = 0) -> int:
        path = _path(params)
        return path.stat().st_size if path.exists() else 0

    def create(self, params: Mapping[str, Any], staging: Path, runner: Runner) -> Created:
        src = _path(params)
        if not src.is_file():
            raise BackupError(f"sqlite:{src}: no such database file; check `path:`")
        dst = staging / ARTIFACT
        try:
            _copy(src, dst)
        except sqlite3.Error as exc:
            raise BackupError(f"sqlite:{src}: backup failed: {exc}") from None
        return Created(
            ARTIFACT,
            sha256_file(dst),
            dst.stat().st_size,
            [],
            {"path": str(src), "content_sha256": content_hash(dst)},
        )

    def dry_run(self, entry: Mapping[str, Any], directory: Path, runner: Runner) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="medic-sqlite-") as tmp:
            scratch = Path(tmp) / "restored.sqlite"
            try:
                _copy(directory / str(entry["artifact"]), scratch)
                con = sqlite3.connect(scratch)
                try:
                    rows = [r[0] for r in con.execute("PRAGMA integrity_check")]
                finally:
                    con.close()
            except sqlite3.Error as exc:
                return [f"restored copy cannot be opened: {exc}"]
        return [] if rows == ["ok"] else [f"integrity_check: {'; '.join(map(str, rows[:5]))}"]

    def restore(
        self,
        entry: Mapping[str, Any],
        directory: Path,
        runner: Runner,
        only: Sequence[str] | None = None,
        into: Mapping[str, Any] | None = None,
    ) -> None:
        dst = Path(str((into or {}).get("path") or entry["meta"]["path"]))
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(directory / str(entry["artifact"]), dst)
            return
        try:
            _copy(directory / str(entry["artifact"]), dst)
        except sqlite3.Error as exc:
            raise BackupError(
                f"sqlite:{dst}: restore failed: {exc}; the backup is intact, retry when the "
                f"database is not locked"
            ) from None

    def compare(
        self,
        entry: Mapping[str, Any],
        directory: Path,
        runner: Runner,
        only: Sequence[str] | None = None,
        into: Mapping[str, Any] | None = None,
    ) -> list[str]:
        path = Path(entry["meta"]["path"])
        if content_hash(path) != entry["meta"]["content_sha256"]:
            return [f"sqlite:{path}: content differs from the backup"]
        return []
