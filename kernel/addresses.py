"""Whether a host name or address is this machine's loopback: the one place where plaintext, missing auth or a
test-only option is allowed (SMTP without TLS, the cases page without a token, a Prefect API without auth)."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (brackets of an IPv6 URL host allowed); never a name that resolves."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
