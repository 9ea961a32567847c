"""The example plugin's probe: the kernel's file-handle table (how many are allocated, the system-wide limit).

Declared under the entry-point group ``medic.probes``, so the engine, the SSH runner, the agent and bundles all
find it. It reads a /proc file, and also declares the command a host without Python runs instead (``cat``) with
the one parser both use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.probe import Command, probe

FILE_NR = "/proc/sys/fs/file-nr"


def parse_file_nr(text: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    """``/proc/sys/fs/file-nr``: allocated handles, allocated but unused (always 0 since Linux 2.6), maximum."""
    allocated, unused, maximum = (int(x) for x in text.split()[:3])
    in_use = allocated - unused
    return {"in_use": in_use, "max": maximum, "used_pct": round(100.0 * in_use / maximum, 2) if maximum else 0.0}


FILE_NR_COMMAND = Command.fixed(["cat", FILE_NR], parse_file_nr)


@probe("example_file_handles", description="Open file handles system-wide and their limit (/proc/sys/fs/file-nr).",
       command=FILE_NR_COMMAND)
def file_handles() -> dict[str, Any]:
    try:
        text = Path(FILE_NR).read_text()
    except OSError as exc:
        raise ProbeUnavailable(f"{FILE_NR} is not readable here: {exc}") from None
    return parse_file_nr(text, {})
