"""Fewer copies of a request body between the TLS layer and the PATCH handler (bench/README-collector.md, session
13's profile: the event loop's thread copied each byte six times in user space before the handler had it).

- asyncio's TLS layer decrypts straight into one reused buffer of this protocol (a BufferedProtocol), instead of
  into a new 256 KiB bytes per read that it then joins with the next ones.
- A body part httptools hands over becomes the request's pending body as it is (uvicorn appends it to a bytearray,
  which ``receive()`` copies into bytes again), so the ASGI message carries httptools' own bytes object.

What the parser sees, and when uvicorn pauses reading (its 64 KiB high-water mark), are unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT

from medic.plugins.collector.peer import TransportScopeProtocol

READ_BUFFER = 256 * 1024  # asyncio's TLS layer reads 256 KiB off the socket at a time: one read fits


class BodyProtocol(TransportScopeProtocol, asyncio.BufferedProtocol):
    """uvicorn's httptools protocol (with the transport in the scope, peer.py), fed from one reused buffer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._view = memoryview(bytearray(READ_BUFFER))

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
