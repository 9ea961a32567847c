"""File and command probes: tails of logs, file metadata, command output."""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.filetype import file_type
from medic.kernel.params import Param
from medic.kernel.probe import probe

MAX_OUTPUT = 64 * 1024


@probe(
    "command_output",
    params=[
        Param("argv", "list", description="program and arguments (no shell)", items="string"),
        Param("timeout", "float", 10.0, "seconds"),
    ],
    description="Run a program (argv list, never a shell) and capture exit code and output (capped).",
    cost=2,
)
def command_output(argv: list[str], timeout: float = 10.0) -> dict[str, Any]:
    if not argv:
        raise ValueError("argv must name a program")
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
    except FileNotFoundError:
        return {
            "argv": argv,
            "found": False,
            "exit_code": None,
            "stdout": "",
            "stderr": "",
            "error": f"{argv[0]}: command not found",
        }
    except subprocess.TimeoutExpired:
        return {
            "argv": argv,
            "found": True,
            "exit_code": None,
            "stdout": "",
            "stderr": "",
            "error": f"timed out after {timeout:g} s",
        }
    return {
        "argv": argv,
        "found": True,
        "exit_code": proc.returncode,
        "stdout": proc.stdout[:MAX_OUTPUT].decode(errors="replace"),
        "stderr": proc.stderr[:MAX_OUTPUT].decode(errors="replace"),
        "error": None,
    }


def _tail_lines(path: Path, max_lines: int, max_bytes: int) -> tuple[list[str], bool]:
    """Last ``max_lines`` lines reading at most ``max_bytes`` from the end (bounded memory)."""
    opener = gzip.open if path.suffix == ".gz" else open
    if path.suffix == ".gz":  # no seeking in gzip: stream and keep a bounded window
        from collections import deque

        window: deque[str] = deque(maxlen=max_lines)
        with opener(path, "rt", errors="replace") as fh:
            for line in fh:
                window.append(line.rstrip("\n"))
        return list(window), False
    size = path.stat().st_size
    with open(path, "rb") as fh:
        start = max(0, size - max_bytes)
        fh.seek(start)
        data = fh.read(max_bytes)
    lines = data.decode(errors="replace").splitlines()
    truncated = start > 0
    if truncated and lines:
        lines = lines[1:]  # first line is partial
    return lines[-max_lines:], truncated


@probe(
    "file_tail",
    params=[
        Param("path", "string", description="file to read"),
        Param("lines", "int", 1000, "last N lines"),
        Param("max_bytes", "int", 4 * 1024 * 1024, "read at most this much"),
    ],
    description="The last lines of a text file (plain or .gz), bounded in memory.",
    cost=2,
)
def file_tail(path: str, lines: int = 1000, max_bytes: int = 4 * 1024 * 1024) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise ProbeUnavailable(f"{path}: no such file")
    tail, truncated = _tail_lines(p, lines, max_bytes)
    return {"path": path, "lines": tail, "size_bytes": p.stat().st_size, "truncated": truncated}


@probe(
    "file_stat",
    params=[Param("path", "string", description="file or directory")],
    description="Whether a path exists, its type, mode, owner, size and modification time.",
)
def file_stat(path: str) -> dict[str, Any]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"path": path, "exists": False}
    except PermissionError as exc:
        return {"path": path, "exists": None, "error": str(exc)}
    kind = file_type(st.st_mode)
    return {
        "path": path,
        "exists": True,
        "type": kind,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "uid": st.st_uid,
        "gid": st.st_gid,
        "owner": _user(st.st_uid),
        "group": _group(st.st_gid),
        "size_bytes": st.st_size,
        "mtime": st.st_mtime,
    }


def _user(uid: int) -> str | None:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return None


def _group(gid: int) -> str | None:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return None
