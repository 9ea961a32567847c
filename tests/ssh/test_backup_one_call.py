"""A verified backup on an SSH host is one host call (issue 12): made, re-read and dry-run restored on the host in
one ``python3``, the verdict recorded here with the entry. The lab's ``files_b`` sshd sees LAB/shared where this
machine sees LAB/data/b."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from change_helpers import make_tree

from medic.plugins.change.providers.command import CommandProvider
from medic.plugins.change.providers.files import FilesProvider
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.hosts import Hosts
from medic.plugins.ssh import connection
from medic.plugins.ssh.hostcall import SSHHost
from medic.plugins.ssh.inventory import HostConfig


class CountingConnection(connection.Connection):
    """A real connection that counts the commands it runs (each host call is one)."""

    runs = 0

    def run(self, *args: Any, **kwargs: Any) -> connection.CommandResult:
        self.runs += 1
        return super().run(*args, **kwargs)


def _host(lab: Any, backup_dir: str) -> tuple[SSHHost, CountingConnection]:
    config = HostConfig(name="web", address=lab.address("files_b"), port=lab.port, user="root",
                        key_file=str(lab.client_key), known_hosts=str(lab.known_hosts), connect_timeout=8,
                        vars={"backup_dir": backup_dir})
    conn = CountingConnection(config).open()
    return SSHHost(config, lambda: conn), conn


def test_a_verified_files_backup_is_one_host_call_and_verifies_again_later(lab: Any, tmp_path: Path) -> None:
    name = tmp_path.name
    make_tree(lab.dir / "data" / "b" / name, seed=3)
    host, conn = _host(lab, str(lab.dir / "shared" / f"bk-{name}"))
    try:
        cat = Catalogue(tmp_path / "catalogue")
        entry = cat.take(FilesProvider(), {"path": str(lab.dir / "shared" / name)}, host, verify=True)
        assert conn.runs == 1
        kept = cat.get(entry["id"])
        assert kept["verification"]["ok"] and kept["verification"]["host"] == "web", kept["verification"]
        artifact = lab.dir / "data" / "b" / f"bk-{name}" / entry["id"] / "files.tar"
        assert artifact.stat().st_size == entry["size"]

        hosts = Hosts()
        hosts.add(host)
        assert cat.verify(kept, FilesProvider(), hosts) == []  # the later re-read agrees with the catalogue
        data = bytearray(artifact.read_bytes())
        data[len(data) // 3] ^= 0x01
        artifact.write_bytes(bytes(data))
        problems = cat.verify(kept, FilesProvider(), hosts)
        assert problems and cat.get(entry["id"])["verification"]["ok"] is False, problems
    finally:
        conn.close()


def test_a_backup_that_fails_its_verification_in_that_call_is_kept_and_reported(lab: Any, tmp_path: Path) -> None:
    host, conn = _host(lab, str(lab.dir / "shared" / f"bk-{tmp_path.name}"))
    params = {"resource": "snapshot:web-data", "create": ["sh", "-c", "echo snapshot > \"$MEDIC_BACKUP_DIR/s\""],
              "verify": ["sh", "-c", "echo 'snapshot unreadable: bad block 7' >&2; exit 1"], "restore": ["true"]}
    try:
        cat = Catalogue(tmp_path / "catalogue")
        entry = cat.take(CommandProvider(), params, host, verify=True)
        assert conn.runs == 1
        (problem,) = entry["verification"]["problems"]
        assert "verify command sh exited 1: snapshot unreadable: bad block 7" in problem
        assert cat.get(entry["id"])["verification"]["ok"] is False
    finally:
        conn.close()
