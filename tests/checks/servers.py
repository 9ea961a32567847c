"""Small real servers on 127.0.0.1 for the live network checks: HTTP(S), a DNS responder, an SNTP
responder."""

from __future__ import annotations

import http.server
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/redirect/"):
            n = int(self.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", f"/redirect/{n - 1}" if n > 1 else "/ok")
            self.end_headers()
            return
        if self.path == "/slow":
            time.sleep(0.3)
        status = 503 if self.path == "/down" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_server(cert: tuple[Path, Path] | None = None) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if cert is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def self_signed(directory: Path, days: int, name: str = "cert") -> tuple[Path, Path]:
    crt, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(crt),
            "-days",
            str(days),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


@contextmanager
def udp_responder(reply: object) -> Iterator[int]:
    """A UDP server on 127.0.0.1: ``reply(request) -> bytes | None`` answers each datagram."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(4096)
            except TimeoutError:
                continue
            answer = reply(data)  # type: ignore[operator]
            if answer:
                sock.sendto(answer, addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


def dns_reply(rcode: int = 0) -> object:
    def reply(query: bytes) -> bytes:
        return query[:2] + bytes([0x81, 0x80 | rcode]) + query[4:]  # QR, RD, RA, rcode; question echoed

    return reply


def ntp_reply(offset_s: float) -> object:
    def reply(_query: bytes) -> bytes:
        now = time.time() + offset_s + 2208988800
        sec, frac = int(now), int((now % 1) * 2**32)
        stamp = struct.pack("!II", sec, frac)
        return b"\x24\x02\x00\xe7" + b"\0" * 20 + stamp + stamp + stamp  # LI 0 v4 mode 4, stratum 2

    return reply
