"""``POST /enroll``: a single-use code becomes an agent id and a bearer token (shown once, stored hashed)."""

from __future__ import annotations

import json
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from medic.plugins.collector.context import Collector
from medic.plugins.collector.problems import Problem

MAX_BODY = 4096


async def read_json(request: Request) -> dict[str, Any]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Problem(413, "Content Too Large", f"an enrollment body is at most {MAX_BODY} bytes", "body")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise Problem(400, "Bad Request", "the body is not JSON", "body") from exc
    if not isinstance(data, dict):
        raise Problem(400, "Bad Request", "the body must be a JSON object", "body")
    return data


async def enroll_agent(request: Request, col: Collector) -> Response:
    address = request.client.host if request.client else "unknown"
    wait = col.enrolls.take(address)
    if wait:
        raise Problem(429, "Too Many Requests", f"over {col.config.enroll_per_minute} enrollments a minute from "
                      f"{address}", "code", {"Retry-After": str(wait)}, limit="enroll_per_minute")
    data = await read_json(request)
    for key in ("code", "name"):
        if not isinstance(data.get(key), str) or not 0 < len(data[key]) <= 253:
            raise Problem(400, "Bad Request", f"{key!r} must be a non-empty string", key)
    redeemed = await to_thread.run_sync(col.store.redeem, data["code"], address)
    if redeemed is None:
        raise Problem(401, "Unauthorized", "unknown, used or expired enrollment code", "code")
    agent_id, token, _name = redeemed
    return JSONResponse({"agent_id": agent_id, "token": token, "receipt_key": col.key_info, "uploads": "/files/",
                         "tus_max_size": col.config.max_bundle_size}, status_code=201)
