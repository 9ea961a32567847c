"""Consistent pseudonyms for e-mail addresses, user names, host names and IP addresses.

The same original always gets the same pseudonym within one :class:`Pseudonymiser` (``host-1``,
``user-1``, ``user-1@example.invalid``, ``10.255.0.1``, ``fd00:ffff::1``). ``mapping`` (original ->
pseudonym) is for the user's machine only: never put it in a bundle.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from medic.agent.redact.keys import tag
from medic.agent.redact.repeat import KnownSecrets

_EMAIL = re.compile(
    r"(?<![\w.+%-])(?P<local>[A-Za-z0-9._%+-]+)@"
    r"(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?![\w-])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:.])")
PSEUDO_DOMAIN = "example.invalid"


def ipv4_pseudonym(n: int) -> str:
    """The n-th (from 1) pseudonymous IPv4 address: 10.255.0.1 ... 10.255.255.254, then 10.254.0.1 ..."""
    rest = (n - 1) // 254
    return f"10.{255 - rest // 256}.{rest % 256}.{(n - 1) % 254 + 1}"


def _is_netmask(addr: ipaddress.IPv4Address) -> bool:
    bits = int(addr)
    inverted = ~bits & 0xFFFFFFFF
    return bits != 0 and (inverted & (inverted + 1)) == 0  # ones then zeros: 255.255.255.0


def each_string(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` (any JSON value) with ``change`` applied to every string in it, dict keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {change(str(k)): each_string(v, change) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [each_string(v, change) for v in value]
    return value


class SecretLabels:
    """Numbers redacted values: the same secret gets the same number wherever it is found (one per bundle).

    The numbers say "these two are equal", nothing more. The values themselves are held in memory only, in
    ``known``, so that their other occurrences in the bundle are redacted too (:mod:`~medic.agent.redact.repeat`).
    """

    def __init__(self) -> None:
        self._numbers: dict[bytes, int] = {}
        self.known = KnownSecrets()

    def number(self, secret: str) -> int:
        digest = hashlib.sha256(secret.strip().encode("utf-8", "surrogatepass")).digest()
        return self._numbers.setdefault(digest, len(self._numbers) + 1)

    def tag(self, rule: str, secret: str) -> str:
        """``secret``'s tag (``[REDACTED:rule#n]``), remembered for its other occurrences."""
        tagged = tag(rule, self.number(secret))
        self.known.remember(secret, rule, tagged)
        return tagged


class Pseudonymiser:
    def __init__(self, *, users: Iterable[str] = (), hosts: Iterable[str] = (),
                 emails: bool = True, ips: bool = True) -> None:
        self.emails = emails
        self.ips = ips
        self._map: dict[tuple[str, str], str] = {}
        self._produced: set[str] = set()  # pseudonyms already handed out: never pseudonymised again
        self._counters: dict[str, int] = {}
        self._users = self._alternation(users)
        self._host_alias = {h.split(".")[0].lower(): h.lower() for h in hosts if h}
        self._hosts = self._alternation({*self._host_alias, *self._host_alias.values()})

    @property
    def mapping(self) -> dict[str, str]:
        """Original -> pseudonym, for the user's machine only."""
        return {original: pseudo for (kind, original), pseudo in self._map.items()
                if not (kind == "user" and "@" in original)}

    def text(self, text: str) -> str:
        if self.emails:
            text = _EMAIL.sub(self._email, text)
        if self._hosts:
            text = self._hosts.sub(self._host, text)
        if self._users:
            text = self._users.sub(lambda m: self._pseudo("user", m.group(0)), text)
        if self.ips:
            text = _IPV6.sub(self._ipv6, text)
            text = _IPV4.sub(self._ipv4, text)
        return text

    def value(self, value: Any) -> Any:
        """Pseudonymise every string (and dict key) inside a JSON value."""
        return each_string(value, self.text)

    # -- internals --
    @staticmethod
    def _alternation(names: Iterable[str]) -> re.Pattern[str] | None:
        usable = sorted({n for n in names if len(n) >= 2}, key=len, reverse=True)
        if not usable:
            return None
        body = "|".join(re.escape(n) for n in usable)
        return re.compile(rf"(?<![\w.-])(?:{body})(?![\w-])", re.I)

    def _pseudo(self, kind: str, original: str) -> str:
        key = (kind, original)
        if key not in self._map:
            n = self._counters[kind] = self._counters.get(kind, 0) + 1
            if kind == "ipv4":
                self._map[key] = ipv4_pseudonym(n)
            elif kind == "ipv6":
                self._map[key] = f"fd00:ffff::{n:x}"
            else:
                self._map[key] = f"{kind}-{n}"
            self._produced.add(self._map[key])
        return self._map[key]

    def _email(self, match: re.Match[str]) -> str:
        if match.group("domain").lower() == PSEUDO_DOMAIN:
            return match.group(0)
        local, address = match.group("local"), match.group(0)
        listed = self._users is not None and self._users.fullmatch(local) is not None
        pseudo = f"{self._pseudo('user', local if listed else address.lower())}@{PSEUDO_DOMAIN}"
        self._map[("email", address)] = pseudo
        return pseudo

    def _host(self, match: re.Match[str]) -> str:
        name = match.group(0).lower()
        return self._pseudo("host", self._host_alias.get(name, name))

    def _ipv4(self, match: re.Match[str]) -> str:
        try:
            addr = ipaddress.IPv4Address(match.group(0))
        except ValueError:
            return match.group(0)
        if (addr.is_loopback or addr.is_unspecified or addr.is_multicast or _is_netmask(addr)
                or match.group(0) in self._produced):
            return match.group(0)
        return self._pseudo("ipv4", match.group(0))

    def _ipv6(self, match: re.Match[str]) -> str:
        try:
            addr = ipaddress.IPv6Address(match.group(0))
        except ValueError:
            return match.group(0)
        if addr.is_loopback or addr.is_unspecified or addr.is_multicast or match.group(0) in self._produced:
            return match.group(0)
        return self._pseudo("ipv6", str(addr))
