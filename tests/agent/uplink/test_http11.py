"""The agent's HTTP/1.1 client (agent/uplink/http11.py) against answers written byte by byte on a real socket pair:
every framing a server may use, and answers that are not HTTP are errors, never hangs or huge reads."""

from __future__ import annotations

import socket
import threading

import pytest

from medic.agent.uplink.errors import UplinkError
from medic.agent.uplink.http11 import MAX_BODY, BadResponse, Connection, UnsafeRequest
from medic.agent.uplink.transport import Server


def _exchange(answer: bytes, method: str = "GET", body: bytes | None = None
              ) -> tuple[tuple[int, list[tuple[str, str]], bytes], bytes, Connection]:
    """Send one request to a peer that records what it got and answers ``answer``, then stops writing."""
    ours, theirs = socket.socketpair()
    got = bytearray()

    def peer() -> None:
        with theirs:
            theirs.settimeout(5)
            while b"\r\n\r\n" not in got:
                got.extend(theirs.recv(65536))
            head = bytes(got).partition(b"\r\n\r\n")[0]
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(got) < len(head) + 4 + length:
                got.extend(theirs.recv(65536))
            theirs.sendall(answer)
            theirs.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=peer)
    thread.start()
    ours.settimeout(5)
    conn = Connection(ours, "collector:8443")
    try:
        result = conn.request(method, "/files/1", {"Tus-Resumable": "1.0.0"}, body)
    finally:
        thread.join(5)
    return result, bytes(got), conn


def test_the_request_carries_host_length_and_the_whole_body() -> None:
    body = bytes(range(256)) * 1024  # past the 64 KiB the head and body are joined under: sent in two writes
    (status, headers, data), sent, conn = _exchange(b"HTTP/1.1 204 No Content\r\nUpload-Offset: 262144\r\n\r\n",
                                                    "PATCH", body)
    head, _, rest = sent.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "PATCH /files/1 HTTP/1.1"
    assert {"Host: collector:8443", "Content-Length: 262144", "Tus-Resumable: 1.0.0"} <= set(lines)
    assert rest == body
    assert (status, headers, data) == (204, [("Upload-Offset", "262144")], b"")
    assert not conn.closed


@pytest.mark.parametrize("answer, expected, closed", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello", False),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nhel\r\n2\r\nlo\r\n0\r\nT: 1\r\n\r\n", b"hello",
     False),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok", False),
    (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", b"ok", True),
    (b"HTTP/1.0 200 OK\r\n\r\nto the end", b"to the end", True),
    (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nk", b"k", False),
])
def test_every_framing_of_an_answer_is_read(answer: bytes, expected: bytes, closed: bool) -> None:
    (status, _, data), _, conn = _exchange(answer)
    assert (status, data, conn.closed) == (200, expected, closed)


def test_a_head_answer_has_no_body_whatever_its_length_says() -> None:
    (status, headers, data), _, _ = _exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nUpload-Offset: 7\r\n\r\n",
                                              "HEAD")
    assert (status, dict(headers)["Upload-Offset"], data) == (200, "7", b"")


@pytest.mark.parametrize("answer, error", [
    (b"", ConnectionResetError),
    (b"SSH-2.0-OpenSSH\r\n\r\n", BadResponse),
    (b"HTTP/1.1 2x0 OK\r\n\r\n", BadResponse),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", BadResponse),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", ConnectionResetError),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", BadResponse),
    (b"HTTP/1.1 200 OK\r\nContent-Length: " + str(MAX_BODY + 1).encode() + b"\r\n\r\n", BadResponse),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", BadResponse),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokNO", BadResponse),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * (70 * 1024) + b"\r\n\r\n", BadResponse),
    (b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 101 + b"\r\n", BadResponse),
])
def test_what_is_not_http_is_an_error(answer: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _exchange(answer)


@pytest.mark.parametrize("method, target, headers", [
    ("GET", "/files/1\r\nX-Injected: 1", {}),
    ("GET", "/files/1\n", {}),
    ("GET", "/files/1\x00", {}),
    ("GET", "/files/1 HTTP/1.0", {}),
    ("GET\r\n", "/files/1", {}),
    ("PATCH", "/files/1", {"Upload-Offset": "0\r\nAuthorization: Bearer other"}),
    ("PATCH", "/files/1", {"Upload-Checksum": "sha256 x\ny"}),
    ("PATCH", "/files/1", {"Upload-Metadata": "a\x00b"}),
    ("PATCH", "/files/1", {"X-Bad\r\nName": "1"}),
])
def test_cr_lf_or_nul_in_a_request_is_refused_before_anything_is_sent(method: str, target: str,
                                                                      headers: dict[str, str]) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        with pytest.raises(UnsafeRequest, match="would end it early"):
            Connection(ours, "collector:8443").request(method, target, headers, b"body")
        theirs.setblocking(False)
        with pytest.raises(BlockingIOError):
            theirs.recv(1)  # not a byte was written


def test_the_agent_refuses_a_server_location_with_a_nul_in_one_line() -> None:
    """Through the transport: one UplinkError (exit 5, the bundle kept), not a traceback or a split request."""
    server = Server("https://127.0.0.1:1", pin="sha256:" + "0" * 64)
    ours, theirs = socket.socketpair()
    server._conn = Connection(ours, "127.0.0.1:1")  # no TLS needed: nothing is sent
    with theirs, pytest.raises(UplinkError, match=r"^https://127.0.0.1:1: not sent: the request's target holds"):
        server.request("HEAD", server.location_path("https://127.0.0.1:1/files/ab%00\x00cd"))
    server.close()
    assert UplinkError.exit_code == 5
