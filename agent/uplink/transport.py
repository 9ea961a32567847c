"""HTTPS to the collector with the server's identity checked first: a certificate pin or a private CA.

With ``--pin sha256:HEX`` the server certificate's DER is hashed on every new connection and compared before any
request (so before the bearer token leaves); with ``--ca FILE`` the chain and host name are verified by ssl.
Plain HTTP is refused. One connection is kept alive between requests and re-opened (and re-checked) after a
network error. HTTP/1.1 is spoken by http11.py (not http.client: lighter to import on every restart).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl

from medic.agent.uplink.errors import ServerIdentityError, UplinkError
from medic.agent.uplink.http11 import BadResponse, Connection, UnsafeRequest
from medic.kernel.errors import UsageError

TUS_VERSION = "1.0.0"
NETWORK_ERRORS = (OSError, BadResponse)


class Response:
    """A collector's answer (a plain class, as everything a restarting `medic-agent upload` imports: no
    dataclasses, whose inspect import costs each restart)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body  # headers: lower-case names

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def problem(self) -> str:
        """The RFC 9457 problem document's words (detail, title, field), else the status line's."""
        try:
            doc = json.loads(self.body.decode("utf-8")) if self.body else {}
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        text = str(doc.get("detail") or doc.get("title") or f"HTTP {self.status}")
        return f"{text} (field {doc['field']})" if doc.get("field") else text


def parse_pin(pin: str) -> str:
    """``sha256:HEX`` (colons inside HEX allowed) -> 64 lower-case hex digits; anything else is a usage error."""
    algo, _, digest = pin.partition(":")
    digest = digest.replace(":", "").lower()
    if algo.lower() != "sha256" or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise UsageError(f"--pin {pin!r}: expected sha256:<64 hex digits> (the server certificate's SHA-256)")
    return digest


_PLAIN_HOST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_PLAIN_PATH = _PLAIN_HOST | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_~/")


def plain_https(url: str) -> tuple[str, int, str] | None:
    """(host, port, path) of ``https://HOST[:PORT][/PATH]`` spelt plainly (a lower-case name or IPv4 address,
    digits for the port, a path of letters, digits and ``-._~/``), exactly as urllib.parse.urlsplit reads it; None
    for anything else, which urlsplit then reads. urllib.parse is not imported by a restarted upload: with pathlib
    it was 13 M of its 160 M instructions (bench/README-collector.md, session 14). tests/agent/uplink/
    test_transport_urls.py checks both readers agree."""
    if not url.startswith("https://"):
        return None
    authority, slash, path = url[8:].partition("/")
    host, colon, port = authority.partition(":")
    if not host or not _PLAIN_HOST.issuperset(host) or not _PLAIN_PATH.issuperset(path):
        return None
    if colon and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        return None
    return host, int(port) if colon else 0, slash + path


def parse_url(url: str) -> tuple[str, int, str]:
    """``https://host[:port][/prefix]`` -> (host, port, prefix); http:// and anything else are refused."""
    plain = plain_https(url)
    if plain is not None:
        return plain[0], plain[1] or 443, plain[2].rstrip("/")
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"collector URL {url!r}: expected https://HOST[:PORT] (plain HTTP is refused)")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise UsageError(f"collector URL {url!r}: {exc}") from None
    return parts.hostname, port, parts.path.rstrip("/")


def host_bytes(host: str) -> str | bytes:
    """An ASCII host name as bytes, which socket and ssl take as they are; a str goes through the "idna" codec,
    whose import (with stringprep and unicodedata) is a tenth of a restarted agent's imports. A non-ASCII (IDN)
    name stays a str, encoded as before."""
    return host.encode("ascii") if host.isascii() else host


class Server:
    """One collector, reached at ``url``; exactly one of ``pin`` (hex sha256) and ``ca`` (a PEM file) is set."""

    def __init__(self, url: str, pin: str | None = None, ca: str | None = None, timeout: float = 60.0) -> None:
        self.url, self.pin, self.ca, self.timeout = url, pin, ca, timeout
        self._conn: Connection | None = None
        self.host, self.port, self.prefix = parse_url(self.url)
        if (self.pin is None) == (self.ca is None):
            raise UsageError("give exactly one of --pin sha256:HEX and --ca FILE to verify the collector")

    def _context(self) -> ssl.SSLContext:
        if self.ca is not None:
            try:
                return ssl.create_default_context(cafile=self.ca)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"--ca {self.ca}: cannot load the CA certificate: {exc}") from None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = False  # the pin below is the identity check
        context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> Connection:
        host = host_bytes(self.host)
        # typeshed says str; getaddrinfo, which create_connection calls, takes bytes as well
        raw = socket.create_connection((host, self.port), timeout=self.timeout)  # type: ignore[arg-type]
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a request's head is not held back
            sock = self._context().wrap_socket(raw, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            raw.close()
            raise ServerIdentityError(f"{self.url}: the certificate does not verify against {self.ca}: "
                                      f"{exc.verify_message}; nothing was sent") from None
        except BaseException:
            raw.close()
            raise
        name = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        conn = Connection(sock, name if self.port == 443 else f"{name}:{self.port}")
        if self.pin is not None:
            seen = hashlib.sha256(sock.getpeercert(binary_form=True) or b"").hexdigest()
            if not hmac.compare_digest(seen, self.pin):
                conn.close()
                raise ServerIdentityError(f"{self.url}: the certificate's sha256 is {seen}, not the pinned "
                                          f"{self.pin}; nothing was sent")
        return conn

    def path(self, relative: str) -> str:
        """A path under the collector's URL (``/enroll`` -> ``/prefix/enroll``)."""
        return self.prefix + relative

    def location_path(self, location: str) -> str:
        """The path of a Location header; requests always go to this server (the token never leaves it)."""
        plain = plain_https(location)
        if plain is not None:
            return plain[2]
        from urllib.parse import urlsplit

        parts = urlsplit(location)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes | memoryview | None = None) -> Response:
        """One request (``path`` absolute on the server) on the kept-alive connection; a network error closes it
        (the next request reconnects and checks the server's identity again)."""
        if self._conn is None:
            self._conn = self._connect()
        try:
            status, answer, data = self._conn.request(method, path, headers or {}, body)
        except UnsafeRequest as exc:
            raise UplinkError(f"{self.url}: not sent: {exc}") from None
        except NETWORK_ERRORS:
            self.close()
            raise
        if self._conn.closed:
            self.close()
        return Response(status, {k.lower(): v for k, v in answer}, data)


def tus_headers(token: str, **extra: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": TUS_VERSION}
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return headers
