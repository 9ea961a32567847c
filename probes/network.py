"""Network probes: name resolution, TCP connect, default route, interfaces."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from medic.kernel.params import Param
from medic.kernel.probe import probe

try:
    import psutil
except ImportError:
    psutil = None  # type: ignore[assignment]


@probe(
    "dns_resolve",
    params=[
        Param("host", "string", description="name to resolve"),
        Param("timeout", "float", 5.0, "seconds"),
    ],
    description="Resolve a host name with the system resolver; addresses and latency.",
    live=True,
)
def dns_resolve(host: str, timeout: float = 5.0) -> dict[str, Any]:
    started = time.monotonic()
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        addresses = sorted({str(i[4][0]) for i in infos})
        return {
            "host": host,
            "ok": True,
            "addresses": addresses,
            "latency_ms": round(1000 * (time.monotonic() - started), 2),
            "error": None,
        }
    except (OSError, UnicodeError) as exc:
        return {
            "host": host,
            "ok": False,
            "addresses": [],
            "latency_ms": round(1000 * (time.monotonic() - started), 2),
            "error": str(exc),
        }
    finally:
        socket.setdefaulttimeout(old)


@probe(
    "tcp_connect",
    params=[
        Param("host", "string", description="host name or address"),
        Param("port", "int", description="TCP port"),
        Param("timeout", "float", 3.0, "seconds"),
    ],
    description="Open a TCP connection; whether it succeeded and how long it took.",
    live=True,
)
def tcp_connect(host: str, port: int, timeout: float = 3.0) -> dict[str, Any]:
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
        return {
            "host": host,
            "port": port,
            "ok": True,
            "latency_ms": round(1000 * (time.monotonic() - started), 2),
            "error": None,
        }
    except OSError as exc:
        return {
            "host": host,
            "port": port,
            "ok": False,
            "latency_ms": round(1000 * (time.monotonic() - started), 2),
            "error": str(exc) or type(exc).__name__,
        }


def _hex_ip(value: str) -> str:
    return socket.inet_ntoa(bytes.fromhex(value)[::-1])


@probe("routes", description="The IPv4 routing table (Linux /proc/net/route) with the default gateway.")
def routes() -> dict[str, Any]:
    table = []
    lines = Path("/proc/net/route").read_text().splitlines()[1:]
    for line in lines:
        f = line.split()
        if len(f) < 8:
            continue
        table.append(
            {
                "interface": f[0],
                "destination": _hex_ip(f[1]),
                "gateway": _hex_ip(f[2]),
                "flags": int(f[3], 16),
                "metric": int(f[6]),
                "mask": _hex_ip(f[7]),
            }
        )
    defaults = [r for r in table if r["destination"] == "0.0.0.0" and r["mask"] == "0.0.0.0"]  # noqa: S104
    ipv6_default = False
    try:
        for line in Path("/proc/net/ipv6_route").read_text().splitlines():
            f = line.split()
            if len(f) >= 10 and f[0] == "0" * 32 and f[1] == "00" and f[9] != "lo":
                ipv6_default = True
    except OSError:
        pass
    return {"routes": table, "default": defaults, "ipv6_default": ipv6_default}


@probe("interfaces", description="Network interfaces: up/down, addresses, MTU, speed.")
def interfaces() -> list[dict[str, Any]]:
    out = []
    if psutil is not None:
        stats, addrs = psutil.net_if_stats(), psutil.net_if_addrs()
        for name in sorted(set(stats) | set(addrs)):
            st = stats.get(name)
            out.append(
                {
                    "name": name,
                    "up": bool(st.isup) if st else False,
                    "mtu": st.mtu if st else 0,
                    "speed_mbps": st.speed if st else 0,
                    "addresses": [
                        a.address
                        for a in addrs.get(name, [])
                        if a.family in (socket.AF_INET, socket.AF_INET6)
                    ],
                }
            )
        return out
    ipv6 = _ipv6_by_interface()
    for dev in sorted(Path("/sys/class/net").iterdir()):
        state = (dev / "operstate").read_text().strip() if (dev / "operstate").exists() else "unknown"
        flags = int((dev / "flags").read_text(), 16) if (dev / "flags").exists() else 0
        out.append(
            {
                "name": dev.name,
                "up": bool(flags & 1) and state in ("up", "unknown"),
                "mtu": int((dev / "mtu").read_text()),
                "speed_mbps": 0,
                "addresses": _addresses(dev.name, ipv6),
            }
        )
    return out


def _ipv6_by_interface() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        f = line.split()
        if len(f) >= 6:
            out.setdefault(f[5], []).append(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(f[0])))
    return out


def _addresses(name: str, ipv6: dict[str, list[str]]) -> list[str]:
    """The interface's primary IPv4 address (SIOCGIFADDR) and its IPv6 addresses, without psutil."""
    import fcntl
    import struct

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            req = struct.pack("256s", name.encode()[:15])
            found.append(socket.inet_ntoa(fcntl.ioctl(sock.fileno(), 0x8915, req)[20:24]))  # SIOCGIFADDR
        except OSError:
            pass  # no IPv4 address on this interface
    return found + ipv6.get(name, [])


@probe("resolver_config", description="Resolver configuration from /etc/resolv.conf: nameservers, search.")
def resolver_config() -> dict[str, Any]:
    nameservers, search, options = [], [], []
    try:
        text = Path("/etc/resolv.conf").read_text()
    except OSError as exc:
        return {"present": False, "error": str(exc), "nameservers": [], "search": [], "options": []}
    for line in text.splitlines():
        f = line.split("#", 1)[0].split()
        if not f:
            continue
        if f[0] == "nameserver" and len(f) > 1:
            nameservers.append(f[1])
        elif f[0] in ("search", "domain"):
            search += f[1:]
        elif f[0] == "options":
            options += f[1:]
    return {"present": True, "error": None, "nameservers": nameservers, "search": search, "options": options}


PROXY_VARS = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy")


def _mask(value: str) -> str:
    """Hide credentials in a proxy URL (user:secret@host -> ***@host)."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    if "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


@probe(
    "proxy_env",
    description="Proxy environment variables (either case) as this process sees them, credentials masked.",
)
def proxy_env() -> dict[str, Any]:
    import os

    found: dict[str, str] = {}
    for name in PROXY_VARS:
        for variant in (name, name.upper()):
            if variant in os.environ:
                found[variant] = _mask(os.environ[variant]) if name != "no_proxy" else os.environ[variant]
    return {"variables": found}
