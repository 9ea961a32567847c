"""The journal: durable records, a torn last record tolerated and cut off, the run's lock."""

from __future__ import annotations

import os
from pathlib import Path

from medic.plugins.change.safety.journal import Journal, read


def test_records_round_trip_and_status(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "r1", target="local")
    j.append("intent", op="a.1", resource="file:/x", undo={"type": "none"})
    j.append("done", op="a.1")
    log = read(j.path)
    assert [r["type"] for r in log.records] == ["begin", "intent", "done"]
    assert log.status == "interrupted" and log.pending_undo()[0]["op"] == "a.1"
    j.append("commit")
    j.append("end", status="committed")
    j.close()
    assert read(tmp_path / "r1.jnl").status == "committed"


def test_torn_last_record_is_ignored_then_cut_off(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "r2")
    j.append("intent", op="a.1", resource="r", undo={"type": "none"})
    j.close()
    good = (tmp_path / "r2.jnl").stat().st_size
    with open(tmp_path / "r2.jnl", "ab") as fh:
        fh.write(b'1234abcd {"type": "done", "op": "a')  # a crash in the middle of a write
    log = read(tmp_path / "r2.jnl")
    assert log.torn_tail and len(log.records) == 2 and log.good_bytes == good
    j2 = Journal.reopen(tmp_path / "r2.jnl")
    assert j2 is not None
    assert (tmp_path / "r2.jnl").stat().st_size == good
    j2.append("end", status="rolled_back")
    j2.close()
    log = read(tmp_path / "r2.jnl")
    assert not log.torn_tail and log.status == "rolled_back"


def test_a_bad_checksum_on_the_last_line_is_a_torn_write(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "r3")
    j.close()
    with open(tmp_path / "r3.jnl", "ab") as fh:
        fh.write(b'00000000 {"type": "commit"}\n')
    log = read(tmp_path / "r3.jnl")
    assert log.torn_tail and not log.committed


def test_a_live_run_holds_its_journal(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "r4")
    assert Journal.reopen(tmp_path / "r4.jnl") is None  # recover must not touch a running run
    j.close()
    again = Journal.reopen(tmp_path / "r4.jnl")
    assert again is not None
    again.close()


def test_records_are_synced_lines(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "r5")
    j.append("intent", op="x", undo={"type": "argv", "argv": ["true"]})
    raw = (tmp_path / "r5.jnl").read_bytes()
    assert raw.count(b"\n") == 2 and all(len(line.split(b" ", 1)[0]) == 8 for line in raw.splitlines())
    assert oct(os.stat(tmp_path / "r5.jnl").st_mode & 0o777) == "0o600"
    j.close()
