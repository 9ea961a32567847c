"""Many loopback OpenSSH hosts for fleet tests: one sshd per 16 addresses (sshd listens on 16 at most).

``SshLab.start(root, n, prefix)`` gives ``n`` hosts ``prefix.1 ... prefix.n`` (n <= 254) on one free port, one host
key pinned in a known_hosts file of its own, a client key, and an inventory (JSON, which is YAML) naming them
``h1 ... hn``. Idle sshd processes cost nothing; each connection forks as a real host's sshd would.
"""

from __future__ import annotations

import json
import socket
import subprocess
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

PER_SSHD = 16  # sshd's MAX_LISTEN_SOCKS


@dataclass
class SshLab:
    root: Path
    addresses: list[str]
    port: int
    inventory: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def hosts(self) -> list[str]:
        return [f"h{i}" for i in range(1, len(self.addresses) + 1)]

    @classmethod
    def start(cls, root: Path, n: int, prefix: str = "127.0.9") -> SshLab:
        if not 0 < n <= 254:
            raise ValueError(f"{n} hosts: expected 1 to 254 (one /24 of loopback addresses)")
        addresses = [f"{prefix}.{i}" for i in range(1, n + 1)]
        for key in ("hostkey", "client"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / key)], check=True)
        (root / "authorized_keys").write_text((root / "client.pub").read_text())
        port = _free_port(addresses)
        lab = cls(root, addresses, port, root / "inventory.yaml")
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation directory (a tmpfs)
        for start in range(0, n, PER_SSHD):
            conf = root / f"sshd-{start // PER_SSHD}.conf"
            conf.write_text(_config(addresses[start:start + PER_SSHD], port, root))
            lab.processes.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)],
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        key = " ".join((root / "hostkey.pub").read_text().split()[:2])
        (root / "known_hosts").write_text("".join(f"[{a}]:{port} {key}\n" for a in addresses))
        lab.inventory.write_text(json.dumps({
            "known_hosts": str(root / "known_hosts"),
            "defaults": {"user": "root", "port": port, "key_file": str(root / "client"), "connect_timeout": 30,
                         "command_timeout": 300},
            "hosts": {name: {"address": a} for name, a in zip(lab.hosts, addresses, strict=True)}}))
        lab.wait_listening()
        return lab

    def wait_listening(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for address in self.addresses:
            while not _listening(address, self.port):
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                    self.stop()
                    raise RuntimeError(f"sshd did not listen on {address}:{self.port}")
                time.sleep(0.1)

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            p.wait(timeout=10)


def _config(addresses: list[str], port: int, root: Path) -> str:
    return "".join(f"ListenAddress {a}\n" for a in addresses) + textwrap.dedent(f"""\
        Port {port}
        HostKey {root / 'hostkey'}
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        AuthorizedKeysFile {root / 'authorized_keys'}
        StrictModes no
        UsePAM no
        PidFile none
        MaxStartups 200
        MaxSessions 50
        LogLevel ERROR
        """)


def _free_port(addresses: list[str]) -> int:
    """A port free on every address (another session's lab may hold some of the same addresses)."""
    for port in range(2700, 2900):
        try:
            for address in addresses:
                with socket.socket() as s:
                    s.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on every lab address in 2700-2899")


def _listening(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False
