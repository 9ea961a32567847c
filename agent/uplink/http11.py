"""A minimal HTTP/1.1 client over one connected (TLS) socket: the few requests the agent makes to a collector.

Why not ``http.client``: it imports the ``email`` package (parser, feedparser, header, charset, utils with
datetime, calendar, locale, random), about a third of a restarting ``medic-agent upload``'s imports, and every
kill -9 of the agent pays a new process's imports again (bench/README-collector.md, "kill -9"). The agent's
requests are simple: a request line, headers and a body of known length; answers are small (tus headers, a
problem document, a receipt), framed by Content-Length, chunked transfer coding, or the connection's end.
Anything else is a :class:`BadResponse`, which callers treat as a network error (retry, or fail and keep the
bundle). A request whose method, target, Host or a header holds CR, LF or NUL (a server's Location, say) would be
split into another request or header: it is refused before anything is sent (:class:`UnsafeRequest`).
"""

from __future__ import annotations

import socket

MAX_LINE = 64 * 1024  # a status or header line
MAX_HEADERS = 100
MAX_BODY = 16 << 20  # answers are small documents; a server that sends more is not a collector
_NO_BODY = (204, 304)


class BadResponse(Exception):
    """The server's answer is not HTTP/1.x as this client reads it."""


class UnsafeRequest(ValueError):
    """A request that cannot be written as one HTTP/1.1 request: nothing of it was sent."""


def _refuse_breaks(what: str, text: str, also: str = "") -> None:
    for char in "\r\n\0" + also:
        if char in text:
            raise UnsafeRequest(f"the request's {what} holds {char!r}, which would end it early: {text[:80]!r}")


class Connection:
    """One kept-alive connection; ``request`` sends a request and reads its whole answer. After an answer that
    ends the connection (``Connection: close``, HTTP/1.0, a body read to its end) ``closed`` is True."""

    def __init__(self, sock: socket.socket, host: str) -> None:
        self.sock, self.host, self.closed = sock, host, False
        self._in = sock.makefile("rb")

    def close(self) -> None:
        self.closed = True
        self._in.close()
        self.sock.close()

    def request(self, method: str, target: str, headers: dict[str, str],
                body: bytes | memoryview | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers as sent, body). Raises OSError (the network), BadResponse, or UnsafeRequest (before
        sending anything)."""
        _refuse_breaks("method", method, " ")
        _refuse_breaks("target", target, " ")
        _refuse_breaks("Host", self.host)
        for name, value in headers.items():
            _refuse_breaks("header name", name, " :")
            _refuse_breaks(f"{name} header", value)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}", "Accept-Encoding: identity"]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body and len(body) <= 64 * 1024:
            self.sock.sendall(head + body)
        else:
            self.sock.sendall(head)
            if body:
                self.sock.sendall(body)  # a chunk of several MiB: not copied into one buffer with the head
        return self._answer(method)

    def _line(self) -> bytes:
        line = self._in.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadResponse("a header line longer than 64 KiB")
        return line

    def _answer(self, method: str) -> tuple[int, list[tuple[str, str]], bytes]:
        while True:
            status_line = self._line()
            if not status_line:
                raise ConnectionResetError("the server closed the connection without answering")
            version, status = _status(status_line)
            headers = self._headers()
            if not 100 <= status < 200:  # interim answers (100 Continue) are skipped
                break
        fields = {name.lower(): value for name, value in headers}
        keep = fields.get("connection", "").lower()
        self.closed = keep == "close" or (version == "HTTP/1.0" and keep != "keep-alive")
        if method == "HEAD" or status in _NO_BODY:
            return status, headers, b""
        if "chunked" in fields.get("transfer-encoding", "").lower():
            return status, headers, self._chunked()
        length = fields.get("content-length")
        if length is not None:
            if not length.strip().isdigit() or int(length) > MAX_BODY:
                raise BadResponse(f"Content-Length {length!r}")
            return status, headers, self._exactly(int(length))
        self.closed = True  # framed by the end of the connection
        data = self._in.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            raise BadResponse("an answer over 16 MiB")
        return status, headers, data

    def _headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        while True:
            line = self._line()
            if line in (b"\r\n", b"\n"):
                return headers
            if not line:
                raise ConnectionResetError("the connection ended inside the headers")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep or not name.strip() or len(headers) >= MAX_HEADERS:
                raise BadResponse(f"header line {line[:80]!r}")
            headers.append((name.strip(), value.strip()))

    def _exactly(self, n: int) -> bytes:
        data = self._in.read(n)
        if len(data) != n:
            raise ConnectionResetError(f"the connection ended after {len(data)} of {n} body bytes")
        return data

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise BadResponse(f"chunk size {size_line[:20]!r}") from None
            if size == 0:
                self._headers()  # trailers, ignored
                return b"".join(parts)
            total += size
            if size < 0 or total > MAX_BODY:
                raise BadResponse("an answer over 16 MiB")
            parts.append(self._exactly(size))
            if self._line().strip():
                raise BadResponse("no CRLF after a chunk")


def _status(line: bytes) -> tuple[str, int]:
    version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise BadResponse(f"status line {line[:80]!r}")
    return version, int(code)
