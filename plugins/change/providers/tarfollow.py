"""Verify a files backup while it is written: a forked child re-reads the archive as it grows.

The re-read after a backup was a second pass over the whole archive (a third of a backup's time over SSH, issue
12). Here a child process follows the writer instead: it reads the archive file through its own descriptor (never
the writer's buffers), as far as the writer has handed it to the file, and checks it exactly as the re-read after
the fact does (:func:`medic.plugins.change.providers.tarstream.scan_source`: archive hash, each member's header and
SHA-256, padding and end blocks). The writer wakes it through a pipe after each hand-over and closes the pipe when
the archive is complete (or its writing failed); the child sends back the archive hash and the members as JSON.

A child process, not a thread: the reader's per-member Python work would take the GIL from the writer between
each of its system calls, which made a threaded reader slower than a second pass on two cores. Fork is only safe
in a process with no other threads holding locks, so this runs in the host call's own ``python3`` on an SSH host
(its only other thread, the watchdog, sleeps and writes to stderr); medic's own process re-reads after the backup.

Standard library only: this module runs on remote hosts too.
"""

from __future__ import annotations

import contextlib
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from medic.plugins.change.providers.tarstream import Members, scan_source


class _Growing:
    """The archive as another process writes it: a read waits for a wake-up while the bytes are not there yet."""

    def __init__(self, fd: int, wake: int) -> None:
        self.fd, self.wake, self.pos, self.size, self.ended = fd, wake, 0, 0, False

    def read(self, n: int) -> bytes:
        while self.size < self.pos + n and not self.ended:
            if not os.read(self.wake, 4096):  # the writer closed the pipe: the file is complete
                self.ended = True
            self.size = os.fstat(self.fd).st_size  # bytes below the size are written: the writer only appends
        data = os.pread(self.fd, max(0, min(n, self.size - self.pos)), self.pos)
        self.pos += len(data)
        return data


class Follower:
    """Start before the first byte is written; ``handed`` after each hand-over, ``result`` at the end."""

    def __init__(self, path: Path) -> None:
        wake_r, self._wake = os.pipe()
        out_r, out_w = os.pipe()
        fd = os.open(path, os.O_RDONLY)
        try:
            self.pid = os.fork()
        except OSError:  # no process to spare: the caller re-reads after the backup instead
            for own in (wake_r, self._wake, out_r, out_w, fd):
                os.close(own)
            raise
        if self.pid == 0:  # the child: read, check, answer, and leave without running the parent's exit code
            os.close(self._wake)
            os.close(out_r)
            _child(fd, wake_r, out_w)
        for own in (wake_r, out_w, fd):
            os.close(own)
        os.set_blocking(self._wake, False)
        self._out = out_r

    def handed(self) -> None:
        with contextlib.suppress(BlockingIOError):  # a full pipe already holds a wake-up the child will see
            os.write(self._wake, b"h")

    def result(self) -> tuple[str, Members]:
        """The archive hash and members as the child read them; tarfile.ReadError if it could not."""
        if self._wake >= 0:
            os.close(self._wake)
            self._wake = -1
        with os.fdopen(self._out, "rb") as fh:
            answer: dict[str, Any] = json.loads(fh.read() or b"{}")
        os.waitpid(self.pid, 0)
        if "digest" not in answer:
            raise tarfile.ReadError(answer.get("error") or "the verifying process ended without an answer")
        return answer["digest"], [(_info(*m[:5]), m[5]) for m in answer["members"]]


def _child(fd: int, wake: int, out: int) -> None:
    answer: dict[str, Any]
    try:
        digest, members = scan_source(_Growing(fd, wake), overlap=False)
        answer = {"digest": digest, "members": [[i.name, i.type.decode("latin-1"), i.size, i.mode, i.linkname, d]
                                                for i, d in members]}
    except BaseException as exc:
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        data = json.dumps(answer).encode()
        while data:
            data = data[os.write(out, data):]
    finally:
        os._exit(0)


def _info(name: str, kind: str, size: int, mode: int, linkname: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode, info.linkname = kind.encode("latin-1"), size, mode, linkname
    return info
