"""The ``command`` backup provider: a site's own snapshot tool (LVM, VM, storage) with its own restore and
verify.

    backup: command
    with: {resource: "lvm:vg0/data", create: [lvcreate, ...], verify: [...], restore: [...]}

Each command is an argv list (never a shell) and runs with ``MEDIC_BACKUP_DIR`` set to the backup's directory,
where it may leave files; their hash (with the create command's output) is what the catalogue keeps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medic.plugins.change.safety.backups import BackupError, BackupProvider, Created, Runner

ARTIFACT = "command-output.txt"


def _argv(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BackupError(f"the command provider needs `{key}:` as a list of program and arguments")
    return list(value)


class CommandProvider(BackupProvider):
    name = "command"
    description = "a site snapshot tool: create, verify and restore commands (argv lists)"

    def resources(self, params: Mapping[str, Any]) -> list[str]:
        resource = params.get("resource")
        if not isinstance(resource, str) or not resource:
            raise BackupError("the command provider needs `resource:` naming what it snapshots")
        return [resource]

    def _run(self, argv: list[str], directory: Path, runner: Runner, what: str) -> bytes:
        proc = runner.run(argv, env={"MEDIC_BACKUP_DIR": str(directory)}, timeout=3600)
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace").strip()[-300:]
            raise BackupError(f"{what} command {argv[0]} exited {proc.returncode}: {tail}")
        return proc.stdout

    def create(self, params: Mapping[str, Any], staging: Path, runner: Runner) -> Created:
        out = self._run(_argv(params, "create"), staging, runner, "snapshot")
        (staging / ARTIFACT).write_bytes(out)
        digest, size = _tree_hash(staging)
        return Created(
            ARTIFACT, digest, size, [], {"verify": params.get("verify"), "restore": _argv(params, "restore")}
        )

    def dry_run(self, entry: Mapping[str, Any], directory: Path, runner: Runner) -> list[str]:
        verify = entry["meta"].get("verify")
        if not verify:
            return ["no `verify:` command declared: this snapshot cannot be verified"]
        try:
            self._run(list(verify), directory, runner, "verify")
        except BackupError as exc:
            return [str(exc)]
        return []

    def restore(
        self,
        entry: Mapping[str, Any],
        directory: Path,
        runner: Runner,
        only: Sequence[str] | None = None,
        into: Mapping[str, Any] | None = None,
    ) -> None:
        self._run(list(entry["meta"]["restore"]), directory, runner, "restore")

    def digest(self, entry: Mapping[str, Any], directory: Path) -> str:
        return _tree_hash(directory)[0]


def _tree_hash(directory: Path) -> tuple[str, int]:
    """SHA-256 over the names and contents of the files the command left (entry.json excluded)."""
    h = hashlib.sha256()
    size = 0
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.name != "entry.json":
            data = p.read_bytes()
            h.update(p.relative_to(directory).as_posix().encode() + b"\0" + data)
            size += len(data)
    return h.hexdigest(), size
