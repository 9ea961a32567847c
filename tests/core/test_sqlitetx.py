"""kernel.sqlitetx.WriteLater: rows written together a moment later; a failed write keeps them."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

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
