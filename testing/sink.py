"""A real HTTP receiver on a loopback socket for channel tests: uvicorn + Starlette in a thread, recording every
request and answering from a script (statuses, headers, bodies, delays) before its default answer (200)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # answer this late (a timeout test)
    body: bytes = b""


@dataclass
class HttpSink:
    port: int = 0
    script: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=Answer)  # the answer once the script is used up
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def allow(self) -> str:
        """The value of MEDIC_CHANNEL_ALLOW that lets medic's guarded client reach this sink."""
        return f"127.0.0.1:{self.port}"

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(Received(request.method, request.url.path,
                                      {k.lower(): v for k, v in request.headers.items()}, body))
        answer = self.script.pop(0) if self.script else self.default
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        return Response(answer.body, status_code=answer.status, headers=answer.headers)


@contextmanager
def serving(sink: HttpSink) -> Iterator[HttpSink]:
    """Run ``sink`` on 127.0.0.1 (its port, or a free one) until the block ends."""
    app = Starlette(routes=[Route("/{path:path}", sink._handle, methods=["POST", "PUT", "GET"])])
    with serve_app(app, sink.port) as port:
        sink.port = port
        yield sink


@contextmanager
def serve_app(app: Any, port: int = 0) -> Iterator[int]:
    """Serve an ASGI ``app`` with uvicorn on 127.0.0.1 (``port``, or a free one) in a thread; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
