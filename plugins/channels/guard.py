"""Which network addresses a channel may connect to: global unicast only, unless the site allows an exact address.

A notification URL comes from configuration that people copy around, and a webhook response can be read back by
whoever controls it: a channel must never be turned into a probe of the collector's own network or a cloud metadata
service. ``ipaddress``'s ``is_private`` is not enough (it passes 100.64.0.1, 224.0.0.1 and 64:ff9b::a9fe:a9fe, the
NAT64 form of 169.254.169.254), so an address is unwrapped first (IPv4-mapped, NAT64, 6to4, Teredo) and then must be
global, unicast and outside the special-purpose blocks listed below.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import time
from dataclasses import dataclass

from medic.kernel.errors import UsageError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Special-purpose blocks Python's is_global does not all exclude (RFC 6890 and successors), checked after unwrapping.
_BLOCKED = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8",
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")

ALLOW_ENV = "MEDIC_CHANNEL_ALLOW"
# a name's addresses are reused this long: glibc caches nothing, so a notification per step meant a DNS query per
# step. Safe against rebinding as before: the connection still goes to an address vetted at each send.
RESOLVE_CACHE_S = 30.0
_RESOLVED: dict[tuple[str, int], tuple[float, list[Address]]] = {}


class BlockedDestination(UsageError):
    """A channel URL resolves to an address channels may not reach (loopback, private, metadata, multicast...)."""


def embedded_ipv4(ip: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, NAT64, 6to4, Teredo server and client)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    packed = int(ip)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if ip in _SIXTOFOUR:
        found.append(ipaddress.IPv4Address((packed >> 80) & 0xFFFFFFFF))
    if ip in _TEREDO:
        server, client = ip.teredo or (None, None)
        found += [a for a in (server, client) if a is not None]
    return found


@functools.lru_cache(maxsize=256)  # 20 us for a global address (every block checked), at every send
def why_blocked(ip: Address) -> str | None:
    """None when ``ip`` is a global unicast address; else a short reason."""
    for inner in embedded_ipv4(ip):
        reason = why_blocked(inner)
        if reason:
            return f"{reason} (inside {ip})"
    for net in _BLOCKED:
        if ip.version == net.version and ip in net:
            return f"{ip} is in the special-purpose block {net}"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback or ip.is_link_local:
        return f"{ip} is not a unicast address"
    if not ip.is_global:
        return f"{ip} is not a global address"
    return None


@dataclass(frozen=True)
class Allowance:
    """Exact ``address:port`` pairs a site allows although they are not global (``MEDIC_CHANNEL_ALLOW``)."""

    pairs: frozenset[tuple[Address, int]]

    @classmethod
    def from_env(cls) -> Allowance:
        return cls.parse(os.environ.get(ALLOW_ENV, ""))

    @classmethod
    @functools.lru_cache(maxsize=16)  # a few allow-list texts per process: each parsed once
    def parse(cls, text: str) -> Allowance:
        pairs = set()
        for item in (p.strip() for p in text.split(",")):
            if not item:
                continue
            host, sep, port = item.rpartition(":")
            try:
                if not sep:
                    raise ValueError(item)
                pairs.add((ipaddress.ip_address(host.strip("[]")), int(port)))
            except ValueError:
                raise UsageError(f"{ALLOW_ENV}: {item!r} is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or "
                                 f"[::1]:8080)") from None
        return cls(frozenset(pairs))

    def permits(self, ip: Address, port: int) -> bool:
        return (ip, port) in self.pairs

    def describe(self) -> str:
        return ", ".join(f"[{ip}]:{p}" if ip.version == 6 else f"{ip}:{p}" for ip, p in sorted(
            self.pairs, key=lambda pair: (pair[0].version, int(pair[0]), pair[1]))) or "none"


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (numeric forms like ``127.1`` or ``2130706433`` included); a name's
    answer is kept ``RESOLVE_CACHE_S``."""
    numeric = _numeric(host)
    if numeric is not None:  # the canonical form needs no resolver
        return [numeric]
    now = time.monotonic()
    cached = _RESOLVED.get((host, port))
    if cached is not None and cached[0] > now:
        return cached[1]
    found = _getaddrinfo(host, port)
    _RESOLVED[(host, port)] = (now + RESOLVE_CACHE_S, found)
    return found


@functools.lru_cache(maxsize=64)
def _numeric(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _getaddrinfo(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"cannot resolve {host!r}: {exc}") from None
    seen: dict[Address, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    return list(seen)


def vet(host: str, port: int, allowance: Allowance) -> Address:
    """The address to connect to for ``host:port``; refuses when ANY address it resolves to is blocked, so a name
    that answers both a public and a private address cannot be used to reach the private one."""
    addresses = resolve(host, port)
    for ip in addresses:
        if allowance.permits(ip, port):
            continue
        reason = why_blocked(ip)
        if reason:
            raise BlockedDestination(
                f"channel destination {host}:{port} refused: {reason}; channels reach only global unicast "
                f"addresses (a test or lab receiver can be allowed with {ALLOW_ENV}=ADDRESS:PORT)")
    return addresses[0]
