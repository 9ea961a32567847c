"""Channel requests leave in one write (headers and body together), over kept-alive connections."""

from __future__ import annotations

from typing import Any

import httpcore
import httpx
import pytest
from httpcore._backends.sync import SyncBackend

from medic.plugins.channels import http
from medic.plugins.channels.onewrite import OneWriteBackend, one_write
from tests.channels.receiver import Receiver, running


class RecordingBackend(SyncBackend):
    """httpcore's own socket backend, noting every write its connections make and every connection opened."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.connections = 0

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        stream = super().connect_tcp(*args, **kwargs)
        self.connections += 1
        real_write = stream.write

        def write(buffer: bytes, timeout: float | None = None) -> None:
            self.writes.append(buffer)
            real_write(buffer, timeout)

        stream.write = write  # type: ignore[method-assign]
        return stream


def test_headers_and_body_go_out_in_one_write_and_the_connection_is_kept() -> None:
    recorder = RecordingBackend()
    client = httpx.Client(trust_env=False)
    client._transport._pool._network_backend = recorder  # type: ignore[attr-defined]
    one_write(client)
    with running(Receiver("")) as rx:
        for n in range(3):
            body = b'{"n": %d}' % n
            reply = client.post(rx.url, content=body, headers={"content-type": "application/json"})
            assert reply.status_code == 200 and rx.hits[-1].body == body
    assert len(recorder.writes) == 3 and recorder.connections == 1  # one write per request, one connection
    assert all(w.startswith(b"POST /hook HTTP/1.1\r\n") and w.endswith(b'{"n": %d}' % n)
               for n, w in enumerate(recorder.writes))


def test_the_guarded_client_writes_once_and_sends_only_the_headers_it_needs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with running(Receiver("")) as rx:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
        reply = http.GuardedClient(timeout=7.5).post(rx.url, b"{}", {"content-type": "application/json"})
        assert reply.status == 200
        pool = http._pool(7.5, True, "127.0.0.1")
        assert isinstance(pool._transport._pool._network_backend, OneWriteBackend)  # type: ignore[attr-defined]
        assert {"accept", "connection"}.isdisjoint(rx.hits[-1].headers)  # HTTP/1.1's defaults, implied
