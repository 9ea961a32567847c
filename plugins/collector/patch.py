"""``PATCH /files/<id>``: the body is streamed to the upload's file (never held whole), hashed as it comes, and
fsync'ed; only then is the new offset recorded and acknowledged. A checksum mismatch, a body past the declared
length or a dropped connection truncates the file back to the acknowledged offset: nothing half-checked stays (a
dropped connection keeps the prefixes its client vouched for with Medic-Checksum-Prefixes: prefixes.py).
A second PATCH for an upload that is being written waits up to BUSY_WAIT seconds for the first to end (a killed
agent's PATCH ends as soon as its connection drops), then gets 423 Locked (409 is kept for a wrong offset). A
PATCH whose client has ended the connection with fewer bytes queued than its body still needs stops at once
(peer.py) instead of reading, hashing and writing what it would truncate away.

Speed: reading the next block off the connection overlaps hashing and writing the previous one (a worker
thread); the writeback of every few MiB is started while the body still arrives, without waiting for it
(writeback.py), so the fsync before the 204 has little left to do; and the bundle is verified while it arrives
(verify.py: the whole file's sha256 and medic's reader over the acknowledged bytes, in a thread of its own), so
the last byte does not read the whole file again (after a restart the verifier reads what came before)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import os
from typing import Any, BinaryIO

from anyio import to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from medic.plugins.collector.arrival import finish_upload
from medic.plugins.collector.context import Collector
from medic.plugins.collector.peer import gone_short, raw_socket
from medic.plugins.collector.prefixes import HEADER, keep_verified, keeps_prefixes, prefix_hasher
from medic.plugins.collector.problems import TUS_VERSION, Problem
from medic.plugins.collector.verify import verifier_for
from medic.plugins.collector.writeback import start_writeback

CONTENT_TYPE = "application/offset+octet-stream"
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
WRITE_SIZE = 1 << 20  # bytes gathered before one write in a worker thread
IOV_MAX = 1024  # Linux's limit of buffers in one writev
WRITEBACK = 4 << 20  # bytes written between two writeback starts while the body is still arriving
BUSY_WAIT = 3.0  # seconds a request waits for the PATCH writing its upload to end


class TooLong(Exception):
    pass


class PeerGone(Exception):
    """The client ended the connection and the bytes still queued cannot finish the body (peer.py)."""


def checksum(header: str) -> tuple[Any, bytes]:
    """``Upload-Checksum: ALGO B64`` -> (a new hasher, the expected digest)."""
    if not header:
        raise Problem(400, "Bad Request", "every PATCH carries Upload-Checksum: sha256 <base64>", "Upload-Checksum")
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in ALGORITHMS:
        raise Problem(400, "Bad Request", f"checksum algorithm {algorithm!r} not supported (sha1, sha256)",
                      "Upload-Checksum")
    try:
        expected = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise Problem(400, "Bad Request", "the checksum is not base64", "Upload-Checksum") from exc
    return ALGORITHMS[algorithm](), expected


def _open_at(path: os.PathLike[str], offset: int) -> BinaryIO:
    f = open(path, "r+b")  # noqa: SIM115 - closed by the caller in a worker thread
    f.truncate(offset)  # bytes past the acknowledged offset (a crash mid-PATCH) are not the client's to keep
    f.seek(offset)
    return f


class _Sink:
    """The worker thread's side: hash (the PATCH's Upload-Checksum) and write the body parts as they came (one
    writev, no join: each byte is copied once, into the page cache)."""

    def __init__(self, f: BinaryIO, hasher: Any, offset: int) -> None:
        self.f, self.hasher, self.unsynced, self.offset = f, hasher, 0, offset

    def write(self, parts: list[bytes]) -> None:
        size = 0
        for part in parts:
            self.hasher.update(part)  # hashlib lets go of the GIL for large blocks
            size += len(part)
        _write_all(self.f.fileno(), parts, size)
        self.offset += size
        self.unsynced += size
        if self.unsynced >= WRITEBACK:  # start the disk now, not all at once in the fsync before the 204
            start_writeback(self.f.fileno(), self.offset - self.unsynced, self.unsynced)
            self.unsynced = 0


def _write_all(fd: int, parts: list[bytes], size: int) -> None:
    """os.writev until every byte is written (a short write goes on where it stopped)."""
    views = [memoryview(part) for part in parts]
    while size:
        done = os.writev(fd, views[:IOV_MAX])
        size -= done
        while done:
            if done >= len(views[0]):
                done -= len(views.pop(0))
            else:
                views[0], done = views[0][done:], 0


def _sync(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


def land(sink: _Sink, rest: list[bytes], expected: bytes, start: int, store: Any, upload_id: str) -> bool:
    """The end of a PATCH in one worker thread (each hop between the event loop and a thread waits for the GIL,
    which the verifier's thread holds between its reads): the last parts written, the Upload-Checksum compared,
    then either the body discarded (False) or made durable with its new offset (fsync, then the offset)."""
    try:
        if rest:
            sink.write(rest)
        if sink.hasher.digest() != expected:
            _discard(sink.f, start)
            return False
        _sync(sink.f)
    except OSError:
        _discard(sink.f, start)
        raise
    finally:
        sink.f.close()
    store.set_offset(upload_id, sink.offset)  # durable before the 204
    return True


def _discard(f: BinaryIO, offset: int) -> None:
    """Drop what a failed PATCH wrote. Not fsync'ed: the acknowledged offset is the state's, and the next PATCH
    truncates to it again (_open_at), so bytes a crash brings back are never used; a dropped PATCH (a killed
    agent) thus frees its upload for the next one sooner."""
    f.flush()
    f.truncate(offset)


async def receive(request: Request, sink: _Sink, room: int) -> tuple[int, list[bytes]]:
    """Stream the body into the sink: (its length, at most ``room`` bytes (else TooLong); its last parts, not yet
    written: land() writes them). One block is being written while the next one is read; before each, a client
    gone with the body unfinished stops it (PeerGone)."""
    loop = asyncio.get_running_loop()
    pending: list[bytes] = []
    total = size = 0
    sock, declared = raw_socket(request.scope), request.headers.get("content-length", "")
    length = int(declared) if declared.isdigit() else -1
    writing: asyncio.Future[None] | None = None
    keeping = keeps_prefixes(sink.hasher)  # then what a dead client's kernel still delivers is kept: read it
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > room:
                raise TooLong
            pending.append(chunk)  # the body part as uvicorn gave it (bodyproto.py): not copied here
            size += len(chunk)
            if size >= WRITE_SIZE:
                if length >= 0 and not keeping and gone_short(sock, length - total):
                    raise PeerGone
                if writing is not None:
                    await writing
                writing = loop.run_in_executor(None, sink.write, pending)
                pending, size = [], 0
    except ClientDisconnect:
        if keeping and pending:  # its prefixes may end in these bytes too
            if writing is not None:
                await writing
            writing = loop.run_in_executor(None, sink.write, pending)
            pending, size = [], 0
        raise
    finally:
        if writing is not None:  # never truncate (or close) under a write still running
            await asyncio.wait([writing])
    if writing is not None:
        writing.result()  # a write that failed fails the PATCH
    return total, pending


def check_request(request: Request, upload: dict[str, Any]) -> tuple[int, Any, bytes]:
    if request.headers.get("content-type", "").split(";")[0].strip() != CONTENT_TYPE:
        raise Problem(415, "Unsupported Media Type", f"PATCH bodies are {CONTENT_TYPE}", "Content-Type")
    raw = request.headers.get("upload-offset", "")
    if not raw.isdigit():
        raise Problem(400, "Bad Request", "Upload-Offset must be a whole number", "Upload-Offset")
    hasher, expected = checksum(request.headers.get("upload-checksum", ""))
    if int(raw) != upload["offset"] or upload["state"] != "incomplete":
        raise Problem(409, "Conflict", f"Upload-Offset {raw} is not the server's {upload['offset']}",
                      "Upload-Offset", {"Upload-Offset": str(upload["offset"])})
    return int(raw), hasher, expected


async def wait_idle(col: Collector, upload_id: str, timeout: float = BUSY_WAIT) -> bool:
    """Wait for the PATCH writing ``upload_id`` (if any) to end; False when it still runs after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (ended := col.busy.get(upload_id)) is not None:  # woken as it ends, not by polling (a resumed agent's
        try:                                                # HEAD follows a dropped PATCH by milliseconds)
            await asyncio.wait_for(ended.wait(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return False
    return True


async def patch_upload(request: Request, col: Collector, upload: dict[str, Any]) -> Response:
    upload_id = upload["upload_id"]
    if upload_id in col.busy:  # a dead client's PATCH, most often: it ends when its connection drops
        if await wait_idle(col, upload_id):
            fresh = await to_thread.run_sync(col.store.upload, upload_id)  # its offset moved, maybe
            upload = fresh if fresh is not None else upload
        if upload_id in col.busy:
            raise Problem(423, "Locked", "another PATCH is writing this upload; wait for it, then HEAD",
                          "upload_id", {"Retry-After": "1"})
    offset, hasher, expected = check_request(request, upload)
    declared = request.headers.get("content-length", "")
    hasher = prefix_hasher(request.headers.get(HEADER, ""), hasher, int(declared) if declared.isdigit() else -1)
    verifier = verifier_for(col, upload)
    col.busy[upload_id] = asyncio.Event()
    try:
        f = await to_thread.run_sync(_open_at, col.data_path(upload_id), offset)
        sink = _Sink(f, hasher, offset)
        try:
            received, rest = await receive(request, sink, upload["length"] - offset)
            landed = await to_thread.run_sync(land, sink, rest, expected, offset, col.store, upload_id)
        except (TooLong, ClientDisconnect, PeerGone, OSError) as exc:
            # (a closed file: land() failed after closing it, having truncated it itself)
            if not f.closed and isinstance(exc, (ClientDisconnect, PeerGone)):  # a dead client: keep its checked prefix
                kept = await to_thread.run_sync(keep_verified, f, offset, hasher, sink.offset)
                if kept > offset:
                    await to_thread.run_sync(col.store.set_offset, upload_id, kept)  # durable before recorded
                    verifier.advance(kept)
            elif not f.closed:
                await to_thread.run_sync(_discard, f, offset)
            if isinstance(exc, TooLong):
                raise Problem(413, "Content Too Large", "the body goes past Upload-Length", "Upload-Offset") from exc
            raise Problem(400, "Bad Request", f"the body was cut short ({type(exc).__name__}); bytes past the "
                          "checked prefixes discarded, HEAD for the offset") from exc
        finally:
            if not f.closed:
                await to_thread.run_sync(f.close)
        if not landed:
            raise Problem(460, "Checksum Mismatch", "the body does not match Upload-Checksum; bytes discarded",
                          "Upload-Checksum")
        new_offset = offset + received
        verifier.advance(new_offset)
        if new_offset == upload["length"]:
            col.verifiers.pop(upload_id, None)
            verified = await to_thread.run_sync(verifier.result)
            await to_thread.run_sync(finish_upload, col, {**upload, "offset": new_offset}, verified)
    finally:
        ended = col.busy.pop(upload_id, None)
        if ended is not None:
            ended.set()  # wakes the HEADs and PATCHes waiting for it (wait_idle)
    return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION, "Upload-Offset": str(new_offset)})
