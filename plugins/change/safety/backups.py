"""Backups: the provider interface (hook ``register_backup_providers``), its errors, and the file helpers
backups are built with. The catalogue that keeps them is :mod:`medic.plugins.change.safety.catalogue`.

A provider runs on the machine that holds the resource (:mod:`medic.plugins.change.safety.backup_ops`): there it
is the registered object itself, on a remote host a new object of the class of that name (every subclass with a
``name`` is known by it: :func:`provider_class`). This module runs on remote hosts too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medic.kernel.errors import EXIT_FINDINGS_FAILED, EXIT_USAGE, MedicError
from medic.plugins.change.safety import atomicio

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


_CLASSES: dict[str, type[BackupProvider]] = {}


class BackupProvider(ABC):
    name: str = ""
    description: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:  # a remote host builds the provider by this name
            _CLASSES[cls.name] = cls

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

    def create_reread(
        self, params: Mapping[str, Any], staging: Path, runner: Runner
    ) -> tuple[Created, tuple[str, list[str] | None] | None]:
        """:meth:`create`, and the :meth:`reread` of what it wrote when the provider can do it while writing
        (in a forked child: only called in a process of its own); None: re-read after."""
        return self.create(params, staging, runner), None

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


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def provider_class(name: str) -> type[BackupProvider]:
    """The provider class named ``name`` among those imported (on a remote host: those shipped there)."""
    try:
        return _CLASSES[name]
    except KeyError:
        raise BackupError(f"backup provider {name!r} is not available here") from None


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
