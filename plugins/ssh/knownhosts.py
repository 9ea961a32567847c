"""Read an OpenSSH known_hosts file, marker lines included.

paramiko's own reader takes ``@revoked`` and ``@cert-authority`` lines for host names and crashes on their key
("Incorrect padding"). This reader follows OpenSSH (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):

* plain lines pin keys (hashed ``|1|salt|hash`` names and ``[host]:port`` as paramiko reads them);
* ``@revoked`` lines name keys that are refused for the hosts they match (``*`` and ``?`` patterns, ``!``
  negation, hashed names), even when the same key is pinned elsewhere;
* ``@cert-authority`` lines are skipped with one warning per file: paramiko does not verify host certificates,
  so medic verifies a host by its own pinned key only;
* malformed lines are skipped, as OpenSSH does.

A fleet opens hundreds of hosts against one file: it is parsed once per version (its size, mtime and inode: a
``medic hosts trust`` meanwhile is seen) and plain host names are looked up in an index, not matched line by line
(a 200-line file for 200 hosts cost 40,000 key parses and pattern matches, about 6 ms of CPU per connection).
"""

from __future__ import annotations

import binascii
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from medic.kernel.errors import TargetError

if TYPE_CHECKING:
    import paramiko

_WARNED: set[str] = set()
_WARNED_LOCK = threading.Lock()


@dataclass
class Marked:
    patterns: list[str]
    key: paramiko.PKey
    line: int


@dataclass
class KnownHosts:
    path: Path
    plain: list[Marked] = field(default_factory=list)
    revoked: list[Marked] = field(default_factory=list)
    authorities: list[int] = field(default_factory=list)  # line numbers of @cert-authority lines
    # plain lines by each literal host name they list; lines with a wildcard, hashed or negated name: by_pattern
    by_name: dict[str, list[Marked]] = field(default_factory=dict)
    by_pattern: list[Marked] = field(default_factory=list)

    def pinned(self, name: str) -> list[paramiko.PKey]:
        """Keys pinned for ``name``, without the ones revoked for it."""
        lines = {id(m): m for m in (*self.by_name.get(name.lower(), ()), *self.by_pattern)}
        ordered = sorted(lines.values(), key=lambda m: m.line)  # the file's order, as a scan gives
        return [m.key for m in ordered if matches(m.patterns, name) and self.revoked_line(name, m.key) is None]

    def add_plain(self, entry: Marked) -> None:
        self.plain.append(entry)
        if any(_is_pattern(p) for p in entry.patterns):
            self.by_pattern.append(entry)
            return
        for pattern in entry.patterns:
            self.by_name.setdefault(pattern.lower(), []).append(entry)


    def revoked_line(self, name: str, key: paramiko.PKey) -> int | None:
        blob = key.asbytes()
        return next((m.line for m in self.revoked if m.key.asbytes() == blob and matches(m.patterns, name)),
                    None)


def _is_pattern(pattern: str) -> bool:
    """A name that only a match can tell (hashed, wildcard, negated), not a literal host name."""
    return pattern.startswith(("|", "!")) or "*" in pattern or "?" in pattern


def _pattern_hit(pattern: str, name: str) -> bool:
    if pattern.startswith("|1|"):
        import paramiko

        salt = pattern.split("|")[2]
        return paramiko.HostKeys.hash_host(name, salt) == pattern
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.IGNORECASE) is not None


def matches(patterns: list[str], name: str) -> bool:
    """OpenSSH's rule: some pattern matches and no negated (``!``) pattern does."""
    hit = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if _pattern_hit(pattern[1:], name):
                return False
        elif _pattern_hit(pattern, name):
            hit = True
    return hit


def _key(key_type: str, data: str) -> paramiko.PKey | None:
    import paramiko

    try:
        return paramiko.PKey.from_type_string(key_type, binascii.a2b_base64(data))
    except (binascii.Error, ValueError, paramiko.SSHException):
        return None  # unknown key type or damaged base64: OpenSSH skips the line too


_CACHE: dict[Path, tuple[tuple[int, ...], KnownHosts]] = {}
_CACHE_LOCK = threading.Lock()


def read(path: Path) -> KnownHosts:
    """The file's entries, parsed again only when it changed (size, mtime or inode); treat them as read-only."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return KnownHosts(path)
    except OSError as exc:
        raise TargetError(f"cannot read known_hosts file {path}: {exc}") from None
    version = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
    with _CACHE_LOCK:  # one parse even when a fleet's threads connect at once
        cached = _CACHE.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        known = _parse(path)
        _CACHE[path] = (version, known)
    _warn_authorities(known)
    return known


def _parse(path: Path) -> KnownHosts:
    known = KnownHosts(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return known
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot read known_hosts file {path}: {exc}") from None
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) if fields[0].startswith("@") else None
        if marker == "@cert-authority":
            known.authorities.append(number)
            continue
        if len(fields) < 3 or marker not in (None, "@revoked"):
            continue
        key = _key(fields[1], fields[2])
        if key is not None:
            entry = Marked(fields[0].split(","), key, number)
            if marker:
                known.revoked.append(entry)
            else:
                known.add_plain(entry)
    return known


def _warn_authorities(known: KnownHosts) -> None:
    if not known.authorities:
        return
    with _WARNED_LOCK:
        if str(known.path) in _WARNED:
            return
        _WARNED.add(str(known.path))
    lines = ", ".join(str(n) for n in known.authorities)
    print(f"medic: warning: {known.path} line {lines}: @cert-authority skipped (medic does not verify host "
          f"certificates; hosts are checked against their own pinned keys)", file=sys.stderr)
