"""A request's bytes leave in one write: httpcore writes the headers and then the body, and with ``TCP_NODELAY``
(which it sets) they travel as two segments, so the receiver wakes up twice for one notification. Held until the
reply is read, they go out in one ``send`` (one TLS record on https): a syscall and a wake-up less per request.

Only for bodies already in memory (every channel posts ``bytes``): a streamed upload would be held whole.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

import httpcore

if TYPE_CHECKING:
    import httpx


class OneWriteStream(httpcore.NetworkStream):
    """Holds writes until the first read, then writes them together (errors surface at that read, mapped by
    httpx to the same ``WriteError``/``WriteTimeout`` as before)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self._held: list[bytes] = []
        self._timeout: float | None = None

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._held.append(buffer)
            self._timeout = timeout

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._held:
            data = b"".join(self._held)
            self._held.clear()
            self._inner.write(data, self._timeout)
        return self._inner.read(max_bytes, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return OneWriteStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)  # "is_readable": the pool's check of an idle connection


class OneWriteBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return OneWriteStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None
                            ) -> httpcore.NetworkStream:
        return OneWriteStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def one_write(client: httpx.Client) -> httpx.Client:
    """``client`` with its connections writing each request at once (its transport keeps every other setting)."""
    pool = client._transport._pool  # type: ignore[attr-defined]  # httpx offers no public hook for the backend
    pool._network_backend = OneWriteBackend(pool._network_backend)
    return client
