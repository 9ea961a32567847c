"""Is the client of a PATCH gone with its body unfinished? Then the PATCH can stop at once.

A killed agent's kernel still delivers what the agent had queued (several MiB on loopback), then ends the
connection; read through, the rest of its PATCH would be decrypted, hashed and written, then truncated away,
while the upload stays locked and the agent's next process waits in HEAD (about 45 ms a kill at 8 MiB PATCHes:
bench/README-collector.md). TCP says sooner: once the peer's FIN (or RST) has come, the bytes that will ever
arrive are those already queued; if they cannot finish the body, nothing of this PATCH can be kept.

The check is conservative: it stops a PATCH only when the peer has ended the connection and the queued bytes
(TLS records count more than the bytes they carry) plus what the TLS layer and uvicorn may hold (SLACK) are fewer
than the body still missing. Any other case reads on as before. Linux only (TCP_INFO); elsewhere it never stops.
"""

from __future__ import annotations

import array
import fcntl
import socket
import termios
from collections.abc import Mapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

EXTENSION = "medic.transport"
SLACK = 3 << 20  # what the TLS layer (a 1 MiB read, bodyproto.py, a record) and uvicorn (one read) may hold
_ENDED = (7, 8)  # tcpi_state TCP_CLOSE (an RST came), TCP_CLOSE_WAIT (a FIN came)


class TransportScopeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that puts the connection's transport into each request's scope
    (``scope["extensions"]["medic.transport"]``), so a PATCH can ask the kernel about its socket."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions = {**self.scope.get("extensions", {}), EXTENSION: self.transport}  # keep any uvicorn sets
        self.scope["extensions"] = extensions  # type: ignore[typeddict-item]


def raw_socket(scope: Mapping[str, Any]) -> Any:
    """The request's TCP socket (asyncio's TransportSocket), or None."""
    transport = scope.get("extensions", {}).get(EXTENSION)
    return transport.get_extra_info("socket") if transport is not None else None


def gone_short(sock: Any, missing: int) -> bool:
    """True when the peer has ended the connection and what is still queued cannot bring ``missing`` bytes."""
    if sock is None or missing <= SLACK:
        return False
    try:
        state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        if state not in _ENDED:
            return False
        queued = array.array("i", [0])
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, queued)
    except (OSError, AttributeError):  # not Linux, or the socket is already closed: read on as before
        return False
    return queued[0] + SLACK < missing
