"""The collector's HTTP protocol (plugins/collector/bodyproto.py) on a real uvicorn server with TLS on 127.0.0.1:
a request body arrives whole and in order, in parts larger than asyncio's 256 KiB socket reads (one wake-up of
the request per MiB, not per 256 KiB)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from collector_helpers import free_port, make_ca

from medic.plugins.collector.bodyproto import READ_BUFFER, BodyProtocol

MiB = 1 << 20
ASYNCIO_READ = 256 * 1024  # asyncio's TLS layer's own read size
UVICORN_HELD = 64 * 1024  # uvicorn pauses reading once a request holds more than this


def body_parts(tmp_path: Path, body: bytes) -> list[bytes]:
    """The ASGI body messages a PUT of ``body`` produces on uvicorn with BodyProtocol."""
    ca, cert, key = make_ca(tmp_path / "pki")
    parts: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            parts.append(message.get("body", b""))
            hashlib.sha256(message.get("body", b"")).digest()  # some work per part, as a PATCH does
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ssl_certfile=str(cert),
                                           ssl_keyfile=str(key), http=BodyProtocol, lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        context = ssl.create_default_context(cafile=str(ca))
        with socket.create_connection(("127.0.0.1", port)) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            sock.sendall(f"PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            sock.sendall(body)
            assert sock.recv(100).startswith(b"HTTP/1.1 204")
    finally:
        server.should_exit = True
        thread.join(10)
    return parts


def test_a_body_arrives_whole_in_parts_of_up_to_a_mib(tmp_path: Path) -> None:
    body = os.urandom(48 * MiB)
    parts = body_parts(tmp_path, body)
    assert b"".join(parts) == body
    # asyncio alone reads 256 KiB at a time, and uvicorn adds at most its 64 KiB to a part
    assert max(len(part) for part in parts) > ASYNCIO_READ + UVICORN_HELD
    assert max(len(part) for part in parts) <= READ_BUFFER + UVICORN_HELD
