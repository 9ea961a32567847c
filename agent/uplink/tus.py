"""A tus 1.0.0 client (core, creation, checksum): create, resume from HEAD, PATCH chunks with their sha256.

Network errors, 5xx and 429 are retried with exponential backoff (Retry-After honoured); after a failed PATCH the
server's offset is read again with HEAD, so at most the chunk in flight is sent twice. The upload's Location is
remembered (state.PendingUploads) before the first byte, so a new process resumes where the server stands.
"""

from __future__ import annotations

import base64
import hashlib
import mmap
import os
import threading
import time

from medic.agent.uplink.errors import EnrollmentError, UplinkError
from medic.agent.uplink.progress import Progress
from medic.agent.uplink.state import PendingUploads
from medic.agent.uplink.transport import NETWORK_ERRORS, Response, Server, tus_headers

TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    from collections.abc import Callable
    from io import BufferedReader

    from medic.agent.uplink.state import StrPath

# Bytes per PATCH. Each PATCH ends with the collector's fsync, SQLite commit and a round trip, while nothing is sent:
# fewer, larger PATCHes wait less (bench/README-collector.md, session 14: 32 against 8 MiB). The agent holds two
# chunk buffers (the one sent, the one read ahead), each the size of the bundle at most.
CHUNK_SIZE = 32 * 1024 * 1024
# The first PATCH of a process is at most this long: nothing overlaps its read and hash (the next chunk's is done
# while the collector answers a PATCH), so a process that resumes after a kill -9 starts sending sooner. Each next
# PATCH is at most RAMP times the one before, up to the chunk size: a chunk is read and hashed (~1.5 GB/s) while
# the one before is sent and answered (~0.4 GB/s on loopback), so a chunk RAMP times as long is ready in time and
# the pipeline never waits for a full chunk's hash after a (re)start.
FIRST_CHUNK, RAMP = 1024 * 1024, 4
DIGEST_XATTR = "user.medic.sha256"  # kernel.bundle.writer.DIGEST_XATTR (its import would load gzip and tarfile)
# Each PATCH also carries the sha256 of every 1 MiB prefix of its body (a copy of the running hasher at each
# boundary: no second pass), so a collector keeps what arrived of a PATCH cut by a kill -9 (the collector's
# plugins/collector/prefixes.py) and the next process re-sends under 1 MiB of it instead of half a chunk.
PREFIX_HEADER, PREFIX_BLOCK = "Medic-Checksum-Prefixes", 1 << 20


class LocalBundle:
    """The bundle to send and its sha256 (a plain class: see state.Enrollment)."""

    def __init__(self, path: StrPath, sha256: str, size: int, mtime_ns: int = 0, inode: int = 0,
                 hashed: bool = True) -> None:
        self.path, self.sha256, self.size = os.fspath(path), sha256, size  # a str: no pathlib (see state.py)
        self.mtime_ns, self.inode = mtime_ns, inode  # the file as hashed: a resume trusts the sha256 only if unchanged
        self.hashed = hashed  # False: the sha256 is the one remembered with the unfinished upload

    def record(self) -> dict[str, object]:
        """What PendingUploads keeps of the file besides its sha256 (its key)."""
        return {"path": os.path.abspath(self.path), "size": self.size, "mtime_ns": self.mtime_ns,
                "inode": self.inode}


def describe(path: StrPath) -> LocalBundle:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        seen = os.fstat(handle.fileno())
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return LocalBundle(path, digest.hexdigest(), size, seen.st_mtime_ns, seen.st_ino)


def stamped(path: StrPath) -> LocalBundle | None:
    """The sha256 medic's bundle writer kept with the file (an extended attribute "<sha256> <size> <mtime_ns>"),
    while the file's size and mtime are still those: the bundle is not read an extra time before its upload.
    A change this misses fails safe, as for remembered()."""
    if not hasattr(os, "getxattr"):  # not Linux
        return None
    try:
        digest, size, mtime_ns = os.getxattr(path, DIGEST_XATTR).decode("ascii").split(" ")
        now = os.stat(path)
    except (OSError, UnicodeDecodeError, ValueError):  # no stamp (copied, another writer, no xattr support)
        return None
    if (size, mtime_ns) != (str(now.st_size), str(now.st_mtime_ns)) or len(digest) != 64 or \
            digest.strip("0123456789abcdef"):
        return None
    return LocalBundle(path, digest, now.st_size, now.st_mtime_ns, now.st_ino, hashed=False)


def remembered(path: StrPath, pending: PendingUploads) -> LocalBundle | None:
    """The bundle as an unfinished upload of it was recorded, when the file is still that one (same absolute path,
    size, mtime and inode): a resumed upload does not read the whole file again to hash it. A file changed in a
    way this misses still fails safe: the collector checks the whole file's sha256 and refuses the bundle."""
    try:
        now = os.stat(path)
    except OSError:
        return None
    for record in pending.all():
        if (record.get("path"), record.get("size"), record.get("mtime_ns"), record.get("inode")) == (
                os.path.abspath(path), now.st_size, now.st_mtime_ns, now.st_ino):
            return LocalBundle(path, str(record["sha256"]), now.st_size, now.st_mtime_ns, now.st_ino, hashed=False)
    return None


class Digests:
    """A chunk's sha256 and those of its prefixes that end on a PREFIX_BLOCK boundary before its last byte."""

    def __init__(self, chunk: memoryview, block: int = PREFIX_BLOCK) -> None:
        hasher, view = hashlib.sha256(), memoryview(chunk)
        self.prefixes: list[bytes] = []
        for start in range(0, len(chunk), block):
            hasher.update(view[start:start + block])
            if start + block < len(chunk):
                self.prefixes.append(hasher.copy().digest())
        self.whole = hasher.digest()

    def headers(self) -> dict[str, str]:
        found = {"Upload-Checksum": f"sha256 {base64.b64encode(self.whole).decode()}"}
        if self.prefixes:
            listed = ",".join(base64.b64encode(digest).decode() for digest in self.prefixes)
            found[PREFIX_HEADER] = f"sha256 {PREFIX_BLOCK} {listed}"
        return found


def _read(handle: BufferedReader, offset: int, into: memoryview) -> tuple[int, memoryview, Digests]:
    """(offset, the chunk there, its digests): the chunk is read into ``into`` (up to its length) and is a view of
    it; only ever one caller at a time (send() waits for the thread)."""
    handle.seek(offset)
    chunk = into[:handle.readinto(into)]
    return offset, chunk, Digests(chunk)


def _buffer(size: int) -> memoryview:
    """A chunk buffer whose pages the kernel zeroes as they are first written (an anonymous map), not all at once
    as ``bytearray(size)`` does: two 32 MiB buffers cost 35 ms of memset before a restarted process could send its
    first byte (bench/README-collector.md, session 15). With the PATCH sizes ramping up (RAMP), each page is
    first touched by the read-ahead thread while the PATCH before is answered. Unmapped when the last view goes."""
    return memoryview(mmap.mmap(-1, size))


class _Ahead:
    """One _read running in a thread while the collector answers the PATCH before it (a thread per chunk: cheaper
    than importing concurrent.futures, and logging with it, in every `medic-agent upload` that starts)."""

    def __init__(self, handle: BufferedReader, offset: int, into: memoryview) -> None:
        self._done: tuple[int, memoryview, Digests] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(handle, offset, into), name="medic-read",
                                        daemon=True)
        self._thread.start()

    def _run(self, handle: BufferedReader, offset: int, into: memoryview) -> None:
        try:
            self._done = _read(handle, offset, into)
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> tuple[int, memoryview, Digests]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._done is not None
        return self._done


class Expired(UplinkError):
    """410 on an unfinished upload: the caller creates a new one."""


class Retry:
    """Backoff between attempts: base * 2**n seconds up to ``cap``, or the server's Retry-After (capped)."""

    def __init__(self, attempts: int = 8, base: float = 0.5, cap: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.attempts, self.base, self.cap, self.sleep = attempts, base, cap, sleep
        self.failures = 0

    def wait(self, reason: str, progress: Progress, retry_after: str = "") -> None:
        self.failures += 1
        if self.failures > self.attempts:
            raise UplinkError(f"gave up after {self.attempts} retries: {reason}")
        delay = min(self.base * 2 ** (self.failures - 1), self.cap)
        if retry_after.strip().isdigit():
            delay = min(float(retry_after), self.cap)
        progress.event("retry", f"{reason}; retrying in {delay:.1f} s", reason=reason, delay=delay,
                       attempt=self.failures)
        self.sleep(delay)


def _retryable(resp: Response) -> bool:
    return resp.status == 429 or resp.status >= 500


class TusClient:
    def __init__(self, server: Server, token: str, progress: Progress, *, uploads: str = "/files/",
                 chunk_size: int = CHUNK_SIZE, retry: Retry | None = None,
                 pending: PendingUploads | None = None) -> None:
        self.server, self.token, self.progress = server, token, progress
        self.uploads, self.chunk_size = uploads, chunk_size
        self.retry = retry or Retry()
        self.pending = pending or PendingUploads()

    def _call(self, method: str, path: str, **headers: str) -> Response:
        """A request without a body, retried on network errors, 5xx and 429."""
        while True:
            try:
                resp = self.server.request(method, path, tus_headers(self.token, **headers))
            except NETWORK_ERRORS as exc:
                self.retry.wait(f"{method} failed: {exc}", self.progress)
                continue
            if _retryable(resp):
                self.retry.wait(f"{method}: HTTP {resp.status}: {resp.problem()}", self.progress,
                                resp.header("retry-after"))
                continue
            self._refuse_token(resp)
            return resp

    def _refuse_token(self, resp: Response) -> None:
        if resp.status == 401:
            raise EnrollmentError(f"the collector refused this agent's token ({resp.problem()}): enroll again")

    def create(self, bundle: LocalBundle) -> str:
        # filetype: not in the collector's contract (extra keys are allowed by tus), required by some tus servers
        meta = {"filename": os.path.basename(bundle.path), "sha256": bundle.sha256, "size": str(bundle.size),
                "filetype": "application/gzip"}
        encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
        resp = self._call("POST", self.server.path(self.uploads), Upload_Length=str(bundle.size),
                          Upload_Metadata=encoded)
        if resp.status == 201 and resp.header("location"):
            return self.server.location_path(resp.header("location"))
        raise UplinkError(f"the collector did not create the upload: HTTP {resp.status}: {resp.problem()}")

    def offset(self, path: str) -> int | None:
        """The server's Upload-Offset, or None when the upload is gone (404, 410)."""
        resp = self._call("HEAD", path)
        if resp.status in (404, 410):
            return None
        if resp.status != 200 or not resp.header("upload-offset").isdigit():
            raise UplinkError(f"HEAD {path}: HTTP {resp.status}: {resp.problem()}")
        return int(resp.header("upload-offset"))

    def upload(self, bundle: LocalBundle) -> str:
        """Send every byte of ``bundle`` (resuming a remembered upload); returns the upload's path."""
        path, offset = self._resume_or_create(bundle)
        try:
            self.send(bundle, path, offset)
        except Expired:
            self.pending.forget(bundle.sha256)
            self.progress.event("expired", "the unfinished upload expired on the collector; starting again")
            path, offset = self._resume_or_create(bundle)
            self.send(bundle, path, offset)
        return path

    def _resume_or_create(self, bundle: LocalBundle) -> tuple[str, int]:
        record = self.pending.get(bundle.sha256)
        if record and record.get("server") == self.server.url and record.get("location"):
            offset = self.offset(record["location"])
            if offset is not None:
                self.progress.event("resumed", f"resuming at {offset} of {bundle.size} bytes",
                                    location=record["location"], offset=offset, hashed=bundle.hashed)
                return record["location"], offset
        path = self.create(bundle)
        self.pending.put(bundle.sha256, {"server": self.server.url, "location": path, **bundle.record(),
                                         "created_at": time.time()})
        offset = self.offset(path)
        if offset is None:
            raise UplinkError(f"the upload {path} vanished right after it was created")
        self.progress.event("created", location=path, offset=offset)
        return path, offset

    def send(self, bundle: LocalBundle, path: str, offset: int) -> None:
        """PATCH from ``offset`` to the end. The next chunk is read and hashed in a thread while the collector
        answers the current one (it hashes, writes and fsyncs before it answers), so neither waits on the other.
        Chunks are read into two buffers in turn (no new memory per chunk): the next one is read into the buffer
        whose PATCH has been answered."""
        self.progress.begin(bundle.size, offset)
        size = max(1, min(self.chunk_size, bundle.size - offset))
        current, spare = _buffer(size), _buffer(size)
        with open(bundle.path, "rb") as handle:
            ahead = _Ahead(handle, offset, current[:FIRST_CHUNK])
            try:
                while offset < bundle.size:
                    at, chunk, digest = ahead.result()  # read into current
                    if at != offset:  # a failure moved the offset: the chunk read ahead is not the one to send
                        at, chunk, digest = _read(handle, offset, current)
                    ahead = _Ahead(handle, offset + len(chunk), spare[:RAMP * len(chunk)])
                    offset = self._patch(path, offset, chunk, digest)
                    current, spare = spare, current
                    if offset > bundle.size:
                        raise UplinkError(f"the collector says it holds {offset} bytes of a {bundle.size}-byte "
                                          "bundle")
                    self.progress.advance(offset)
            finally:
                ahead.wait()  # never close the file under a read still running
        self.progress.done()

    def _patch(self, path: str, offset: int, chunk: memoryview, digest: Digests) -> int:
        """Send one chunk; returns the server's new offset (re-read with HEAD after any failure)."""
        headers = tus_headers(self.token, Upload_Offset=str(offset))
        headers.update(digest.headers())
        headers["Content-Type"] = "application/offset+octet-stream"
        try:
            resp = self.server.request("PATCH", path, headers, chunk)
        except NETWORK_ERRORS as exc:
            self.retry.wait(f"PATCH at {offset} failed: {exc}", self.progress)
            return self._head_after_failure(path)
        if resp.status == 204 and resp.header("upload-offset").isdigit():
            self.retry.failures = 0  # progress made: the next failure starts the backoff again
            return int(resp.header("upload-offset"))
        self._refuse_token(resp)
        if resp.status == 410:
            raise Expired(f"{path}: {resp.problem()}")
        moved = resp.header("upload-offset")
        if resp.status == 409 and moved.isdigit() and int(moved) != offset:
            return self._realign(offset, int(moved))
        if _retryable(resp) or resp.status in (409, 423, 460):  # 423: a PATCH of a killed process still holds it
            self.retry.wait(f"PATCH at {offset}: HTTP {resp.status}: {resp.problem()}", self.progress,
                            resp.header("retry-after"))
            return self._head_after_failure(path)
        raise UplinkError(f"PATCH at {offset}: HTTP {resp.status}: {resp.problem()}")

    def _realign(self, offset: int, server: int) -> int:
        """409 naming another offset (the PATCH of a killed process landed after all): go on from the server's,
        at once. Counted as a failure, so a server that keeps moving the offset still ends the upload."""
        self.retry.failures += 1
        if self.retry.failures > self.retry.attempts:
            raise UplinkError(f"gave up after {self.retry.attempts} retries: the collector's offset keeps moving")
        self.progress.event("realigned", f"the collector holds {server} bytes, not {offset}; going on from there",
                            offset=server, was=offset)
        return server

    def _head_after_failure(self, path: str) -> int:
        offset = self.offset(path)
        if offset is None:
            raise Expired(f"{path} is gone from the collector")
        return offset
