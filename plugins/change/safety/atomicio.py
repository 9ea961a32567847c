"""Crash-safe file writes: a temporary file in the same directory, fsync, rename, fsync of the directory.

A reader sees the old content or the new one, never a mix, and after a crash at any moment the only leftover
can be a temporary file whose name says it is one (``.NAME.medic-tmp-*``); :func:`remove_temps` cleans those
up.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TMP_MARK = ".medic-tmp-"


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_MARK}{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], mode: int | None = None) -> Iterator[BinaryIO]:
    """Write ``path`` atomically; on any error the temporary file is removed and the old content stays."""
    target = Path(path)
    tmp = temp_name(target)
    fh = open(tmp, "xb")  # noqa: SIM115 - closed below on every path
    try:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        if mode is not None:
            os.chmod(tmp, mode)
        from medic.plugins.change.safety.faults import fault

        fault("before_rename")
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    with atomic_writer(path, mode) as fh:
        fh.write(data)


def remove_temps(directory: str | os.PathLike[str], name: str | None = None) -> list[Path]:
    """Remove medic's temporary files in ``directory`` (only those of ``name`` when given); return them."""
    removed: list[Path] = []
    prefix = f".{name}{TMP_MARK}" if name else "."
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if (
            entry.name.startswith(prefix)
            and TMP_MARK in entry.name
            and not entry.is_dir(follow_symlinks=False)
        ):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
