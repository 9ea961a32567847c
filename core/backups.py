"""Backups: the provider interface (hook ``register_backup_providers``) and the catalogue they are kept in.

A catalogue is a directory (``$MEDIC_BACKUP_DIR``, default ``STATE_DIR/backups``) with one sub-directory per
backup::

    <id>/entry.json     id, provider, resources, params, created, run, artifact name, sha256, size, manifest,
                        verification {ok, at, problems}
    <id>/<artifact>     what the provider wrote (a tar, a pg_dump archive, an SQLite copy...)

A backup is built in ``.tmp-<id>/``, every file fsynced, then renamed into place and the directory fsynced: a
backup is in the catalogue completely or not at all. Updates of ``entry.json`` are atomic renames too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medic.core import atomicio
from medic.core.hosts import LOCAL_HOST, LOCAL_ONLY, Host, Hosts
from medic.core.masking import masked
from medic.kernel.errors import EXIT_FINDINGS_FAILED, EXIT_USAGE, MedicError

ENTRY = "entry.json"
STAGING = ".tmp-"
CHUNK = 1 << 20


class BackupError(MedicError):
    """A backup could not be made, found, verified or restored; the message names the resource and what to
    do."""


class BackupNotFound(BackupError):
    exit_code = EXIT_USAGE


class BackupDamaged(BackupError):
    exit_code = EXIT_FINDINGS_FAILED


class Runner:
    """How a provider runs commands on the machine that holds the resource. Local now; SSH targets later
    provide their own (commands run there, the artifact stays there, hash and catalogue entry come back)."""

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            list(argv),
            capture_output=True,
            check=False,
            input=input,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )


LOCAL = Runner()


@dataclass
class Created:
    """What a provider wrote into the staging directory."""

    artifact: str  # file name inside the backup directory
    sha256: str  # of the artifact, computed while writing
    size: int
    manifest: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class BackupProvider(ABC):
    name: str = ""
    description: str = ""

    @abstractmethod
    def resources(self, params: Mapping[str, Any]) -> list[str]:
        """Resource names this backup covers (``file:/etc/app``, ``sqlite:/var/db.sqlite``,
        ``postgres:db``)."""

    def estimate(self, params: Mapping[str, Any], free: int = 0) -> int:
        """Bytes the backup will need (0: unknown), checked against the catalogue's ``free`` bytes; a cheap
        upper bound is fine when it is below ``free``."""
        return 0

    def describe(self, params: Mapping[str, Any]) -> str:
        return f"back up {', '.join(self.resources(params))} with {self.name}"

    @abstractmethod
    def create(self, params: Mapping[str, Any], staging: Path, runner: Runner) -> Created:
        """Write the backup into ``staging``."""

    @abstractmethod
    def dry_run(self, entry: Mapping[str, Any], directory: Path, runner: Runner) -> list[str]:
        """Prove the backup restores (list a tar, ``pg_restore --list``...) without touching the resource."""

    @abstractmethod
    def restore(
        self,
        entry: Mapping[str, Any],
        directory: Path,
        runner: Runner,
        only: Sequence[str] | None = None,
        into: Mapping[str, Any] | None = None,
    ) -> None:
        """Put the resource back as it was (``only`` some paths of it; ``into`` another place when
        supported)."""

    def compare(
        self,
        entry: Mapping[str, Any],
        directory: Path,
        runner: Runner,
        only: Sequence[str] | None = None,
        into: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """After a restore: differences between the resource and the backup (empty: identical)."""
        return []

    def reread(self, entry: Mapping[str, Any], directory: Path) -> tuple[str, list[str] | None]:
        """Hash the stored backup again; a provider may check its content in the same pass (problems), else
        None and :meth:`dry_run` runs after."""
        return self.digest(entry, directory), None

    def digest(self, entry: Mapping[str, Any], directory: Path) -> str:
        """Re-read the stored backup and hash it the way :meth:`create` did."""
        return sha256_file(directory / str(entry["artifact"]))


def new_backup_id(provider: str) -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + f"{provider}-{uuid.uuid4().hex[:6]}"


def public_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return masked(params)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fsync_tree(directory: Path) -> None:
    for p in directory.iterdir():
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    atomicio.fsync_dir(directory)


def _alive(pid: str) -> bool:
    """Whether a process with this id runs (a staging directory of a backup still being taken)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_staging(root: Path, temps: bool = True) -> list[Path]:
    """Under a backup location: remove backups a crash left half-built (their process is gone), and
    temporary entry files (``temps``: only when no other run may be writing one, as in ``medic recover``)."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for d in root.iterdir():
        if d.name.startswith(STAGING) and not _alive(d.name[len(STAGING) :].split("-", 1)[0]):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
        elif temps and d.is_dir():
            removed += atomicio.remove_temps(d)
    return removed


class Catalogue:
    """Catalogue entries on this machine; artifacts here too, or on the remote host that holds the resource
    (the entry's ``host`` and ``location``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def default(cls, config: Mapping[str, Any] | None = None) -> Catalogue:
        from medic.core.config import state_dir  # not needed on remote hosts, where backup_ops runs

        explicit = os.environ.get("MEDIC_BACKUP_DIR")
        return cls(Path(explicit).expanduser() if explicit else state_dir(dict(config or {})) / "backups")

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except PermissionError:
            raise BackupError(
                f"backup location {self.root}: permission denied; make it writable or set "
                f"MEDIC_BACKUP_DIR to a directory you can write"
            ) from None

    def take(
        self, provider: BackupProvider, params: Mapping[str, Any], host: Host | None = None, **meta: Any
    ) -> dict[str, Any]:
        """Make a backup on the host that holds the resource and put it in the catalogue atomically; nothing
        half-written is left on failure. On a remote host the artifact stays there (in its ``backup_root``)."""
        from medic.core.backup_ops import provider_ref

        host = host or LOCAL_HOST
        self._ensure_root()
        backup_id = new_backup_id(provider.name)
        entry: dict[str, Any] = {
            "id": backup_id,
            "provider": provider.name,
            "resources": provider.resources(params),
            "params": public_params(params),
            "created": datetime.now(UTC).isoformat(),
            "verification": None,
            **meta,
        }
        remote_root = host.backup_root()
        if remote_root is None:
            created = host.call("medic.core.backup_ops:create", provider=provider, params=params,
                                root=str(self.root), backup_id=backup_id, entry=entry)
            entry.update({k: v for k, v in created.items() if k != "directory"})
            return entry
        ref = provider_ref(provider)
        created = host.call("medic.core.backup_ops:create", needs=[ref.partition(":")[0]], provider=ref,
                            params=dict(params), root=remote_root, backup_id=backup_id,
                            setting=f"the host variable backup_dir of {host.name}")
        entry.update({k: v for k, v in created.items() if k != "directory"})
        entry.update(host=host.describe(), location=created["directory"])
        staging = self.root / f"{STAGING}{os.getpid()}-{backup_id}"
        staging.mkdir()
        try:
            (staging / ENTRY).write_text(json.dumps(entry, default=str), encoding="utf-8")
            fsync_tree(staging)
            os.rename(staging, self.root / backup_id)
            atomicio.fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return entry

    def directory(self, backup_id: str) -> Path:
        return self.root / backup_id

    def location(self, entry: Mapping[str, Any]) -> str:
        """The directory holding the artifact, on the entry's host."""
        return str(entry.get("location") or self.directory(str(entry["id"])))

    def get(self, backup_id: str) -> dict[str, Any]:
        path = self.root / backup_id / ENTRY
        if "/" in backup_id or backup_id.startswith(".") or not path.is_file():
            raise BackupNotFound(
                f"backup {backup_id!r} is not in the catalogue {self.root}; `medic backups list` "
                f"shows the backups there (or set MEDIC_BACKUP_DIR)"
            )
        entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return entry

    def entries(self) -> list[dict[str, Any]]:
        if not self.root.is_dir():
            return []
        out = []
        for d in sorted(self.root.iterdir()):
            if not d.name.startswith(".") and (d / ENTRY).is_file():
                with contextlib.suppress(ValueError, OSError):
                    out.append(json.loads((d / ENTRY).read_text(encoding="utf-8")))
        return out

    def update(self, entry: Mapping[str, Any]) -> None:
        atomicio.write_bytes(self.root / str(entry["id"]) / ENTRY, json.dumps(entry, default=str).encode())

    def remove_staging(self) -> list[Path]:
        """Remove backups a crash left half-built (their process is gone), and temporary entry files."""
        return remove_staging(self.root)

    def _on_host(self, function: str, entry: Mapping[str, Any], provider: BackupProvider, hosts: Hosts | None,
                 **kwargs: Any) -> tuple[Host, Any]:
        """Run a backup_ops function on the host that holds the entry's artifact."""
        from medic.core.backup_ops import provider_ref

        host = (hosts or LOCAL_ONLY).get(entry.get("host"))
        local = host is LOCAL_HOST
        value = host.call(f"medic.core.backup_ops:{function}", needs=[type(provider).__module__],
                          provider=provider if local else provider_ref(provider), entry=dict(entry),
                          directory=self.location(entry), **kwargs)
        return host, value

    def verify(self, entry: dict[str, Any], provider: BackupProvider, hosts: Hosts | None = None) -> list[str]:
        """Re-read the artifact on its host against the hash kept here, then a restore dry-run; the result
        is kept in the entry."""
        host, got = self._on_host("check", entry, provider, hosts)
        problems: list[str] = list(got["problems"])
        if not problems and got["digest"] != entry["sha256"]:  # the host's word is not enough
            problems = [f"hash mismatch on {host.name}: catalogue {entry['sha256'][:16]}..., read "
                        f"{str(got['digest'])[:16]}... (the backup is damaged; take a new one)"]
        entry["verification"] = {
            "ok": not problems,
            "at": datetime.now(UTC).isoformat(),
            "problems": problems,
            **({"host": host.name} if entry.get("host") else {}),
        }
        self.update(entry)
        return problems

    def restore(self, entry: Mapping[str, Any], provider: BackupProvider, hosts: Hosts | None = None,
                only: Sequence[str] | None = None, into: Mapping[str, Any] | None = None) -> None:
        self._on_host("restore", entry, provider, hosts, only=list(only) if only else None,
                      into=dict(into) if into else None)

    def compare(self, entry: Mapping[str, Any], provider: BackupProvider, hosts: Hosts | None = None,
                only: Sequence[str] | None = None, into: Mapping[str, Any] | None = None) -> list[str]:
        _, diffs = self._on_host("compare", entry, provider, hosts, only=list(only) if only else None,
                                 into=dict(into) if into else None)
        return list(diffs)
