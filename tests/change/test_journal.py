"""The journal: durable records, a torn last record tolerated and cut off, the run's lock."""

from __future__ import annotations

import json
import os
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic.plugins.change.safety.journal import Journal, JournalError, find, journal_dir, journals, read


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


def line(record: object) -> bytes:
    """One journal line as the format documents it: CRC32 of the JSON in 8 hex digits, a space, the JSON."""
    body = json.dumps(record).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def test_a_record_is_one_checksummed_canonical_json_line(tmp_path: Path) -> None:
    directory = tmp_path / "state" / "journal"  # created with its parents
    j = Journal.create(directory, "r6", target="web1")
    before = datetime.now(UTC)
    record = j.append("intent", op="a.1", paths=[Path("/etc/hosts")], undo={"type": "none", "argv": []})
    j.close()
    raw = (directory / "r6.jnl").read_bytes()
    lines = raw.split(b"\n")
    assert len(lines) == 3 and lines[-1] == b""
    for one in lines[:-1]:
        crc, body = one.split(b" ", 1)
        assert re.fullmatch(rb"[0-9a-f]{8}", crc) and int(crc, 16) == zlib.crc32(body)
        assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    begin, stored = (json.loads(one.split(b" ", 1)[1]) for one in lines[:-1])
    assert begin == {"type": "begin", "at": begin["at"], "run_id": "r6", "pid": os.getpid(), "target": "web1"}
    assert stored == {"type": "intent", "at": record["at"], "op": "a.1", "paths": ["/etc/hosts"],
                      "undo": {"type": "none", "argv": []}}  # a path is stored as its text
    at = datetime.fromisoformat(record["at"])
    assert at.utcoffset() == timedelta(0) and before <= at <= datetime.now(UTC)
    assert j.fd == -1
    j.close()  # closing twice is harmless


def test_journals_live_in_the_state_directory_s_journal_folder(tmp_path: Path) -> None:
    assert journal_dir(tmp_path) == tmp_path / "journal"


def test_a_journal_is_created_once(tmp_path: Path) -> None:
    Journal.create(tmp_path, "r6b").close()
    with pytest.raises(FileExistsError):
        Journal.create(tmp_path, "r6b")


def test_the_log_tells_what_is_pending_and_how_the_run_ended(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "r7", target="web1")
    for op in ("a.1", "a.2", "a.3"):
        j.append("intent", op=op, resource=f"file:/{op}", undo={"type": "none"})
        j.append("done", op=op)
    j.append("undone", op="a.3")
    log = j.log()
    assert (log.run_id, log.begin["target"], log.begin["pid"]) == ("r7", "web1", os.getpid())
    assert [r["op"] for r in log.intents()] == ["a.1", "a.2", "a.3"]
    assert (log.done_ops(), log.undone_ops()) == ({"a.1", "a.2", "a.3"}, {"a.3"})
    assert [r["op"] for r in log.pending_undo()] == ["a.2", "a.1"]  # newest first, a.3 is undone already
    assert (log.end, log.committed, log.status) == (None, False, "interrupted")
    j.append("commit")
    assert (j.log().committed, j.log().status) == (True, "committed (not closed)")
    j.append("end", status="rolled_back")
    j.append("end", status="committed", by="recover")
    log = j.log()
    assert log.end is not None and (log.end["status"], log.end["by"], log.status) == ("committed", "recover",
                                                                                     "committed")
    j.append("end")
    assert j.log().status == "ended"
    j.close()


def test_a_journal_without_its_begin_record_is_named_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "20261205T101010Z-abcd1234.jnl"
    path.write_bytes(line({"type": "intent", "op": "a.1"}))
    log = read(path)
    assert (log.run_id, log.begin, log.status) == ("20261205T101010Z-abcd1234", {}, "interrupted")
    assert [r["op"] for r in log.pending_undo()] == ["a.1"]


def test_damaged_records_before_the_last_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "r8.jnl"
    body = b'{"type":"done","op":"a.9"}'
    damaged = [
        b'0000000g {"type":"done"}\n',  # not hex
        b"%08x " % (zlib.crc32(body) ^ 1) + body + b"\n",  # wrong checksum
        b"%07x " % 1 + b"{}\n",  # checksum of 7 digits
        b"0%08x " % zlib.crc32(b"{}") + b"{}\n",  # of 9 digits, though their value is right
        b"no-separator\n",
        line(["a", "list"]),  # right checksum, not a record
        b"%08x " % zlib.crc32(b"{not json") + b"{not json\n",
    ]
    content = line({"type": "begin", "run_id": "r8"}) + b"".join(damaged) + line({"type": "done", "op": "a.1"})
    path.write_bytes(content)
    log = read(path)
    assert [r["type"] for r in log.records] == ["begin", "done"]
    assert (log.damaged, log.torn_tail, log.good_bytes) == (7, False, len(content))


def test_a_torn_tail_after_a_good_last_line_keeps_every_record(tmp_path: Path) -> None:
    path = tmp_path / "r9.jnl"
    good = line({"type": "begin", "run_id": "r9"}) + line({"type": "commit"})
    path.write_bytes(good + b"0123")
    log = read(path)
    assert ([r["type"] for r in log.records], log.torn_tail, log.good_bytes, log.damaged) == (
        ["begin", "commit"], True, len(good), 0)
    path.write_bytes(good + b"00000000 {}\n")  # a complete last line with a wrong checksum
    log = read(path)
    assert ([r["type"] for r in log.records], log.torn_tail, log.good_bytes, log.damaged) == (
        ["begin", "commit"], True, len(good), 0)
    path.write_bytes(b"")
    assert (read(path).records, read(path).torn_tail, read(path).good_bytes) == ([], False, 0)


def test_journals_are_listed_in_order_and_a_missing_one_names_the_recent_ones(tmp_path: Path) -> None:
    assert list(journals(tmp_path / "none")) == []
    for n in (3, 1, 7, 2, 6, 5, 4):
        (tmp_path / f"run{n}.jnl").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a journal")
    assert [p.name for p in journals(tmp_path)] == [f"run{n}.jnl" for n in range(1, 8)]
    assert find(tmp_path, "run4") == tmp_path / "run4.jnl"
    with pytest.raises(JournalError) as caught:
        find(tmp_path, "run9")
    assert str(caught.value) == (f"run 'run9' has no journal in {tmp_path} (a run that changed nothing has none)"
                                 "; recent runs with journals: run3, run4, run5, run6, run7")
    assert caught.value.exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(JournalError) as caught:
        find(empty, "run1")
    assert str(caught.value) == f"run 'run1' has no journal in {empty} (a run that changed nothing has none)"


def test_a_reopened_journal_appends_after_the_last_good_record(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "r10")
    j.close()
    with open(tmp_path / "r10.jnl", "ab") as fh:
        fh.write(b"00000000 {}\n")  # a last line with a wrong checksum: cut off too
    again = Journal.reopen(tmp_path / "r10.jnl")
    assert again is not None and again.path == tmp_path / "r10.jnl"
    assert [r["type"] for r in again.log().records] == ["begin"]
    again.append("end", status="rolled_back")
    again.close()
    log = read(tmp_path / "r10.jnl")
    assert ([r["type"] for r in log.records], log.torn_tail, log.damaged) == (["begin", "end"], False, 0)
