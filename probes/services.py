"""Service probes: listening sockets and systemd units."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.probe import Command, probe

_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def _addr(hex_addr: str) -> tuple[str, int]:
    ip_hex, port_hex = hex_addr.split(":")
    raw = bytes.fromhex(ip_hex)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # IPv6: four little-endian 32-bit words
        ip = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
    return ip, int(port_hex, 16)


def parse_proc_net(text: str, proto: str) -> list[dict[str, Any]]:
    """Listening TCP / bound UDP sockets from a /proc/net/{tcp,tcp6,udp,udp6} table."""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10:
            continue
        if proto.startswith("tcp") and f[3] != _LISTEN:
            continue
        if proto.startswith("udp") and f[2].split(":")[0].strip("0") != "":
            continue  # a connected UDP socket, not a server
        ip, port = _addr(f[1])
        out.append({"proto": proto, "address": ip, "port": port, "inode": int(f[9])})
    return out


@probe("listening_sockets", description="TCP sockets in LISTEN state and bound UDP sockets (/proc/net).")
def listening_sockets() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            out += parse_proc_net(Path(f"/proc/net/{proto}").read_text(), proto)
        except OSError:
            continue
    if not out and not Path("/proc/net/tcp").exists():
        raise ProbeUnavailable("no /proc/net on this system")
    seen = set()
    unique = []
    for s in out:
        key = (s["proto"], s["address"], s["port"])
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique


def _systemd() -> None:
    if not os.path.isdir("/run/systemd/system"):
        raise ProbeUnavailable("systemd is not the init system here (no /run/systemd/system)")


@probe(
    "systemd_units", description="All systemd units with load, active and sub state (systemctl list-units)."
)
def systemd_units() -> list[dict[str, str]]:
    _systemd()
    try:
        proc = subprocess.run(
            LIST_UNITS.argv({}),
            capture_output=True,
            timeout=20,
            check=False,
            env={**os.environ, "LC_ALL": "C", "SYSTEMD_COLORS": "0"},
        )
    except FileNotFoundError:
        raise ProbeUnavailable("systemctl is not installed") from None
    if proc.returncode != 0:
        raise ProbeUnavailable(f"systemctl failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
    return list(LIST_UNITS.parse(proc.stdout.decode(errors="replace"), {}))


def parse_list_units(text: str) -> list[dict[str, str]]:
    units = []
    for line in text.splitlines():
        f = line.lstrip("● ").split(None, 4)
        if len(f) >= 4:
            units.append(
                {
                    "unit": f[0],
                    "load": f[1],
                    "active": f[2],
                    "sub": f[3],
                    "description": f[4] if len(f) > 4 else "",
                }
            )
    return units


LIST_UNITS = Command.fixed(["systemctl", "list-units", "--all", "--no-legend", "--no-pager", "--plain", "--full"],
                           lambda text, _params: parse_list_units(text))
