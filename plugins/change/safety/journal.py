"""The durable journal of a change run: an append-only log, one file per run, synced record by record.

Each record is one line ``CRC32HEX JSON\\n``. A record is durable once :meth:`Journal.append` returns (the
line is written and ``fdatasync``-ed). The undo intent of a side effect is appended *before* the effect and
its completion after, so after a crash the journal tells exactly what may have happened. A torn last line (a
crash in the middle of a write) is recognised by its missing newline or wrong checksum and ignored; the next
writer cuts it off first, so a journal is never left unreadable. (bench/README-change.md has the measurement
against SQLite in WAL mode.)

While a run is going its process holds an exclusive ``flock`` on the file: ``medic recover`` skips a journal
it cannot lock (that run is alive) and the kernel drops the lock when the process dies, even by SIGKILL.

Record types: ``begin`` (run id, pid, target), ``intent`` (op, step, resource, undo, paths), ``done`` (op),
``undone`` (op), ``commit`` (all changes completed and verified), ``end`` (status: committed, rolled_back).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medic.kernel.errors import EXIT_USAGE, MedicError
from medic.plugins.change.safety.atomicio import fsync_dir

SUFFIX = ".jnl"


class JournalError(MedicError):
    exit_code = EXIT_USAGE


def journal_dir(state: Path) -> Path:
    return state / "journal"


def _encode(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


@dataclass
class JournalLog:
    """What a journal file holds: its good records, and whether a torn tail was ignored."""

    path: Path
    records: list[dict[str, Any]]
    good_bytes: int
    torn_tail: bool = False
    damaged: int = 0  # checksum failures before the tail (a damaged disk), skipped

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("type") == kind]

    @property
    def begin(self) -> dict[str, Any]:
        found = self.of_type("begin")
        return found[0] if found else {}

    @property
    def run_id(self) -> str:
        return str(self.begin.get("run_id") or self.path.stem)

    @property
    def end(self) -> dict[str, Any] | None:
        found = self.of_type("end")
        return found[-1] if found else None

    @property
    def committed(self) -> bool:
        return bool(self.of_type("commit"))

    def intents(self) -> list[dict[str, Any]]:
        return self.of_type("intent")

    def done_ops(self) -> set[str]:
        return {str(r["op"]) for r in self.of_type("done")}

    def undone_ops(self) -> set[str]:
        return {str(r["op"]) for r in self.of_type("undone")}

    def pending_undo(self) -> list[dict[str, Any]]:
        """Intents whose effect may have happened and is not undone yet, newest first."""
        undone = self.undone_ops()
        return [r for r in reversed(self.intents()) if str(r["op"]) not in undone]

    @property
    def status(self) -> str:
        end = self.end
        if end is not None:
            return str(end.get("status", "ended"))
        return "committed (not closed)" if self.committed else "interrupted"


def read(path: str | os.PathLike[str]) -> JournalLog:
    p = Path(path)
    data = p.read_bytes()
    records: list[dict[str, Any]] = []
    good = damaged = 0
    torn = False
    lines = data.split(b"\n")
    tail = lines.pop()  # bytes after the last newline: a write cut short by a crash
    for i, line in enumerate(lines):
        record = _decode(line)
        if record is None and i == len(lines) - 1 and not tail:
            torn = True  # a bad last line is a torn write too
            break
        good += len(line) + 1
        if record is None:
            damaged += 1
        else:
            records.append(record)
    torn = torn or bool(tail)
    return JournalLog(p, records, good, torn, damaged)


def _decode(line: bytes) -> dict[str, Any] | None:
    crc, sep, body = line.partition(b" ")
    if not sep or len(crc) != 8:
        return None
    try:
        if int(crc, 16) != zlib.crc32(body):
            return None
        record = json.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


class Journal:
    """An open journal this process writes to, holding the run's lock."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def create(cls, directory: Path, run_id: str, **meta: Any) -> Journal:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{run_id}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        journal = cls(path, fd)
        fsync_dir(directory)
        journal.append("begin", run_id=run_id, pid=os.getpid(), **meta)
        return journal

    @classmethod
    def reopen(cls, path: Path) -> Journal | None:
        """Open an existing journal to finish it; None when a live process holds it. Cuts off a torn tail."""
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        log = read(path)
        if log.good_bytes < os.fstat(fd).st_size:
            os.ftruncate(fd, log.good_bytes)
            os.fsync(fd)
        return cls(path, fd)

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        record = {"type": kind, "at": datetime.now(UTC).isoformat(), **fields}
        line = _encode(record)
        written = 0
        while written < len(line):
            written += os.write(self.fd, line[written:])
        os.fdatasync(self.fd)  # data and the new size; mtime need not reach the disk
        return record

    def log(self) -> JournalLog:
        return read(self.path)

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)  # closing drops the flock
            self.fd = -1


def journals(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        yield from sorted(directory.glob(f"*{SUFFIX}"))


def find(directory: Path, run_id: str) -> Path:
    path = directory / f"{run_id}{SUFFIX}"
    if not path.exists():
        known = [p.stem for p in journals(directory)][-5:]
        raise JournalError(
            f"run {run_id!r} has no journal in {directory} (a run that changed nothing has none)"
            + (f"; recent runs with journals: {', '.join(known)}" if known else "")
        )
    return path
