"""Helpers of the change tests (local and SSH): a sample tree, its snapshot (what a restore must bring back
byte for byte), temporary leftovers, and the processes still running a command."""

from __future__ import annotations

import glob
import hashlib
import os
import random
import stat
import subprocess
from pathlib import Path
from typing import Any


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


def make_tree(root: Path, seed: int = 1) -> None:
    """A small configuration tree: an INI file with a comment, modes, a symlink and a binary blob."""
    (root / "conf").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "app.ini").write_text("[main]\nworkers = 2\n# keep this comment\n")
    (root / "conf" / "motd.txt").write_text("hello\n")
    (root / "conf" / "site.conf").write_text("server {\n  listen 80;\n}\n")
    os.chmod(root / "conf" / "site.conf", 0o640)
    (root / "data" / "blob.bin").write_bytes(random.Random(seed).randbytes(300_000))
    os.symlink("../app.ini", root / "conf" / "link.ini")


def processes_with(token: str) -> list[int]:
    """Ids of the processes whose command line contains ``token``."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if token in (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(d.name))
            except OSError:
                continue
    return found


def long_command_playbook(path: Path, script: str) -> Path:
    """A playbook with one ``command`` action running ``sh -c SCRIPT`` (changing no declared resource)."""
    path.write_text(f"""
name: long-command
steps:
  - id: c
    action: command
    resources: []
    with: {{argv: [sh, -c, "{script}"]}}
""")
    return path


def psql(pg: dict[str, Any], db: str, sql: str) -> str:
    """Run SQL with psql against the test server; the output, unaligned."""
    return subprocess.run(
        [
            "psql",
            "-X",
            "-q",
            "-At",
            "-h",
            pg["host"],
            "-p",
            str(pg["port"]),
            "-U",
            pg["user"],
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


# back up a file, ask, then replace it: the approval tests' playbook (inline and in Prefect's UI)
APPROVE_PLAYBOOK = """\
name: approve-then-change
inputs:
  path: {type: string, required: true}
  wait: {type: int, default: 60}
steps:
  - id: b
    backup: files
    with: {path: "{{ inputs.path }}"}
  - id: ok
    approve: "Replace {{ inputs.path }}?"
    with: {timeout: "{{ inputs.wait }}"}
  - id: change
    action: replace_file
    with: {path: "{{ inputs.path }}", content: "new\\n"}
"""
