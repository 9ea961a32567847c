"""kernel.sqlitetx.WriteLater: rows written together a moment later; a failed write keeps them."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from medic.kernel import sqlitetx
from medic.kernel.sqlitetx import WriteLater


def _rows(path: Path) -> list[tuple[int]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT n FROM t ORDER BY n"))


def test_a_failed_timer_write_keeps_its_rows_for_the_next_flush_and_prints_nothing(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "later"  # does not exist yet: the timer's write fails
    later = WriteLater(home / "x.sqlite", "INSERT INTO t VALUES (?)", 0.01)
    later.add((1,))
    later.add((2,))
    deadline = time.monotonic() + 30
    while later._timer is not None and time.monotonic() < deadline:  # the timer has run (and failed)
        time.sleep(0.01)
    assert later._timer is None
    home.mkdir()
    with sqlite3.connect(home / "x.sqlite") as db:
        db.execute("CREATE TABLE t (n INTEGER)")
    later.add((3,))
    later.flush()
    assert _rows(home / "x.sqlite") == [(1,), (2,), (3,)]
    assert "Traceback" not in capfd.readouterr().err


def test_an_explicit_flush_reports_the_failure(tmp_path: Path) -> None:
    later = WriteLater(tmp_path / "none" / "x.sqlite", "INSERT INTO t VALUES (?)", 60)
    later.add((1,))
    with pytest.raises(sqlite3.OperationalError):
        later.flush()
    (tmp_path / "none").mkdir()
    with sqlite3.connect(tmp_path / "none" / "x.sqlite") as db:
        db.execute("CREATE TABLE t (n INTEGER)")
    later.flush()
    assert _rows(tmp_path / "none" / "x.sqlite") == [(1,)]


def test_a_flush_waits_for_the_timers_write_in_flight_and_writes_its_rows_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the timer's write is held inside its connect, then fails; a flush called meanwhile must not return before
    # the rows that write took are back and written (it once returned with only its own: a CI run saw [(3,)])
    path = tmp_path / "x.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (n INTEGER)")
    entered, go = threading.Event(), threading.Event()
    real = sqlitetx.connect_wal

    def held_then_failed(where: Path, *args: object) -> sqlite3.Connection:
        if threading.current_thread() is not threading.main_thread() and not entered.is_set():
            entered.set()
            go.wait(30)
            raise sqlite3.OperationalError("database is locked")
        return real(where)

    monkeypatch.setattr(sqlitetx, "connect_wal", held_then_failed)
    later = WriteLater(path, "INSERT INTO t VALUES (?)", 0.01)
    later.add((1,))
    assert entered.wait(30)  # the timer's write has taken row 1
    later.add((2,))
    threading.Timer(0.2, go.set).start()
    later.flush()
    assert _rows(path) == [(1,), (2,)]
