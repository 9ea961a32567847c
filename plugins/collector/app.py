"""The collector's HTTP routes (Starlette): ``POST /enroll`` and tus 1.0.0 at ``/files/`` (core, creation,
checksum, termination, expiration), plus ``GET /files/<id>/receipt``. See the protocol in README, "Collector"."""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from email.utils import formatdate
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from medic.plugins.collector.arrival import finish_upload
from medic.plugins.collector.caseroutes import case_routes
from medic.plugins.collector.context import Collector, create_private
from medic.plugins.collector.patch import patch_upload, wait_idle
from medic.plugins.collector.problems import TUS_VERSION, Problem, stored
from medic.plugins.collector.pyz import agent_route

EXTENSIONS = "creation,checksum,termination,expiration"
CHECKSUMS = "sha1,sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, **extra}


def expires(upload: dict[str, Any]) -> str:
    return formatdate(upload["expires_at"], usegmt=True)


async def authenticate(request: Request, col: Collector) -> dict[str, Any]:
    """Tus-Resumable, then the bearer token and the agent's request rate."""
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise Problem(412, "Precondition Failed", f"this server speaks tus {TUS_VERSION} only", "Tus-Resumable",
                      {"Tus-Version": TUS_VERSION})
    return await bearer_agent(request, col)


async def bearer_agent(request: Request, col: Collector) -> dict[str, Any]:
    """The enrolled agent whose bearer token the request carries (looked up on every request: a revocation
    applies at once), within its request rate; the tus routes and the cases page (``caseroutes``) both ask."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    agent = await to_thread.run_sync(col.store.agent_for_token, token) if scheme.lower() == "bearer" else None
    if agent is None:
        raise Problem(401, "Unauthorized", "unknown or revoked bearer token", "Authorization",
                      {"WWW-Authenticate": 'Bearer realm="medic-collector"'})
    wait = col.requests.take(agent["agent_id"])
    if wait:
        raise Problem(429, "Too Many Requests", f"over {col.config.requests_per_second:g} requests/s for this agent",
                      "Authorization", {"Retry-After": str(wait)}, limit="requests_per_second")
    return agent


async def owned_upload(col: Collector, agent: dict[str, Any], upload_id: str, *, live: bool = True
                       ) -> dict[str, Any]:
    upload = await to_thread.run_sync(col.store.upload, upload_id)
    if upload is None or upload["agent_id"] != agent["agent_id"]:
        raise Problem(404, "Not Found", f"no upload {upload_id!r} for this agent", "upload_id")
    if live and upload["state"] == "incomplete" and upload["expires_at"] <= time.time():
        raise Problem(410, "Gone", "this incomplete upload expired; start a new one", "upload_id")
    return upload


def parse_metadata(header: str, length: int) -> dict[str, str]:
    meta: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            meta[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Problem(400, "Bad Request", f"metadata {key!r} is not base64 UTF-8", "Upload-Metadata") from exc
    if not _HEX64.fullmatch(meta.get("sha256", "")):
        raise Problem(400, "Bad Request", "metadata sha256 must be the bundle's hex sha256", "Upload-Metadata")
    if "size" in meta and meta["size"] != str(length):
        raise Problem(400, "Bad Request", f"metadata size {meta['size']!r} differs from Upload-Length {length}",
                      "Upload-Metadata")
    return meta


def upload_length(request: Request, col: Collector) -> int:
    raw = request.headers.get("upload-length", "")
    if not raw.isdigit():
        field = "Upload-Defer-Length" if "upload-defer-length" in request.headers else "Upload-Length"
        raise Problem(400, "Bad Request", "Upload-Length must be a whole number of bytes", field)
    if int(raw) > col.config.max_bundle_size:
        raise Problem(413, "Content Too Large", f"over the {col.config.max_bundle_size}-byte bundle limit",
                      "Upload-Length", limit="max_bundle_size")
    return int(raw)


async def create(request: Request, col: Collector, agent: dict[str, Any]) -> Response:
    length = upload_length(request, col)
    meta = parse_metadata(request.headers.get("upload-metadata", ""), length)
    done = await to_thread.run_sync(col.store.delivered, agent["agent_id"], meta["sha256"])
    if done is not None:  # dedupe: the same bundle again gets the delivered upload (and its receipt)
        return Response(status_code=201, headers=tus_headers(Location=col.location(done["upload_id"])))
    if await to_thread.run_sync(col.free_disk) < col.config.min_free_disk:
        raise Problem(507, "Insufficient Storage", "the collector is below its free-disk watermark; retry later",
                      "Upload-Length", {"Retry-After": "300"}, limit="min_free_disk")
    if await to_thread.run_sync(col.store.bytes_today, agent["agent_id"]) + length > agent["quota"]:
        raise Problem(413, "Content Too Large", f"over this agent's daily quota of {agent['quota']} bytes",
                      "Upload-Length", limit="quota")
    if await to_thread.run_sync(col.store.open_uploads, agent["agent_id"]) >= col.config.max_concurrent_uploads:
        raise Problem(429, "Too Many Requests", f"over {col.config.max_concurrent_uploads} unfinished uploads "
                      "for this agent; finish or terminate one", "Authorization", {"Retry-After": "60"},
                      limit="max_concurrent_uploads")
    upload_id = await to_thread.run_sync(col.store.create_upload, agent["agent_id"], length, meta["sha256"],
                                         meta.get("filename", "bundle.tar.gz")[:255], col.config.upload_expiry)
    await to_thread.run_sync(create_private, col.data_path(upload_id))
    upload = await to_thread.run_sync(col.store.upload, upload_id)
    assert upload is not None
    if length == 0:
        await to_thread.run_sync(finish_upload, col, upload)
    return Response(status_code=201, headers=tus_headers(Location=col.location(upload_id),
                                                         **{"Upload-Expires": expires(upload)}))


async def head(col: Collector, agent: dict[str, Any], upload_id: str) -> Response:
    await wait_idle(col, upload_id)  # a PATCH being written (or dropped): answer the offset it leaves
    upload = await owned_upload(col, agent, upload_id)
    headers = tus_headers(**{"Upload-Offset": str(upload["offset"]), "Upload-Length": str(upload["length"]),
                             "Cache-Control": "no-store"})
    if upload["state"] == "incomplete":
        headers["Upload-Expires"] = expires(upload)
    return Response(status_code=200, headers=headers)


async def terminate(col: Collector, agent: dict[str, Any], upload_id: str) -> Response:
    upload = await owned_upload(col, agent, upload_id, live=False)
    if upload["state"] != "incomplete":
        raise Problem(409, "Conflict", "a delivered bundle is kept; only unfinished uploads can be terminated",
                      "upload_id")
    if upload_id in col.busy:
        raise Problem(423, "Locked", "a PATCH is writing this upload right now", "upload_id")
    await to_thread.run_sync(col.remove_upload, upload)
    return Response(status_code=204, headers=tus_headers())


async def receipt(col: Collector, agent: dict[str, Any], upload_id: str) -> Response:
    upload = await owned_upload(col, agent, upload_id, live=False)
    if upload["state"] == "refused":
        raise stored(json.loads(upload["problem"]))
    if upload["state"] != "complete":
        raise Problem(409, "Conflict", f"upload incomplete: {upload['offset']} of {upload['length']} bytes",
                      "upload_id")
    return JSONResponse(json.loads(upload["receipt"]))


def build_app(col: Collector) -> Starlette:
    async def files(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=tus_headers(**{
                "Tus-Version": TUS_VERSION, "Tus-Extension": EXTENSIONS, "Tus-Checksum-Algorithm": CHECKSUMS,
                "Tus-Max-Size": str(col.config.max_bundle_size)}))
        try:
            agent = await authenticate(request, col)
            upload_id = request.path_params.get("upload_id")
            if upload_id is None:
                return await create(request, col, agent)
            if request.url.path.endswith("/receipt"):
                return await receipt(col, agent, upload_id)
            if request.method == "HEAD":
                return await head(col, agent, upload_id)
            if request.method == "PATCH":
                upload = await owned_upload(col, agent, upload_id)
                return await patch_upload(request, col, upload)
            if request.method == "DELETE":
                return await terminate(col, agent, upload_id)
            raise Problem(405, "Method Not Allowed", f"{request.method} is not a tus request here")
        except Problem as problem:
            return problem.response()

    async def enroll(request: Request) -> Response:
        from medic.plugins.collector.enroll import enroll_agent

        try:
            return await enroll_agent(request, col)
        except Problem as problem:
            return problem.response()

    return Starlette(routes=[
        Route("/enroll", enroll, methods=["POST"]),
        Route("/files/", files, methods=["OPTIONS", "POST"]),
        Route("/files/{upload_id:str}", files, methods=["OPTIONS", "HEAD", "PATCH", "DELETE"]),
        Route("/files/{upload_id:str}/receipt", files, methods=["GET"]),
        agent_route(col.directory),  # GET /agent/medic-agent.pyz, the one-file agent (plugins/collector/pyz.py)
        *case_routes(col, bearer_agent),  # the cases page, for the names in cases_viewers (caseroutes.py)
    ])
