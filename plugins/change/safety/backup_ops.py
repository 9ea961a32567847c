"""Backup work done on the machine that holds the resource: make, re-read, restore and compare a backup.

Host functions (``backup.create``, ``backup.check``... run through :class:`medic.core.hosts.Host`), so every
argument and result is JSON-able and the module needs only the standard library and medic modules that do too:
on an SSH host it runs in the host's ``python3``. There a provider is named by its ``name`` and built from its
class (:func:`medic.plugins.change.safety.backups.provider_class`); here it is the registered object itself.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medic.kernel.errors import MedicError
from medic.plugins.change.safety import atomicio, backups, tiedproc
from medic.plugins.change.safety.backups import ENTRY, LOCAL, STAGING, BackupError, BackupProvider, fsync_tree
from medic.plugins.change.safety.faults import fault
from medic.plugins.change.safety.hostfunctions import host_function


def _provider(provider: str | BackupProvider) -> BackupProvider:
    if isinstance(provider, BackupProvider):  # on this machine: the registered object itself
        return provider
    return backups.provider_class(provider)()


def _room_for(prov: BackupProvider, params: Mapping[str, Any], where: Path, setting: str) -> str:
    """Make the backup location and check it has room for the backup; return the resources it covers."""
    try:
        where.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        raise BackupError(
            f"backup location {where}: permission denied; make it writable or set {setting} to a directory "
            f"you can write"
        ) from None
    resources = ", ".join(prov.resources(params))
    free = shutil.disk_usage(where).free
    need = prov.estimate(params, free)
    if need and need * 1.05 > free:
        raise BackupError(
            f"backup location {where} is full: {resources} needs about {need >> 20} MiB, {free >> 20} MiB "
            f"free; free space or set {setting} to a larger disk"
        )
    return resources


@host_function("backup.create")
def create(
    provider: str | BackupProvider,
    params: Mapping[str, Any],
    root: str,
    backup_id: str,
    entry: Mapping[str, Any] | None = None,
    setting: str = "MEDIC_BACKUP_DIR",
    verify: str | None = None,
) -> dict[str, Any]:
    """Build the backup in ``root/.tmp-PID-ID``, fsync it and rename it to ``root/ID``: all or nothing.

    With ``entry`` (the catalogue is on this machine) the entry file is written inside the staging directory
    too, so backup and entry appear together. ``setting`` names what the user changes to move the location.
    Returns what the provider created, with the directory; with ``verify`` also ``check``, what
    :func:`check` returns, in the same call (one SSH round trip instead of two): ``"after"`` re-reads the
    backup once it is in place, ``"while"`` lets a provider that can re-read it while writing it
    (``create_reread``: a forked child, so only in a process of its own, as on an SSH host).
    """
    prov = _provider(provider)
    where = Path(os.path.expanduser(root))
    resources = _room_for(prov, params, where, setting)
    backups.remove_staging(where, temps=False)  # what a killed run left here (on a host, recover may not know it)
    staging = where / f"{STAGING}{os.getpid()}-{backup_id}"
    staging.mkdir()
    try:
        if verify == "while":
            created, reread = prov.create_reread(params, staging, LOCAL)
        else:
            created, reread = prov.create(params, staging, LOCAL), None
        out = {
            "artifact": created.artifact,
            "sha256": created.sha256,
            "size": created.size,
            "manifest": created.manifest,
            "meta": created.meta,
            "directory": str(where / backup_id),
        }
        if entry is not None:
            full = {**entry, **{k: v for k, v in out.items() if k != "directory"}}
            (staging / ENTRY).write_text(json.dumps(full, default=str), encoding="utf-8")
        fsync_tree(staging)
        fault("after_backup_tmp")
        os.rename(staging, where / backup_id)
        atomicio.fsync_dir(where)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        _explain(exc, where, resources, setting)
        raise
    if verify:
        try:
            out["check"] = _verdict(prov, out, where / backup_id, reread)
        except (MedicError, OSError) as exc:  # the backup is there: report it unverified, not lost
            out["check"] = {"digest": "", "problems": [f"verification failed: {exc}"]}
    return out


def _explain(exc: BaseException, where: Path, resources: str, setting: str) -> None:
    """Raise what the user does about a failed backup (a full disk, a file they cannot read), if it is one."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        raise BackupError(
            f"backup location {where} is full while backing up {resources}; nothing was kept; free space "
            f"or set {setting} to a larger disk"
        ) from None
    if isinstance(exc, PermissionError):
        raise BackupError(
            f"permission denied while backing up {resources}: {exc.filename or exc}; run as a user who "
            f"can read it"
        ) from None


@host_function("backup.check")
def check(provider: str | BackupProvider, entry: Mapping[str, Any], directory: str) -> dict[str, Any]:
    """Re-read the artifact and hash it; when the hash is the catalogue's, run the restore dry-run.

    Returns ``{"digest": ..., "problems": [...]}``; the caller compares the digest with its catalogue too.
    """
    return _verdict(_provider(provider), entry, Path(directory), None)


def _verdict(prov: BackupProvider, entry: Mapping[str, Any], where: Path,
             reread: tuple[str, list[str] | None] | None) -> dict[str, Any]:
    """:func:`check` of a backup, given its re-read when that was done while it was written."""
    artifact = where / str(entry["artifact"])
    if not artifact.exists():
        return {"digest": "", "problems": [f"artifact {artifact} is missing"]}
    digest, found = reread or prov.reread(entry, where)
    if not digest and found:  # unreadable: the provider says why
        return {"digest": "", "problems": list(found)}
    if digest != entry["sha256"]:
        return {"digest": digest, "problems": [
            f"hash mismatch for {artifact}: catalogue {str(entry['sha256'])[:16]}..., read {digest[:16]}... "
            f"(the backup is damaged; take a new one)"]}
    problems = found if found is not None else prov.dry_run(entry, where, LOCAL)
    return {"digest": digest, "problems": list(problems)}


@host_function("backup.restore")
def restore(
    provider: str | BackupProvider,
    entry: Mapping[str, Any],
    directory: str,
    only: Sequence[str] | None = None,
    into: Mapping[str, Any] | None = None,
) -> None:
    _provider(provider).restore(entry, Path(directory), LOCAL, only=only, into=into)


@host_function("backup.compare")
def compare(
    provider: str | BackupProvider,
    entry: Mapping[str, Any],
    directory: str,
    only: Sequence[str] | None = None,
    into: Mapping[str, Any] | None = None,
) -> list[str]:
    return list(_provider(provider).compare(entry, Path(directory), LOCAL, only=only, into=into))


@host_function("undo.run")
def run_undo(argv: Sequence[str]) -> None:
    """Run a declared undo command (``undo:`` of a command action, restarting a service again)."""
    proc = tiedproc.run(list(argv), timeout=600)
    if proc.returncode != 0:
        raise BackupError(
            f"undo command {argv[0]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-300:]}"
        )


@host_function("files.remove_temps")
def remove_temps(paths: Sequence[str]) -> list[str]:
    """Remove temporary files an interrupted atomic write left beside ``paths``."""
    removed: list[str] = []
    for p in paths:
        removed += [str(r) for r in atomicio.remove_temps(Path(p).parent, Path(p).name)]
    return removed


@host_function("backup.remove_staging")
def remove_staging(root: str) -> list[str]:
    """Half-built backups of dead processes under a host's backup location (``medic recover``)."""
    return [str(p) for p in backups.remove_staging(Path(os.path.expanduser(root)))]
