"""Channel requests leave in one write (headers and body together), over kept-alive connections, plain or TLS."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from httpcore._backends.sync import SyncBackend

from medic.core.channel import DeliveryError
from medic.plugins.channels import http
from medic.plugins.channels.guard import Allowance
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


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path, list[str], list[bytes]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names ``localhost`` only: (port, its certificate, the SNI
    names it was sent, the request bodies it received)."""
    crt, key = tmp_path / "crt.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    names: list[str] = []
    bodies: list[bytes] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name or "")  # type: ignore[assignment,misc]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept alive, as the channels' pool expects

        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], crt, names, bodies
    finally:
        server.shutdown()
        server.server_close()


def test_https_goes_to_the_vetted_address_with_the_name_for_sni_and_certificate(
        tls_receiver: tuple[int, Path, list[str], list[bytes]]) -> None:
    port, crt, names, bodies = tls_receiver
    client = http.GuardedClient(Allowance.parse(f"127.0.0.1:{port}"), verify=str(crt))
    for n in range(2):
        assert client.post(f"https://localhost:{port}/hook", b'{"n": %d}' % n, {}).status == 200
    assert bodies == [b'{"n": 0}', b'{"n": 1}'] and names == ["localhost"]  # one TLS session, kept alive
    with pytest.raises(DeliveryError, match="ConnectError"):  # the certificate names localhost, not the address
        client.post(f"https://127.0.0.1:{port}/hook", b"{}", {})
    assert len(bodies) == 2
