"""Snapshots of file trees for change tests: what a restore must bring back byte for byte."""

from __future__ import annotations

import glob
import hashlib
import os
import stat
from pathlib import Path


def snapshot(root: Path) -> dict[str, tuple[str, str, str]]:
    """Every entry under root: relative path -> (type, mode, sha256 or link target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = str(path.relative_to(root))
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ("link", "", os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir", oct(stat.S_IMODE(st.st_mode)), "")
        else:
            out[rel] = ("file", oct(stat.S_IMODE(st.st_mode)), hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def temp_leftovers(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        found += [p for p in glob.glob(f"{root}/**/*", recursive=True) if ".medic-tmp-" in p]
        found += [p for p in glob.glob(f"{root}/**/.tmp-*", recursive=True)]
    return found
