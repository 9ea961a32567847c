"""Compiled Hyperscan databases kept on disk between runs, and checked before they are used.

Building the scrubber's two large pattern sets takes 0.3-1.2 s of CPU on the machines measured, more than scrubbing
13 MB of logs once they exist; loading a stored one takes under a millisecond (bench/README-redaction.md). A stored
database is input to native code, and ``hyperscan.loadb`` accepted one whose last bytes had been overwritten
(measured in session 15), so Hyperscan's own checks are not enough: each file carries the SHA-256 of its bytes, and
is used only when that matches and when the file and its directory belong to this user, writable by nobody else.
Anything else (missing, damaged, foreign, another Hyperscan or CPU): the caller builds again and stores the result.
The name of a file is the hash of everything its database depends on, so a changed pattern set never meets an old file.

Where: ``$MEDIC_AGENT_CACHE_DIR`` (empty: nothing stored), else ``$XDG_CACHE_HOME/medic-agent/hyperscan``, else
``~/.cache/medic-agent/hyperscan``. Failing to store (a read-only home, a full disk) is silent: the output of the
scrub is the same either way, only the next run slower.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import stat
from collections.abc import Sequence

_MAGIC = b"medic-hsdb 1\n"  # (a new layout of the file gets a new number: an old file is then never read)
_DIGEST = 32
_LARGEST = 64 << 20  # bytes read at most: a stored database is a few hundred KiB


def directory() -> str | None:
    """Where databases are kept; None when storing is switched off."""
    setting = os.environ.get("MEDIC_AGENT_CACHE_DIR")
    if setting is not None:
        return setting or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "medic-agent", "hyperscan")


def key(version: str, patterns: Sequence[str], flags: int) -> str:
    """A file name for the database of ``patterns`` compiled with ``flags`` by Hyperscan ``version`` on this CPU."""
    digest = hashlib.sha256(_MAGIC + f"{version}\0{flags}\0{_host()}\0".encode())
    for pattern in patterns:
        digest.update(pattern.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest() + ".hsdb"


def load(name: str) -> bytes | None:
    """The stored bytes under ``name`` if they are whole and this user's alone, else None."""
    folder = _private(create=False)
    if folder is None:
        return None
    try:
        descriptor = os.open(os.path.join(folder, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as stored:
        if not _owned(os.fstat(descriptor), regular=True):
            return None
        data = stored.read(_LARGEST + 1)
    head = len(_MAGIC) + _DIGEST
    if len(data) > _LARGEST or not data.startswith(_MAGIC):
        return None
    payload = memoryview(data)[head:]
    if hashlib.sha256(payload).digest() != data[len(_MAGIC):head]:
        return None
    return bytes(payload)


def store(name: str, payload: bytes) -> None:
    """Keep ``payload`` under ``name`` (written aside, then renamed: a reader sees the old file or the new one)."""
    folder = _private(create=True)
    if folder is None or len(payload) > _LARGEST - len(_MAGIC) - _DIGEST:
        return
    import tempfile  # (only when storing: not on the agent's start-up path)

    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as part:
            part.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, os.path.join(folder, name))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _private(create: bool) -> str | None:
    """The directory, if it is a real directory of this user's that nobody else can write (made so if ``create``)."""
    folder = directory()
    if folder is None or not hasattr(os, "geteuid"):  # (no owner to check on this platform: nothing is stored)
        return None
    try:
        if create:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        return folder if _owned(os.lstat(folder), regular=False) else None
    except OSError:
        return None


def _owned(status: os.stat_result, regular: bool) -> bool:
    kind = stat.S_ISREG if regular else stat.S_ISDIR
    return kind(status.st_mode) and status.st_uid == os.geteuid() and not status.st_mode & 0o022


@functools.lru_cache(maxsize=1)  # (one read of /proc/cpuinfo per process, not one per matcher)
def _host() -> str:
    """This CPU's kind and features: a database compiled for one CPU is refused by another (Hyperscan checks), so
    machines sharing a home directory keep one file each instead of replacing each other's."""
    machine = os.uname().machine if hasattr(os, "uname") else ""
    try:
        with open("/proc/cpuinfo", "rb") as info:
            for line in info:
                if line.startswith(b"flags"):
                    return machine + hashlib.sha256(line).hexdigest()[:16]
    except OSError:
        pass
    return machine
