"""Errors reading a bundle. All are :class:`~medic.kernel.errors.TargetError`, so the CLI exits with code 3.

    TargetError (exit 3)
    └── BundleError             names the bundle file and, where known, the member
        ├── BundleCorrupt       hash or size mismatch, truncated archive, not a gzip/tar file, member missing
        ├── BundleUnsafe        absolute path, '..', link, device or fifo, oversized member, too many or too
        │                       large members: rejected before anything is written
        └── BundleFormatError   manifest missing or invalid, unsupported format_version, bad probe record
"""

from __future__ import annotations

from pathlib import Path

from medic.kernel.errors import TargetError


class BundleError(TargetError):
    def __init__(self, bundle: str | Path, message: str, member: str | None = None) -> None:
        self.bundle = str(bundle)
        self.member = member
        where = f"bundle {self.bundle}" + (f", member {member!r}" if member else "")
        super().__init__(f"{where}: {message}")


class BundleCorrupt(BundleError):
    """The archive is damaged or was changed after it was written."""


class BundleUnsafe(BundleError):
    """The archive tries to write outside its directory or to exhaust the disk; refused. ``limit``: the field of
    the reader's ``Limits`` it went over, when a cap refused it (a caller names its own setting for it)."""

    def __init__(self, bundle: str | Path, message: str, member: str | None = None, *,
                 limit: str | None = None) -> None:
        super().__init__(bundle, message, member)
        self.limit = limit


class BundleFormatError(BundleError):
    """The archive is readable but is not a medic bundle this version understands."""
