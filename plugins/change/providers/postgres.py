"""The ``postgres`` backup provider: ``pg_dump`` custom format, consistent while clients write.

A ``psql`` session opens a REPEATABLE READ transaction and exports its snapshot; the optional
``compare_query`` runs in that snapshot and ``pg_dump --snapshot`` dumps exactly that state, so after a
restore the query's result can be compared with the value the backup holds. Dry-run: ``pg_restore --list``.
Restore: ``pg_restore --clean --if-exists --single-transaction`` (``into: {dbname: other}`` restores into
another, existing database). Connection: ``dbname``, ``host``, ``port``, ``user``; a password comes from
``PGPASSWORD``/``~/.pgpass`` (or ``password:``, passed in the environment, never on a command line, never
stored in the catalogue).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medic.plugins.change.safety.backups import CHUNK, BackupError, BackupProvider, Created, Runner

ARTIFACT = "db.dump"
END = "__medic_end__"


def _conn(params: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if params.get(key) not in (None, ""):
            out += [flag, str(params[key])]
    return out


def _env(params: Mapping[str, Any]) -> dict[str, str]:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    return env


def _db(params: Mapping[str, Any]) -> str:
    db = params.get("dbname")
    if not isinstance(db, str) or not db:
        raise BackupError("the postgres provider needs `dbname:`")
    return db


def resource_name(params: Mapping[str, Any]) -> str:
    host = params.get("host")
    return (
        f"postgres:{host}:{params.get('port') or 5432}/{_db(params)}" if host else f"postgres:{_db(params)}"
    )


def run_query(params: Mapping[str, Any], query: str) -> str:
    proc = subprocess.run(
        [
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            *_conn(params),
            "-d",
            _db(params),
            "-c",
            query,
        ],
        capture_output=True,
        env=_env(params),
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise BackupError(
            f"{resource_name(params)}: query failed: {proc.stderr.decode(errors='replace')[-300:]}"
        )
    return proc.stdout.decode().strip()


class PostgresProvider(BackupProvider):
    name = "postgres"
    description = "a PostgreSQL database: pg_dump custom format from an exported snapshot"

    def resources(self, params: Mapping[str, Any]) -> list[str]:
        return [resource_name(params)]

    def create(self, params: Mapping[str, Any], staging: Path, runner: Runner) -> Created:
        db, env = _db(params), _env(params)
        psql = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *_conn(params), "-d", db],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert psql.stdin is not None and psql.stdout is not None
        try:
            psql.stdin.write(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT pg_export_snapshot();\n"
            )
            psql.stdin.flush()
            snapshot = psql.stdout.readline().strip()
            if not snapshot:
                raise BackupError(
                    f"{resource_name(params)}: cannot connect or export a snapshot: "
                    f"{psql.communicate(timeout=30)[1][-300:]}"
                )
            compared = None
            if params.get("compare_query"):
                psql.stdin.write(f"{params['compare_query']};\n\\echo {END}\n")
                psql.stdin.flush()
                compared = _until_end(psql.stdout)
            digest, size = self._dump(params, snapshot, staging / ARTIFACT, env)
            psql.stdin.write("COMMIT;\n")
            psql.stdin.close()
            psql.wait(timeout=60)
        finally:
            if psql.poll() is None:
                psql.kill()
                psql.wait()
        return Created(
            ARTIFACT,
            digest,
            size,
            [],
            {
                "dbname": db,
                "compare_query": params.get("compare_query"),
                "compare_result": compared,
                "snapshot": snapshot,
                "connection": {k: params.get(k) for k in ("host", "port", "user")},
            },
        )

    def _dump(
        self, params: Mapping[str, Any], snapshot: str, dest: Path, env: dict[str, str]
    ) -> tuple[str, int]:
        h, size = hashlib.sha256(), 0
        dump = subprocess.Popen(
            ["pg_dump", "-Fc", f"--snapshot={snapshot}", *_conn(params), "-d", _db(params)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert dump.stdout is not None
        with open(dest, "wb") as fh:
            while chunk := dump.stdout.read(CHUNK):
                h.update(chunk)
                fh.write(chunk)
                size += len(chunk)
        err = dump.stderr.read().decode(errors="replace") if dump.stderr else ""
        if dump.wait() != 0:
            raise BackupError(f"{resource_name(params)}: pg_dump failed: {err[-300:]}")
        return h.hexdigest(), size

    def dry_run(self, entry: Mapping[str, Any], directory: Path, runner: Runner) -> list[str]:
        proc = runner.run(["pg_restore", "--list", str(directory / str(entry["artifact"]))], timeout=600)
        if proc.returncode != 0:
            return [f"pg_restore --list failed: {proc.stderr.decode(errors='replace')[-300:]}"]
        return [] if b";" in proc.stdout else ["pg_restore --list shows no archive entries"]

    def _params(self, entry: Mapping[str, Any], into: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**entry["meta"]["connection"], "dbname": entry["meta"]["dbname"], **(into or {})}

    def restore(
        self,
        entry: Mapping[str, Any],
        directory: Path,
        runner: Runner,
        only: Sequence[str] | None = None,
        into: Mapping[str, Any] | None = None,
    ) -> None:
        params = self._params(entry, into)
        proc = runner.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--no-owner",
                *_conn(params),
                "-d",
                _db(params),
                str(directory / str(entry["artifact"])),
            ],
            env=_env(params),
            timeout=24 * 3600,
        )
        if proc.returncode != 0:
            raise BackupError(
                f"{resource_name(params)}: pg_restore failed (nothing changed: single transaction): "
                f"{proc.stderr.decode(errors='replace')[-300:]}"
            )

    def compare(
        self,
        entry: Mapping[str, Any],
        directory: Path,
        runner: Runner,
        only: Sequence[str] | None = None,
        into: Mapping[str, Any] | None = None,
    ) -> list[str]:
        meta = entry["meta"]
        if not meta.get("compare_query"):
            return []
        params = self._params(entry, into)
        now = run_query(params, meta["compare_query"])
        if now != meta["compare_result"]:
            return [
                f"{resource_name(params)}: {meta['compare_query']!r} gives {now!r}, the backup "
                f"{meta['compare_result']!r}"
            ]
        return []


def _until_end(stream: Any) -> str:
    lines = []
    for line in iter(stream.readline, ""):
        if line.startswith(END):
            break
        lines.append(line.rstrip("\n"))
    return "\n".join(lines).strip()
