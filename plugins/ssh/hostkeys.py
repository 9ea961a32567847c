"""Host keys: which known_hosts file applies, fingerprints, lookups and pinning (``medic hosts trust``).

Keys are only ever added by :func:`pin`, called on an explicit request. Connections verify with paramiko's
``RejectPolicy``: an unknown host is refused, a changed key is a hard error naming both fingerprints.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medic.kernel.errors import TargetError
from medic.plugins.ssh import knownhosts
from medic.plugins.ssh.inventory import HostConfig

if TYPE_CHECKING:
    import paramiko


def known_hosts_file(host: HostConfig) -> Path:
    return Path(host.known_hosts).expanduser() if host.known_hosts else Path.home() / ".ssh" / "known_hosts"


def lookup_name(host: HostConfig) -> str:
    """The name a known_hosts line uses: ``addr`` on port 22, ``[addr]:port`` otherwise."""
    return host.address if host.port == 22 else f"[{host.address}]:{host.port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: ``SHA256:`` and unpadded base64 of the key blob's SHA-256."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def describe(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {fingerprint(key)}"


@dataclass(frozen=True)
class KnownKey:
    status: str  # "match", "missing", "changed" or "revoked"
    expected: list[str]  # descriptions of the pinned keys for this host
    revoked_line: int | None = None  # the @revoked line that names the presented key


def read(host: HostConfig) -> knownhosts.KnownHosts:
    return knownhosts.read(known_hosts_file(host))


def compare(host: HostConfig, key: paramiko.PKey) -> KnownKey:
    known = read(host)
    name = lookup_name(host)
    revoked = known.revoked_line(name, key)
    pinned = known.pinned(name)
    expected = [describe(k) for k in pinned]
    if revoked is not None:
        return KnownKey("revoked", expected, revoked)
    if not pinned:
        return KnownKey("missing", [])
    if any(k.asbytes() == key.asbytes() for k in pinned):
        return KnownKey("match", expected)
    return KnownKey("changed", expected)


def preferred_types(pinned: list[paramiko.PKey]) -> list[str]:
    """Host key algorithms to ask for first, as OpenSSH orders them for a pinned host: an RSA pin is asked
    for with its SHA-2 signatures."""
    types: list[str] = []
    for key in pinned:
        name = key.get_name()
        for algorithm in (("rsa-sha2-512", "rsa-sha2-256") if name == "ssh-rsa" else (name,)):
            if algorithm not in types:
                types.append(algorithm)
    return types


def revoked_error(host: HostConfig, got: paramiko.PKey, line: int) -> TargetError:
    return TargetError(
        f"host {host.name} ({host.address}:{host.port}): REVOKED HOST KEY: the server presented {describe(got)}, "
        f"which {known_hosts_file(host)} line {line} marks @revoked; refusing to connect (a stolen key may be "
        f"impersonating this host)")


def changed_key_error(host: HostConfig, got: paramiko.PKey, expected: list[str]) -> TargetError:
    file = known_hosts_file(host)
    return TargetError(
        f"host {host.name} ({host.address}:{host.port}): HOST KEY CHANGED, refusing to connect. {file} pins "
        f"{', '.join(expected)}; the server presented {describe(got)}. This may be an attack; if the change "
        f"is expected, remove the old key (ssh-keygen -R '{lookup_name(host)}' -f {file}) and run "
        f"`medic hosts trust {host.name}`")


def unknown_key_error(host: HostConfig, got: paramiko.PKey | None) -> TargetError:
    offered = f" (it offers {describe(got)})" if got is not None else ""
    return TargetError(
        f"host {host.name} ({host.address}:{host.port}) is not in {known_hosts_file(host)}{offered}; verify "
        f"the fingerprint with the host's administrator, then run `medic hosts trust {host.name}`")


def pin(host: HostConfig, key: paramiko.PKey) -> Path:
    """Append ``key`` for ``host`` to its known_hosts file (created 0600, parent 0700 if missing)."""
    path = known_hosts_file(host)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = f"{lookup_name(host)} {key.get_name()} {key.get_base64()}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        if fh.tell() > 0 and not path.read_bytes().endswith(b"\n"):
            fh.write("\n")
        fh.write(line)
    return path
