"""What kind of file a stat mode describes, in the words probes, bundles and backups all use."""

from __future__ import annotations

import stat


def file_type(mode: int) -> str:
    """``link``, ``dir``, ``file`` or ``other`` (device, socket, fifo) for an ``lstat`` mode."""
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"
