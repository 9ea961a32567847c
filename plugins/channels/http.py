"""The one HTTP client every channel uses: resolve, vet every address, connect to the vetted address.

The name is resolved once and the connection goes to the address that was checked (TLS still verifies the
certificate for the name, sent as SNI), so a DNS answer that changes between check and connect (rebinding) cannot
redirect the request. Proxies from the environment are ignored for the same reason. Redirects are not followed
unless the caller asks, and then every hop is vetted again.
"""

from __future__ import annotations

import functools
import logging
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medic.core.channel import DeliveryError
from medic.kernel.errors import UsageError
from medic.plugins.channels.guard import Allowance, BlockedDestination, vet

if TYPE_CHECKING:  # httpx (and the rich, click and pygments of its CLI) load when a channel sends or is checked
    import httpx


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def check_url(url: str, allowance: Allowance) -> httpx.URL:
    """Parse and vet a channel URL's form (scheme, host) without connecting."""
    return _parsed(url)


@functools.lru_cache(maxsize=64)  # a channel sends to the same few URLs; an httpx.URL is immutable
def _parsed(url: str) -> httpx.URL:
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UsageError(f"channel URL {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise UsageError(f"channel URL {url!r}: expected https://HOST/...")
    if parsed.userinfo:
        raise UsageError(f"channel URL for {parsed.host}: put credentials in the channel's secret options, not the URL")
    return parsed


class _HideUrlSecrets(logging.Filter):
    """httpx logs every request's full URL at INFO; a chat webhook's path and query are its credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (isinstance(record.msg, str) and record.msg.startswith("HTTP Request:")
                and isinstance(record.args, tuple) and len(record.args) > 1):
            import httpx

            url = httpx.URL(str(record.args[1]))
            record.args = (record.args[0], f"{url.scheme}://{url.netloc.decode('ascii')}/…", *record.args[2:])
        return True


logging.getLogger("httpx").addFilter(_HideUrlSecrets())


@functools.lru_cache(maxsize=8)
def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """One context per trust setting and process: loading the CA bundle took 20 ms, 70 % of a delivery."""
    import httpx

    if isinstance(verify, str):  # a private CA's file (httpx deprecates passing its path)
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify, trust_env=False)


@functools.lru_cache(maxsize=32)
def _pool(timeout: float, verify: bool | str, name: str) -> httpx.Client:
    """Kept-alive connections per destination name and process: a connection whose certificate was checked for
    one name is never reused for another name on the same address."""
    import httpx

    from medic.plugins.channels.onewrite import one_write

    client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls_context(verify))
    for implied in ("accept", "connection"):  # what HTTP/1.1 assumes without them: any type, kept alive
        del client.headers[implied]
    return one_write(client)


@functools.lru_cache(maxsize=64)  # building the URL took as long as signing the body
def _connect_url(target: httpx.URL, ip: str) -> tuple[httpx.URL, str]:
    """The URL with the vetted address in place of the name, and the name (and port) for the Host header."""
    return target.copy_with(host=ip), target.netloc.decode("ascii")


class GuardedClient:
    """Sends to vetted addresses only (every request resolves and vets the name again)."""

    def __init__(self, allowance: Allowance | None = None, timeout: float = 10.0, verify: bool | str = True) -> None:
        self.allowance = allowance if allowance is not None else Allowance.from_env()
        self.timeout = timeout
        self.verify = verify

    def close(self) -> None:
        """Nothing to release: connections stay in the per-process pool for the next delivery."""

    def __enter__(self) -> GuardedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post(self, url: str, body: bytes, headers: dict[str, str], redirects: int = 0) -> Reply:
        """POST ``body``; follow at most ``redirects`` redirects (each hop vetted). Raises DeliveryError."""
        return self.request("POST", url, body, headers, redirects)

    def request(self, method: str, url: str, body: bytes, headers: dict[str, str], redirects: int = 0) -> Reply:
        """Send ``body`` with ``method``; redirects as for :meth:`post`."""
        target = check_url(url, self.allowance)
        for _hop in range(redirects + 1):
            reply = self._send_once(method, target, body, headers)
            location = reply.headers.get("location")
            if reply.status not in (301, 302, 303, 307, 308) or not location:
                return reply
            if _hop == redirects:
                break
            target = check_url(str(target.join(location)), self.allowance)
        raise DeliveryError(f"{target.host} answered with a redirect ({reply.status}); channels do not follow "
                            f"redirects here: configure the final URL", retryable=False)

    def _send_once(self, method: str, target: httpx.URL, body: bytes, headers: dict[str, str]) -> Reply:
        host = target.host
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            ip = vet(host, port, self.allowance)
        except BlockedDestination:
            raise
        except UsageError as exc:  # the name did not resolve: DNS may answer on the next attempt
            raise DeliveryError(str(exc), retryable=True) from None
        if target.scheme == "http" and not self.allowance.permits(ip, port):
            raise UsageError(f"channel URL for {host}: plain http is only for an allowed lab address; use https")
        connect, netloc = _connect_url(target, str(ip))
        import httpx

        try:
            client = _pool(self.timeout, self.verify, host)
            response = client.request(method, connect, content=body, headers={**headers, "Host": netloc},
                                   extensions={"sni_hostname": host} if target.scheme == "https" else {})
        except httpx.TimeoutException:
            raise DeliveryError(f"{host}: timed out", retryable=True) from None
        except httpx.TransportError as exc:
            raise DeliveryError(f"{host}: {type(exc).__name__}: {exc}", retryable=True) from None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers.raw}  # items()
        return Reply(response.status_code, headers, response.content)  # decoded each one several times


def classify(reply: Reply, what: str) -> None:
    """Raise the DeliveryError a non-2xx reply means: 429/5xx retryable, 410 gone, other 4xx permanent."""
    if 200 <= reply.status < 300:
        return
    if reply.status == 410:
        raise DeliveryError(f"{what} answered 410 Gone: endpoint disabled", retryable=False, gone=True)
    if reply.status == 429 or reply.status >= 500:
        raise DeliveryError(f"{what} answered {reply.status}", retryable=True,
                            retry_after=_retry_after(reply.headers.get("retry-after")))
    raise DeliveryError(f"{what} answered {reply.status}", retryable=False)
