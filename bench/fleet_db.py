"""The Prefect server of bench/fleet_bench.py on SQLite or on PostgreSQL, and its "database is locked" lines.

Both are started the way a user starts them, ``medic server start`` (PostgreSQL: ``--database
postgresql://postgres@127.0.0.1:PORT/prefect`` on a cluster made here with Debian's initdb and pg_ctl, as
tests/conftest.py does: trust authentication on loopback, fsync off, run as the postgres user), with the server's
own log level at WARNING so a locked SQLite shows in its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ssh_bench import MEDIC, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pgcluster import cluster_dir, pg_bin
from pgcluster import start as start_cluster

LOCKED = "database is locked"


@dataclass
class Server:
    kind: str
    url: str
    log: Path
    process: subprocess.Popen[bytes]
    stop_db: list[str] = field(default_factory=list)  # argv stopping the PostgreSQL cluster, if any
    db_data: str = ""  # the PostgreSQL cluster's data directory (its CPU is counted apart), if any

    def locked_lines(self, since: int = 0) -> int:
        """Lines of the server's log from byte ``since`` on that say the database was locked."""
        with open(self.log, "rb") as f:
            f.seek(since)
            return sum(1 for line in f if LOCKED.encode() in line)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and anything it started
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.stop_db:
            subprocess.run(self.stop_db, capture_output=True, check=False)


def start(kind: str, work: Path) -> Server:
    home = work / f"prefect-{kind}"
    home.mkdir(parents=True)
    extra: list[str] = []
    stop_db: list[str] = []
    data = ""
    if kind == "postgres":
        port, stop_db, data = postgres()  # postgres reaches it
        extra = ["--database", f"postgresql://postgres@127.0.0.1:{port}/prefect"]
    elif kind != "sqlite":
        raise SystemExit(f"--db: unknown database {kind!r}; expected sqlite or postgres")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "false", "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_LOGGING_LEVEL": "WARNING", "PREFECT_LOGGING_SERVER_LEVEL": "WARNING"})
    log = home / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([MEDIC, "server", "start", "--port", str(port), *extra], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(kind, f"http://127.0.0.1:{port}/api", log, process, stop_db, data)
    deadline = time.monotonic() + 180
    try:
        while subprocess.run(["curl", "-sf", f"{server.url}/health"], capture_output=True).returncode != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Prefect server ({kind}) did not become healthy:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
    except BaseException:  # Ctrl-C too: the server runs in a session of its own
        server.stop()
        raise
    return server


def postgres() -> tuple[int, list[str], str]:
    """A fresh cluster on a free loopback port with a database ``prefect``; (port, argv that stops it, its data
    directory)."""
    bindir = pg_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (tests/setup-services.sh installs postgresql-15)")
    base, as_user = cluster_dir("medic-fleet-pg-")
    data = base / "data"
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    port = start_cluster(as_user, bindir, data, base, "-c max_connections=200")
    subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "prefect"],
                   check=True, capture_output=True)
    return port, ["sh", "-c", '"$@" && rm -rf "$0"', str(base), *as_user, str(bindir / "pg_ctl"), "-D", str(data),
                  "-m", "fast", "stop"], str(data)
