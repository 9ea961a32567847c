"""HTTP probe: one request with manual redirect following, latency and the server certificate's expiry."""

from __future__ import annotations

import http.client
import os
import ssl
import tempfile
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from medic.kernel.params import Param
from medic.kernel.probe import probe


def _cert_not_after(sock: Any) -> float | None:
    """notAfter of the peer certificate as epoch seconds, also when verification was off."""
    cert = sock.getpeercert()
    if not cert:  # unverified connection: decode the DER ourselves through the ssl module's own parser
        der = sock.getpeercert(binary_form=True)
        if not der:
            return None
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as fh:
            fh.write(ssl.DER_cert_to_PEM_cert(der))
        try:
            cert = ssl._ssl._test_decode_cert(fh.name)  # type: ignore[attr-defined]
        except (AttributeError, ssl.SSLError, ValueError):
            return None
        finally:
            os.unlink(fh.name)
    not_after = cert.get("notAfter")
    return float(ssl.cert_time_to_seconds(not_after)) if not_after else None


def _connection(url: str, timeout: float, verify: bool) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        ctx = ssl.create_default_context()
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout, context=ctx)
    if parts.scheme == "http":
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    raise ValueError(f"{url}: only http:// and https:// URLs are supported")


@probe(
    "http_request",
    params=[
        Param("url", "string", description="http:// or https:// URL"),
        Param("method", "string", "GET", "HTTP method", choices=("GET", "HEAD")),
        Param("timeout", "float", 10.0, "seconds per request"),
        Param("max_redirects", "int", 5, "redirects to follow"),
        Param("verify", "bool", True, "verify the TLS certificate and host name"),
    ],
    description="One HTTP(S) request following redirects: final status, latency, redirects, certificate "
    "expiry.",
    live=True,
)
def http_request(
    url: str, method: str = "GET", timeout: float = 10.0, max_redirects: int = 5, verify: bool = True
) -> dict[str, Any]:
    started = time.monotonic()
    out: dict[str, Any] = {
        "url": url,
        "ok": False,
        "status": None,
        "final_url": url,
        "redirects": 0,
        "cert_not_after": None,
        "cert_days_left": None,
        "error": None,
        "tls_error": None,
    }
    current = url
    try:
        for _ in range(max_redirects + 1):
            conn = _connection(current, timeout, verify)
            try:
                parts = urlsplit(current)
                conn.connect()
                if parts.scheme == "https" and out["cert_not_after"] is None and conn.sock is not None:
                    not_after = _cert_not_after(conn.sock)
                    out["cert_not_after"] = not_after
                    out["cert_days_left"] = round((not_after - time.time()) / 86400, 2) if not_after else None
                conn.request(
                    method,
                    (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                    headers={"User-Agent": "medic-probe/1", "Connection": "close"},
                )
                resp = conn.getresponse()
                resp.read(64 * 1024)
            finally:
                conn.close()
            out.update(status=resp.status, final_url=current)
            location = resp.getheader("Location")
            if resp.status in (301, 302, 303, 307, 308) and location and out["redirects"] < max_redirects:
                current = urljoin(current, location)
                out["redirects"] += 1
                continue
            break
        out["ok"] = True
    except ssl.SSLCertVerificationError as exc:
        out.update(
            error=f"TLS certificate verification failed: {exc.verify_message}", tls_error=exc.verify_message
        )
    except (OSError, http.client.HTTPException) as exc:
        out["error"] = str(exc) or type(exc).__name__
    out["latency_ms"] = round(1000 * (time.monotonic() - started), 2)
    return out
