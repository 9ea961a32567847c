"""SQLite and PostgreSQL backups taken while a writer inserts: restored data is the state at the backup."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from change_helpers import psql

from medic.plugins.change.providers.postgres import PostgresProvider, run_query
from medic.plugins.change.providers.sqlite import SqliteProvider
from medic.plugins.change.safety.backups import LOCAL
from medic.plugins.change.safety.catalogue import Catalogue


def _contiguous(ids: list[int]) -> bool:
    return ids == list(range(1, len(ids) + 1))


def test_sqlite_backup_under_concurrent_writes(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")
    con.executemany("INSERT INTO t (payload) VALUES (?)", [("x" * 200,)] * 5000)
    con.commit()
    con.close()
    stop, writing = threading.Event(), threading.Event()

    def writer() -> None:
        w = sqlite3.connect(db, timeout=30)
        while not stop.is_set():
            w.execute("INSERT INTO t (payload) VALUES ('w')")
            w.commit()
            writing.set()
        w.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(60), "the writer never committed"
    cat = Catalogue(tmp_path / "cat")
    provider = SqliteProvider()
    try:
        entry = cat.take(provider, {"path": str(db)})
        assert cat.verify(entry, provider) == []
    finally:
        stop.set()
        thread.join()
    copy = tmp_path / "restored.sqlite"
    provider.restore(entry, cat.directory(entry["id"]), LOCAL, into={"path": str(copy)})
    ids = [r[0] for r in sqlite3.connect(copy).execute("SELECT id FROM t ORDER BY id")]
    live = sqlite3.connect(db).execute("SELECT count(*) FROM t").fetchone()[0]
    assert _contiguous(ids) and 5000 <= len(ids) <= live
    # restoring over the live database brings back exactly the backed-up content
    provider.restore(entry, cat.directory(entry["id"]), LOCAL)
    assert provider.compare(entry, cat.directory(entry["id"]), LOCAL) == []
    assert sqlite3.connect(db).execute("SELECT count(*) FROM t").fetchone()[0] == len(ids)


def test_postgres_backup_while_a_writer_inserts(tmp_path: Path, postgres: dict[str, Any]) -> None:
    pg = postgres
    psql(pg, "postgres", "CREATE DATABASE app")
    psql(
        pg,
        "app",
        "CREATE TABLE t (id bigserial PRIMARY KEY, payload text); "
        "INSERT INTO t (payload) SELECT repeat('p', 100) FROM generate_series(1, 20000)",
    )
    conn = {"host": pg["host"], "port": pg["port"], "user": pg["user"]}
    writer = subprocess.Popen(
        ["psql", "-X", "-q", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], "-d", "app"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert writer.stdin is not None
    stop = threading.Event()

    def feed() -> None:  # one transaction per row, until told to stop
        while not stop.is_set():
            writer.stdin.write("INSERT INTO t (payload) VALUES ('w');\n" * 50)  # type: ignore[union-attr]
            writer.stdin.flush()  # type: ignore[union-attr]

    feeder = threading.Thread(target=feed)
    feeder.start()
    deadline = time.monotonic() + 60  # wait until the writer's rows show, not a guessed time
    while int(psql(pg, "app", "SELECT count(*) FROM t")) <= 20000 and time.monotonic() < deadline:
        time.sleep(0.05)
    cat = Catalogue(tmp_path / "cat")
    provider = PostgresProvider()
    query = "SELECT count(*), max(id) FROM t"
    try:
        before = int(psql(pg, "app", "SELECT count(*) FROM t"))
        entry = cat.take(provider, {"dbname": "app", "compare_query": query, **conn})
        after = int(psql(pg, "app", "SELECT count(*) FROM t"))
        assert cat.verify(entry, provider) == []
    finally:
        stop.set()
        feeder.join()
        writer.stdin.close()
        writer.kill()
        writer.wait()
    assert before < after, "the writer was not writing during the backup"
    count, top = map(int, entry["meta"]["compare_result"].split("|"))
    assert before <= count <= after and count == top  # the snapshot's state: a gap-free prefix
    psql(pg, "postgres", "CREATE DATABASE fresh")
    provider.restore(entry, cat.directory(entry["id"]), LOCAL, into={"dbname": "fresh"})
    assert provider.compare(entry, cat.directory(entry["id"]), LOCAL, into={"dbname": "fresh"}) == []
    assert run_query({**conn, "dbname": "fresh"}, query) == entry["meta"]["compare_result"]
    ids = [int(x) for x in psql(pg, "fresh", "SELECT id FROM t ORDER BY id").split()]
    assert _contiguous(ids)


def test_postgres_damaged_dump_fails_the_dry_run(tmp_path: Path, postgres: dict[str, Any]) -> None:
    pg = postgres
    psql(pg, "postgres", "CREATE DATABASE small")
    psql(pg, "small", "CREATE TABLE s (id int)")
    cat = Catalogue(tmp_path / "cat")
    provider = PostgresProvider()
    entry = cat.take(
        provider, {"dbname": "small", "host": pg["host"], "port": pg["port"], "user": pg["user"]}
    )
    artifact = cat.directory(entry["id"]) / "db.dump"
    artifact.write_bytes(b"not a dump")
    entry["sha256"] = (
        __import__("hashlib").sha256(b"not a dump").hexdigest()
    )  # the hash agrees; the dry-run not
    problems = cat.verify(entry, provider)
    assert problems and "pg_restore --list failed" in problems[0]
