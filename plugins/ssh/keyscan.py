"""``medic hosts trust``'s key exchange: the key a host offers, without logging in."""

from __future__ import annotations

import socket
from typing import Any

import paramiko

from medic.kernel.errors import TargetError
from medic.plugins.ssh import hostkeys
from medic.plugins.ssh.connection import Connection
from medic.plugins.ssh.inventory import HostConfig


def _prefer_pinned(transport: paramiko.Transport, pinned: list[paramiko.PKey]) -> None:
    """Ask for the pinned key types first (as ``connect`` and OpenSSH do), so a host that also offers another
    type presents the pinned key."""
    options = transport.get_security_options()
    first = [t for t in hostkeys.preferred_types(pinned) if t in options.key_types]
    options.key_types = first + [t for t in options.key_types if t not in first]


def fetch_host_key(host: HostConfig) -> paramiko.PKey:
    """The key a host offers (key exchange only, no authentication), of a pinned type if it has one; for
    ``medic hosts trust``."""
    jump = Connection(host.jump).open() if host.jump is not None else None
    try:
        if jump is not None:
            sock: Any = jump.transport.open_channel("direct-tcpip", (host.address, host.port),
                                                    ("127.0.0.1", 0), timeout=host.connect_timeout)
        else:
            sock = socket.create_connection((host.address, host.port), timeout=host.connect_timeout)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = host.connect_timeout
        _prefer_pinned(transport, hostkeys.read(host).pinned(hostkeys.lookup_name(host)))
        try:
            transport.start_client(timeout=host.connect_timeout)
            return transport.get_remote_server_key()
        finally:
            transport.close()
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise TargetError(f"host {host.name} ({host.address}:{host.port}): cannot fetch its key: "
                          f"{exc or type(exc).__name__}") from None
    finally:
        if jump is not None:
            jump.close()
