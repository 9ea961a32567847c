"""Write and re-read the files provider's tar in one pass each, hashing every byte once.

The archive is a standard GNU-format tar (``tar -tvf`` and :mod:`tarfile` read it). Its catalogue hash is
a one-level Merkle hash: SHA-256 over each member's header blocks followed by the SHA-256 of its data. Making
the backup hashes each file once (that hash also goes in the manifest); verifying re-reads the archive once,
recomputing every member's hash (checked against the manifest) and the archive hash (checked against the
catalogue); padding and end blocks must be zeros. A plain ``sha256sum`` of the tar would cost one more full
pass each way.

Speed (issue 12): file data goes through two reused buffers (``readinto``: no new 1 MiB object per chunk), the
archive is handed to the disk while it is still being written (``fdatasync`` in a thread every ``SYNC_EVERY``
bytes, so the caller's final fsync waits for the last part only), and verification parses the headers this
writer makes (GNU, checksum checked) without :meth:`tarfile.TarInfo.frombuf`'s generic decoding. The writer can
also tell a reader following the archive each time it has handed another part to the file (``on_handed``): see
:mod:`medic.plugins.change.providers.tarfollow`, which verifies while the backup is written.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Protocol

CHUNK = 1 << 20
RECORD = 20 * 512
SYNC_EVERY = 64 << 20  # bytes written between two background fdatasyncs
HAND_EVERY = 4 << 20  # bytes written between two hand-overs to a reader following the archive
LONG_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)


class FileChanged(Exception):
    pass


def _pool(name: str) -> ThreadPoolExecutor:
    """One worker per job, made once per process: hashing and syncing never wait for each other."""
    if name not in _POOLS:
        _POOLS[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"medic-{name}")
    return _POOLS[name]


_POOLS: dict[str, ThreadPoolExecutor] = {}
# a forked child inherits the pools but not their threads: it must start its own
os.register_at_fork(after_in_child=_POOLS.clear)


class _Overlap:
    """Hash chunk i in a second thread while chunk i+1 is read or written (hashlib releases the GIL)."""

    def __init__(self, h: Any, threaded: bool = True) -> None:
        self.h, self.threaded = h, threaded
        self.pending: Future[None] | None = None

    def update(self, chunk: bytes | memoryview) -> None:
        self.wait()
        if len(chunk) < 1 << 16 or not self.threaded:
            self.h.update(chunk)
            return
        self.pending = _pool("hash").submit(self.h.update, chunk)

    def wait(self) -> None:
        if self.pending is not None:
            self.pending.result()
            self.pending = None


class _Buffers:
    """Two reused chunk buffers: one is read into while the other is still being hashed."""

    def __init__(self) -> None:
        self.views = [memoryview(bytearray(CHUNK)), memoryview(bytearray(CHUNK))]
        self.turn = 0

    def next(self, size: int) -> memoryview:
        self.turn ^= 1
        return self.views[self.turn][:size]


class TarWriter:
    def __init__(self, fh: IO[bytes], on_handed: Callable[[], None] | None = None) -> None:
        """``on_handed``: called each time about ``HAND_EVERY`` more bytes are in the file (flushed), and at the
        end, for a reader that follows the archive as it grows."""
        self.fh, self.n, self.tree = fh, 0, hashlib.sha256()
        self.buffers = _Buffers()
        self.unsynced = 0
        self.syncing: Future[None] | None = None
        self.on_handed, self.handed = on_handed, 0

    def _write(self, data: bytes | memoryview) -> None:
        self.fh.write(data)
        self.n += len(data)
        self.unsynced += len(data)
        if self.unsynced >= SYNC_EVERY and (self.syncing is None or self.syncing.done()):
            self._sync_in_background()
        if self.on_handed is not None and self.n - self.handed >= HAND_EVERY:
            self._hand_over()

    def _hand_over(self) -> None:
        self.fh.flush()
        self.handed = self.n
        if self.on_handed is not None:
            self.on_handed()

    def _sync_in_background(self) -> None:
        """Start writing what is there to disk; a failure shows at the caller's final fsync (or here, next)."""
        if self.syncing is not None:
            self.syncing.result()
        self.fh.flush()
        self.syncing = _pool("sync").submit(os.fdatasync, self.fh.fileno())
        self.unsynced = 0

    def header(self, info: tarfile.TarInfo) -> None:
        buf = header_block(info)
        self._write(buf)
        self.tree.update(buf)

    def file(self, info: tarfile.TarInfo, src: IO[bytes]) -> str:
        """Header, then ``info.size`` bytes of ``src``; returns the data's SHA-256."""
        self.header(info)
        h = hashlib.sha256()
        hasher = _Overlap(h)
        remaining = info.size
        while remaining:
            chunk = self.buffers.next(min(CHUNK, remaining))
            got = src.readinto(chunk)  # type: ignore[attr-defined]  # binary files opened by the provider
            if not got:
                hasher.wait()
                raise FileChanged(f"it shrank by {remaining} bytes")
            hasher.update(chunk[:got])
            self._write(chunk[:got])
            remaining -= got
        hasher.wait()
        self._write(b"\0" * (-info.size % 512))
        digest = h.digest()
        self.tree.update(digest)
        return digest.hex()

    def close(self) -> str:
        """End-of-archive blocks, padding to a whole record; returns the archive hash."""
        end = 1024 + (-(self.n + 1024) % RECORD)
        self._write(b"\0" * end)
        self._hand_over()
        if self.syncing is not None:
            self.syncing.result()
        return self.tree.hexdigest()


_OCTAL_LIMITS = ((7, "uid"), (7, "gid"), (11, "size"), (11, "mtime"))
_PLAIN_TYPES = (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE)
_TAIL = b"\0" * 247  # uname, gname, devmajor, devminor, prefix (all empty) and the block's padding


def header_block(info: tarfile.TarInfo) -> bytes:
    """``info.tobuf(GNU_FORMAT)``, byte for byte, built directly for the headers this writer makes (short names,
    numbers that fit in octal, no owner names); anything else goes to :mod:`tarfile`."""
    name = info.name + "/" if info.type == tarfile.DIRTYPE and not info.name.endswith("/") else info.name
    raw_name = name.encode("utf-8", "surrogateescape")
    raw_link = info.linkname.encode("utf-8", "surrogateescape")
    if (len(raw_name) > 100 or len(raw_link) > 100 or info.type not in _PLAIN_TYPES or info.uname or info.gname
            or not all(isinstance(getattr(info, f), int) and 0 <= getattr(info, f) < 8 ** digits
                       for digits, f in _OCTAL_LIMITS)):
        return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    head = b"%s%07o\0%07o\0%07o\0%011o\0%011o\0" % (raw_name.ljust(100, b"\0"), info.mode & 0o7777, info.uid,
                                                     info.gid, info.size, int(info.mtime))
    tail = info.type + raw_link.ljust(100, b"\0") + tarfile.GNU_MAGIC + _TAIL
    return head + b"%06o\0 " % (256 + sum(head) + sum(tail)) + tail


def parse_header(block: bytes) -> tarfile.TarInfo:
    """``TarInfo.frombuf`` for the headers :func:`header_block` makes (checksum checked), half its cost; any other
    header, or one whose checksum does not add up, goes to :mod:`tarfile` (which raises if it is damaged)."""
    kind = block[156:157]
    try:
        checksum = 256 + sum(block[:148]) + sum(block[156:])
        if (block[257:265] != tarfile.GNU_MAGIC or kind not in _PLAIN_TYPES or block[154:156] != b"\0 "
                or block[345:500].count(0) != 155 or _octal(block[148:156]) != checksum):
            raise ValueError("not one of ours")
        info = tarfile.TarInfo(block[:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape"))
        info.type, info.mode, info.size = kind, _octal(block[100:108]), _octal(block[124:136])
        info.uid, info.gid, info.mtime = _octal(block[108:116]), _octal(block[116:124]), _octal(block[136:148])
    except ValueError:
        return tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    info.linkname = block[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    info.chksum = checksum
    if kind == tarfile.DIRTYPE:
        info.name = info.name.rstrip("/")
    return info


def _octal(field: bytes) -> int:
    """An octal number field as tarfile reads it (ValueError for GNU's base-256 form: tarfile reads that)."""
    return int(field.split(b"\0", 1)[0].strip() or b"0", 8)


class Source(Protocol):
    def read(self, n: int, /) -> bytes: ...


class _Reader:
    def __init__(self, fh: Source) -> None:
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


Members = list[tuple[tarfile.TarInfo, str | None]]


def scan(path: Path) -> tuple[str, Members]:
    """Re-read a tar front to back: its archive hash, and each member with the SHA-256 of its data."""
    with open(path, "rb") as fh:
        return scan_source(fh)


def scan_source(fh: Source, overlap: bool = True) -> tuple[str, Members]:
    """:func:`scan` of any reader; ``overlap``: hash in a second thread while reading (where threads may run)."""
    tree = hashlib.sha256()
    members: Members = []
    long: dict[bytes, str] = {}
    r = _Reader(fh)
    while len(hdr := r.read(512)) == 512 and hdr.count(0) != 512:
        info = parse_header(hdr)
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
            hasher = _Overlap(h, threaded=overlap)
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
