"""Write and re-read the files provider's tar in one pass each, hashing every byte once.

The archive is a standard GNU-format tar (``tar -tvf`` and :mod:`tarfile` read it). Its catalogue hash is
a one-level Merkle hash: SHA-256 over each member's header blocks followed by the SHA-256 of its data. Making
the backup hashes each file once (that hash also goes in the manifest); verifying re-reads the archive once,
recomputing every member's hash (checked against the manifest) and the archive hash (checked against the
catalogue); padding and end blocks must be zeros. A plain ``sha256sum`` of the tar would cost one more full
pass each way.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

CHUNK = 1 << 20
RECORD = 20 * 512
LONG_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)


class FileChanged(Exception):
    pass


class _Overlap:
    """Hash chunk i in a second thread while chunk i+1 is read or written (hashlib releases the GIL)."""

    _pool: ThreadPoolExecutor | None = None

    def __init__(self, h: Any) -> None:
        if _Overlap._pool is None:
            _Overlap._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medic-hash")
        self.h = h
        self.pending: Future[None] | None = None

    def update(self, chunk: bytes) -> None:
        if len(chunk) < 1 << 16:
            self.wait()
            self.h.update(chunk)
            return
        self.wait()
        assert _Overlap._pool is not None
        self.pending = _Overlap._pool.submit(self.h.update, chunk)

    def wait(self) -> None:
        if self.pending is not None:
            self.pending.result()
            self.pending = None


# a forked child inherits the pool but not its thread: it must start its own
os.register_at_fork(after_in_child=lambda: setattr(_Overlap, "_pool", None))


class TarWriter:
    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.n, self.tree = fh, 0, hashlib.sha256()

    def _write(self, data: bytes) -> None:
        self.fh.write(data)
        self.n += len(data)

    def header(self, info: tarfile.TarInfo) -> None:
        buf = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        self._write(buf)
        self.tree.update(buf)

    def file(self, info: tarfile.TarInfo, src: IO[bytes]) -> str:
        """Header, then ``info.size`` bytes of ``src``; returns the data's SHA-256."""
        self.header(info)
        h = hashlib.sha256()
        hasher = _Overlap(h)
        remaining = info.size
        while remaining:
            chunk = src.read(min(CHUNK, remaining))
            if not chunk:
                hasher.wait()
                raise FileChanged(f"it shrank by {remaining} bytes")
            hasher.update(chunk)
            self._write(chunk)
            remaining -= len(chunk)
        hasher.wait()
        self._write(b"\0" * (-info.size % 512))
        digest = h.digest()
        self.tree.update(digest)
        return digest.hex()

    def close(self) -> str:
        """End-of-archive blocks, padding to a whole record; returns the archive hash."""
        end = 1024 + (-(self.n + 1024) % RECORD)
        self._write(b"\0" * end)
        return self.tree.hexdigest()


class _Reader:
    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.buf, self.pos = fh, b"", 0

    def read(self, n: int) -> bytes:
        avail = len(self.buf) - self.pos
        if avail == 0 and n >= 1 << 16:
            return self.fh.read(n)
        if avail < n:
            self.buf, self.pos = self.buf[self.pos :] + self.fh.read(max(CHUNK, n - avail)), 0
        out = self.buf[self.pos : self.pos + n]
        self.pos += len(out)
        return out


def scan(path: Path) -> tuple[str, list[tuple[tarfile.TarInfo, str | None]]]:
    """Re-read a tar front to back: its archive hash, and each member with the SHA-256 of its data."""
    tree = hashlib.sha256()
    members: list[tuple[tarfile.TarInfo, str | None]] = []
    long: dict[bytes, str] = {}
    with open(path, "rb") as fh:
        r = _Reader(fh)
        while len(hdr := r.read(512)) == 512 and hdr.count(0) != 512:
            info = tarfile.TarInfo.frombuf(hdr, "utf-8", "surrogateescape")
            tree.update(hdr)
            padded = info.size + (-info.size % 512)
            if info.type in LONG_TYPES:
                data = r.read(padded)
                tree.update(data)
                long[info.type] = data[: info.size].rstrip(b"\0").decode("utf-8", "surrogateescape")
                continue
            info.name = long.pop(tarfile.GNUTYPE_LONGNAME, info.name).rstrip("/") or info.name
            info.linkname = long.pop(tarfile.GNUTYPE_LONGLINK, info.linkname)
            digest = None
            if info.isreg():
                h = hashlib.sha256()
                hasher = _Overlap(h)
                remaining = info.size
                while remaining:
                    chunk = r.read(min(CHUNK, remaining))
                    if not chunk:
                        hasher.wait()
                        raise tarfile.ReadError(f"member {info.name!r} is truncated")
                    hasher.update(chunk)
                    remaining -= len(chunk)
                hasher.wait()
                if r.read(padded - info.size).count(0) != padded - info.size:
                    raise tarfile.ReadError(f"the padding after member {info.name!r} is damaged")
                tree.update(h.digest())
                digest = h.hexdigest()
            members.append((info, digest))
        while rest := r.read(CHUNK):  # end-of-archive blocks: zeros only
            if rest.count(0) != len(rest):
                raise tarfile.ReadError("data after the end of the archive")
    return tree.hexdigest(), members
