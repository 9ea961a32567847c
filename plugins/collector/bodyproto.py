"""Fewer copies of a request body between the TLS layer and the PATCH handler (bench/README-collector.md, session
13's profile: the event loop's thread copied each byte six times in user space before the handler had it).

- asyncio's TLS layer decrypts straight into one reused buffer of this protocol (a BufferedProtocol), instead of
  into a new 256 KiB bytes per read that it then joins with the next ones.
- Reads of up to READ_BUFFER (1 MiB) off the socket, not asyncio's 256 KiB: each read's Python work (the TLS
  layer's calls, httptools, the request's wake-up, a pause and resume of reading) is done for 4 times as many bytes
  (session 14's profile: most of the event loop's CPU was Python run per read, not decryption).
- A body part httptools hands over becomes the request's pending body as it is (uvicorn appends it to a bytearray,
  which ``receive()`` copies into bytes again), so the ASGI message carries httptools' own bytes object.

What the parser sees, and when uvicorn pauses reading (its 64 KiB high-water mark), are unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT

from medic.plugins.collector.peer import TransportScopeProtocol

READ_BUFFER = 1 << 20  # bytes read off the socket and decrypted at a time (asyncio's TLS layer: 256 KiB)


class BodyProtocol(TransportScopeProtocol, asyncio.BufferedProtocol):
    """uvicorn's httptools protocol (with the transport in the scope, peer.py), fed from one reused buffer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._view = memoryview(bytearray(READ_BUFFER))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        tls = getattr(transport, "_ssl_protocol", None)  # asyncio's SSLProtocol: its socket reads are max_size long
        if tls is not None and getattr(tls, "max_size", READ_BUFFER) < READ_BUFFER:
            tls.max_size = READ_BUFFER

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view  # httptools copies what it keeps (headers, body parts) out of it: it can be reused

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._view[:nbytes])  # type: ignore[arg-type]  # httptools reads any buffer

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        if cycle.body:
            cycle.body += body
        else:  # receive() hands bytes(cycle.body) on: of a bytes object, that is the object itself, not a copy
            cycle.body = body  # type: ignore[assignment]
        if len(cycle.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()
