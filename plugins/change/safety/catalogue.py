"""The catalogue of backups, kept on this machine (artifacts here too, or on the remote host that holds the
resource).

A catalogue is a directory (``$MEDIC_BACKUP_DIR``, default ``STATE_DIR/backups``) with one sub-directory per
backup::

    <id>/entry.json     id, provider, resources, params, created, run, artifact name, sha256, size, manifest,
                        verification {ok, at, problems}
    <id>/<artifact>     what the provider wrote (a tar, a pg_dump archive, an SQLite copy...)

A backup is built in ``.tmp-<id>/``, every file fsynced, then renamed into place and the directory fsynced: a
backup is in the catalogue completely or not at all. Updates of ``entry.json`` are atomic renames too. The work
on the artifact runs on its host through the host functions of
:mod:`medic.plugins.change.safety.backup_ops` (``backup.create``, ``backup.check``...).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medic.core.config import state_dir
from medic.core.hosts import Host
from medic.kernel.masking import masked
from medic.plugins.change.safety import (
    atomicio,
    backup_ops,  # noqa: F401 - registers the backup.* host functions
)
from medic.plugins.change.safety.backups import (
    ENTRY,
    STAGING,
    BackupError,
    BackupNotFound,
    BackupProvider,
    fsync_tree,
    remove_staging,
)
from medic.plugins.change.safety.hosts import LOCAL_HOST, LOCAL_ONLY, Hosts


def new_backup_id(provider: str) -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + f"{provider}-{uuid.uuid4().hex[:6]}"


def public_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return masked(params)


class Catalogue:
    """Catalogue entries on this machine; artifacts here too, or on the remote host that holds the resource
    (the entry's ``host`` and ``location``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def default(cls, config: Mapping[str, Any] | None = None) -> Catalogue:
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
        self, provider: BackupProvider, params: Mapping[str, Any], host: Host | None = None, verify: bool = False,
        **meta: Any,
    ) -> dict[str, Any]:
        """Make a backup on the host that holds the resource and put it in the catalogue atomically; nothing
        half-written is left on failure. On a remote host the artifact stays there (in its ``backup_root``).

        ``verify``: also verify it as :meth:`verify` does, in the same host call (over SSH one round trip, and
        the archive re-read while it is written where the provider can); the entry's ``verification`` says how
        it went."""
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
        if remote_root is None:  # medic's own process: no fork, the re-read follows the backup
            created = host.call("backup.create", provider=provider, params=params, root=str(self.root),
                                backup_id=backup_id, entry=entry, verify="after" if verify else None)
            entry.update({k: v for k, v in created.items() if k not in ("directory", "check")})
            if verify:
                self._verified(entry, created["check"], host)
            return entry
        created = host.call("backup.create", needs=[type(provider).__module__], provider=provider.name,
                            params=dict(params), root=remote_root, backup_id=backup_id,
                            setting=f"the host variable backup_dir of {host.name}",
                            verify="while" if verify else None)
        entry.update({k: v for k, v in created.items() if k not in ("directory", "check")})
        entry.update(host=host.describe(), location=created["directory"])
        if verify:
            self._verified(entry, created["check"], host, write=False)  # written once, below
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
        """Run a ``backup.*`` host function on the host that holds the entry's artifact; a remote host builds
        the provider from its name."""
        host = (hosts or LOCAL_ONLY).get(entry.get("host"))
        local = host is LOCAL_HOST
        value = host.call(function, needs=[type(provider).__module__],
                          provider=provider if local else provider.name, entry=dict(entry),
                          directory=self.location(entry), **kwargs)
        return host, value

    def verify(self, entry: dict[str, Any], provider: BackupProvider, hosts: Hosts | None = None) -> list[str]:
        """Re-read the artifact on its host against the hash kept here, then a restore dry-run; the result
        is kept in the entry."""
        host, got = self._on_host("backup.check", entry, provider, hosts)
        return self._verified(entry, got, host)

    def _verified(self, entry: dict[str, Any], got: Mapping[str, Any], host: Host, write: bool = True) -> list[str]:
        """Record what ``backup.check`` found on the host in the entry (and its file); return the problems."""
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
        if write:
            self.update(entry)
        return problems

    def restore(self, entry: Mapping[str, Any], provider: BackupProvider, hosts: Hosts | None = None,
                only: Sequence[str] | None = None, into: Mapping[str, Any] | None = None) -> None:
        self._on_host("backup.restore", entry, provider, hosts, only=list(only) if only else None,
                      into=dict(into) if into else None)

    def compare(self, entry: Mapping[str, Any], provider: BackupProvider, hosts: Hosts | None = None,
                only: Sequence[str] | None = None, into: Mapping[str, Any] | None = None) -> list[str]:
        _, diffs = self._on_host("backup.compare", entry, provider, hosts, only=list(only) if only else None,
                                 into=dict(into) if into else None)
        return list(diffs)
