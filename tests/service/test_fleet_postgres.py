"""PostgreSQL for several workers: ``medic server start --database`` and a 4-worker fleet on it.

Real parts: a PostgreSQL cluster of its own (Debian's initdb and pg_ctl, as tests/conftest.py starts the shared one,
but with password authentication, scram-sha-256, so the password has to arrive), on a free 127.0.0.1 port;
``medic server start --database postgresql://postgres@127.0.0.1:PORT/prefect --database-password-file F`` (a 0600
file); ``medic deploy``, four ``medic worker`` subprocesses, twelve loopback OpenSSH hosts (one sshd listening on
127.0.5.1-12), ``medic fleet run --shards 8 --wait``. Checked: the fleet ends 0 with every host exactly once in
its shard results; not one "database is locked" in the server's, the workers' or the fleet's output; ``medic doctor
server`` names the database; the password is on no process's command line and in no output.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgcluster import cluster_dir
from pgcluster import pg_bin as _pg_bin
from pgcluster import start as _start_postgres
from prefectsvc import AUTH_STRING, _free_port, _healthy, _stop, medic
from proctree import kill_everything_under
from sshlab import SshLab

PASSWORD = "pg-Pass:w0rd@medic"  # characters a URL must escape: Prefect pastes the password into its URL
QUICK = """\
    name: pg-fleet
    description: One quick command on each host.
    targets: [local]
    steps:
      - id: answer
        title: The host answers
        verify: change.command_succeeds
        with: {argv: ["true"]}
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (run tests/setup-services.sh)")
    base, as_user = cluster_dir("medic-pgfleet-")
    pwfile = base / "initdb-pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(base / "data"), "-A", "scram-sha-256", "-U",
                    "postgres", f"--pwfile={pwfile}"], check=True, capture_output=True)
    pwfile.unlink()
    port = _start_postgres(as_user, bindir, base / "data", base)
    env = {**os.environ, "PGPASSWORD": PASSWORD}
    subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "prefect"],
                   env=env, check=True, capture_output=True)
    yield {"port": port}
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"],
                   capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    """Twelve loopback hosts (tests/sshlab.py)."""
    lab = SshLab.start(tmp_path_factory.mktemp("pghosts"), 12, prefix="127.0.5")
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def server(cluster: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("pgserver")
    for name, text in (("dbpass", PASSWORD), ("auth", AUTH_STRING)):
        (base / name).write_text(text + "\n")
        (base / name).chmod(0o600)
    (base / "books").mkdir()
    (base / "books" / "pg-fleet.yaml").write_text(textwrap.dedent(QUICK))
    (base / "config.yaml").write_text(f"playbook_paths: [{base / 'books'}]\n")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    quiet = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    server_env = {**quiet, "PREFECT_HOME": str(base / "server-home"), "PREFECT_UI_ENABLED": "false",
                  "MEDIC_PREFECT_AUTH_FILE": str(base / "auth"), "DO_NOT_TRACK": "1",
                  "PREFECT_SERVER_LOGGING_LEVEL": "WARNING", "PREFECT_LOGGING_SERVER_LEVEL": "WARNING"}
    log = open(base / "server.log", "wb")  # noqa: SIM115 - the server's own, closed once it is started
    process = subprocess.Popen(
        [sys.executable, "-m", "medic.cli.main", "server", "start", "--port", str(port), "--database",
         f"postgresql://postgres@127.0.0.1:{cluster['port']}/prefect", "--database-password-file",
         str(base / "dbpass")], env=server_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 180
    while not _healthy(api):
        assert process.poll() is None and time.monotonic() < deadline, (base / "server.log").read_text()[-3000:]
        time.sleep(0.3)
    client_env = {**quiet, "PREFECT_API_URL": api, "PREFECT_API_AUTH_STRING": AUTH_STRING,
                  "PREFECT_HOME": str(base / "client-home"), "MEDIC_CONFIG": str(base / "config.yaml"),
                  "XDG_STATE_HOME": str(base / "state"), "PREFECT_WORKER_QUERY_SECONDS": "1", "DO_NOT_TRACK": "1"}
    yield {"base": base, "process": process, "env": client_env}
    _stop(process)


def test_doctor_names_the_postgresql_database(server: dict[str, Any], cluster: dict[str, Any]) -> None:
    out = medic(server["env"], "doctor", "server")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"ok    database: postgresql postgres@127.0.0.1:{cluster['port']}/prefect: several workers" in out.stdout
    start = (server["base"] / "server.log").read_text()
    assert f"Database: postgresql postgres@127.0.0.1:{cluster['port']}/prefect (password: " in start


def test_four_workers_on_postgresql_report_every_host_once_and_never_a_locked_database(
        server: dict[str, Any], hosts: SshLab) -> None:
    env, base = server["env"], server["base"]
    deployed = medic(env, "deploy", "--pool", "pg", "--playbook", "pg-fleet")
    assert deployed.returncode == 0, deployed.stderr
    logs = [base / f"worker-{i}.log" for i in range(4)]
    workers = []
    for path in logs:
        with open(path, "wb") as log:
            workers.append(subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "pg"],
                                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    try:
        fleet = subprocess.run([sys.executable, "-m", "medic.cli.main", "fleet", "run", "pg-fleet", "--inventory",
                                str(hosts.inventory), "--shards", "8", "--wait"], env=env, capture_output=True,
                               text=True, timeout=600)
        secret_seen = [p for w in workers for p in [w.pid, *_descendants(w.pid), server["process"].pid,
                                                      *_descendants(server["process"].pid)]
                       if PASSWORD.encode() in _cmdline(p)]
    finally:
        for w in workers:
            kill_everything_under(w.pid, signal.SIGTERM)
            w.wait(timeout=30)
    assert fleet.returncode == 0, (fleet.stdout, fleet.stderr)
    results = Path(fleet.stderr.split("shard results in ")[1].split()[0])
    shards = [json.loads(p.read_text()) for p in sorted(results.glob("shard-*.json"))]
    assert len(shards) == 8 and all(s["state"] == "COMPLETED" for s in shards), [s["state"] for s in shards]
    targets = sorted(row["target"] for s in shards for row in s["findings"] if row["check"] != "target.reachable")
    assert targets == sorted(hosts.hosts), targets
    outputs = [fleet.stdout, fleet.stderr, (base / "server.log").read_text(errors="replace"),
               *(p.read_text(errors="replace") for p in logs)]
    locked = sum(text.count("database is locked") for text in outputs)
    print(f"4 workers on PostgreSQL: {len(targets)} hosts, {locked} 'database is locked' line(s)")
    assert locked == 0
    assert not secret_seen and not any(PASSWORD in text for text in outputs)
    assert server["process"].poll() is None  # the server lived through it


def _descendants(pid: int) -> list[int]:
    return [p.pid for p in _children(pid)]


def _children(pid: int) -> list[Any]:
    import psutil

    with contextlib.suppress(psutil.Error):
        return list(psutil.Process(pid).children(recursive=True))
    return []



def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


