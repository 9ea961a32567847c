"""A real webhook receiver for tests: uvicorn + Starlette on a loopback socket, verifying Standard Webhooks
signatures with the independent ``standardwebhooks`` package, answering from a script of statuses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from medic.testing.sink import serve_app


@dataclass
class Hit:
    webhook_id: str
    verified: bool
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    secret: str = ""  # "": a chat receiver, no signature expected
    port: int = 0
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answers before the default 200
    hits: list[Hit] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def allow(self) -> str:
        return f"127.0.0.1:{self.port}"

    def delivered_ids(self) -> list[str]:
        return [h.webhook_id for h in self.hits if h.verified]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = True
        if self.secret:
            try:
                Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                verified = False
        # a scripted answer first (outages, redirects, 410...); then 200 for a valid signature, 401 otherwise
        status, extra = self.script.pop(0) if self.script else (200 if verified else 401, {})
        self.hits.append(Hit(headers.get("webhook-id", ""), verified and status < 300, body, headers))
        return Response(status_code=status, headers=extra)


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    with serve_app(app, receiver.port) as port:
        receiver.port = port
        yield receiver
