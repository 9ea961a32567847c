"""A PostgreSQL cluster of one's own from Debian's initdb and pg_ctl: the shared test cluster (conftest), the fleet
test's password-protected one and bench/fleet_db.py's all start it this way (run as the postgres user when root)."""

from __future__ import annotations

import glob
import os
import pwd
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def cluster_dir(prefix: str) -> tuple[Path, list[str]]:
    """A new directory for a cluster and the argv prefix that runs its commands: postgres refuses to run as root,
    so as root the directory goes to the postgres user and commands run through runuser."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() != 0:
        return base, []
    user = pwd.getpwnam("postgres")
    os.chown(base, user.pw_uid, user.pw_gid)
    return base, ["runuser", "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(as_user: list[str], bindir: Path, data: Path, base: Path, options: str = "") -> int:
    """Start the server on a free port; a port taken between the probe and the bind is retried with another."""
    for _attempt in range(5):
        port = _free_port()
        opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off {options}".rstrip()
        log = base / f"log.{port}"
        started = subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"],
            capture_output=True,
            text=True,
        )
        if started.returncode == 0:
            return port
        text = log.read_text(errors="replace") if log.exists() else ""
        if "already in use" not in text and "could not bind" not in text and "could not create" not in text:
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()} {text[-2000:]}")
    raise RuntimeError("PostgreSQL found no free port in 5 tries")
