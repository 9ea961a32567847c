"""``PATCH /files/<id>``: the body is streamed to the upload's file (never held whole), hashed as it comes, and
fsync'ed; only then is the new offset recorded and acknowledged. A checksum mismatch, a body past the declared
length or a dropped connection truncates the file back to the acknowledged offset: nothing half-checked stays.
A second PATCH for an upload that is being written gets 423 Locked (409 is kept for a wrong offset)."""

from __future__ import annotations

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
from medic.plugins.collector.problems import TUS_VERSION, Problem

CONTENT_TYPE = "application/offset+octet-stream"
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
WRITE_SIZE = 1 << 20  # bytes gathered before one write in a worker thread


class TooLong(Exception):
    pass


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
    f = open(path, "r+b")  # noqa: SIM115 - closed by _close in a worker thread
    f.truncate(offset)  # bytes past the acknowledged offset (a crash mid-PATCH) are not the client's to keep
    f.seek(offset)
    return f


def _write(f: BinaryIO, hasher: Any, data: bytes) -> None:
    hasher.update(data)
    f.write(data)


def _sync(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


def _discard(f: BinaryIO, offset: int) -> None:
    f.truncate(offset)
    _sync(f)


async def receive(request: Request, f: BinaryIO, hasher: Any, room: int) -> int:
    """Stream the body into ``f``: its length, at most ``room`` bytes (else TooLong)."""
    pending, total = bytearray(), 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > room:
            raise TooLong
        pending += chunk
        if len(pending) >= WRITE_SIZE:
            await to_thread.run_sync(_write, f, hasher, bytes(pending))
            pending.clear()
    if pending:
        await to_thread.run_sync(_write, f, hasher, bytes(pending))
    await to_thread.run_sync(_sync, f)
    return total


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


async def patch_upload(request: Request, col: Collector, upload: dict[str, Any]) -> Response:
    upload_id = upload["upload_id"]
    if upload_id in col.busy:
        raise Problem(423, "Locked", "another PATCH is writing this upload; wait for it, then HEAD", "upload_id")
    offset, hasher, expected = check_request(request, upload)
    col.busy.add(upload_id)
    try:
        f = await to_thread.run_sync(_open_at, col.data_path(upload_id), offset)
        try:
            received = await receive(request, f, hasher, upload["length"] - offset)
            if hasher.digest() != expected:
                await to_thread.run_sync(_discard, f, offset)
                raise Problem(460, "Checksum Mismatch", "the body does not match Upload-Checksum; bytes discarded",
                              "Upload-Checksum")
        except (TooLong, ClientDisconnect, OSError) as exc:
            await to_thread.run_sync(_discard, f, offset)
            if isinstance(exc, TooLong):
                raise Problem(413, "Content Too Large", "the body goes past Upload-Length", "Upload-Offset") from exc
            raise Problem(400, "Bad Request", f"the body was cut short ({type(exc).__name__}); bytes discarded, "
                          "HEAD for the offset") from exc
        finally:
            await to_thread.run_sync(f.close)
        new_offset = offset + received
        await to_thread.run_sync(col.store.set_offset, upload_id, new_offset)  # durable before the 204
        if new_offset == upload["length"]:
            await to_thread.run_sync(finish_upload, col, {**upload, "offset": new_offset})
    finally:
        col.busy.discard(upload_id)
    return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION, "Upload-Offset": str(new_offset)})
