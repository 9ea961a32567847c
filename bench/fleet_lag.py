"""A small fleet under a CPU hog: are live shards declared crashed, and where do their heartbeats lag?

    cd bench && ../.venv/bin/python fleet_lag.py [--hosts 8] [--shards 4] [--workers 2] [--sleep 100]
                                                 [--window 35] [--hogs 4] [--hog-nice 0] [--stack-nice 0]

The ``medic`` beside the interpreter runs: another checkout's interpreter (main's) measures its code.

One Prefect server (``medic server start``, SQLite), ``--hosts`` loopback OpenSSH hosts (tests/sshlab.py,
127.0.7.1-N), a playbook that sleeps ``--sleep`` seconds on each host, ``medic deploy`` with the zombie window
``--window`` (heartbeat 30 s), ``--workers`` process workers, ``--hogs`` busy-loop processes (``--hog-nice``), then
``medic fleet run --shards N --wait``. No shard dies here: every re-run attempt is a live shard taken for a dead
one. Printed: the shards' attempts and messages, and for every heartbeat event (and the parent's probes, if any)
the delays it went through, read from the server's SQLite database: ``received - occurred`` (emitter to server)
and ``recorded - received`` (the server's event pipeline to its table). ``--stack-nice``: the niceness of the
server, workers and fleet (with the hogs at a lower one, they starve these more than the rest of the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fleet_db
from ssh_bench import MEDIC

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from sshlab import SshLab

SLEEPY = """\
    name: lag-sleepy
    description: Sleeps on each host, then passes.
    inputs:
      seconds: {type: int, default: 100}
    targets: [local]
    steps:
      - id: sleepy
        title: The host sleeps then answers
        verify: change.command_succeeds
        timeout: 600
        with: {argv: [sleep, "{{ inputs.seconds }}"], timeout: 600}
"""


def stop(procs: list[subprocess.Popen[Any]]) -> None:
    """SIGKILL each process's group and its descendants' groups (a worker starts each run in a session of its
    own: a run it had just started outlived the worker's group once)."""
    import psutil

    groups = set()
    for p in procs:
        with contextlib.suppress(psutil.Error):
            for q in [psutil.Process(p.pid), *psutil.Process(p.pid).children(recursive=True)]:
                with contextlib.suppress(psutil.Error, ProcessLookupError):
                    groups.add(os.getpgid(q.pid))
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    for p in procs:
        p.wait()


def event_delays(db: Path, since: str) -> dict[str, dict[str, Any]]:
    """Per event name: how many, and the median and maximum of received - occurred and recorded - received."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT event, occurred, received, recorded FROM events WHERE occurred >= ? AND "
                       "(event = 'prefect.flow-run.heartbeat' OR event LIKE 'medic.%')", (since,)).fetchall()
    con.close()
    out: dict[str, dict[str, Any]] = {}
    for name, occurred, received, recorded in rows:
        o, rcv, rec = (datetime.fromisoformat(str(t)) for t in (occurred, received, recorded))
        d = out.setdefault(name, {"n": 0, "to_server": [], "in_server": []})
        d["n"] += 1
        d["to_server"].append((rcv - o).total_seconds())
        d["in_server"].append((rec - rcv).total_seconds())
    for d in out.values():
        for k in ("to_server", "in_server"):
            d[k] = {"median": round(statistics.median(d[k]), 1), "max": round(max(d[k]), 1)}
    return out


def crashed_runs(db: Path) -> list[str]:
    """The Crashed states of the playbook's runs, with their messages (no shard dies here: each is a false one)."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT s.timestamp, s.message FROM flow_run_state s JOIN flow_run r ON r.id = s.flow_run_id "
                       "JOIN flow f ON f.id = r.flow_id WHERE f.name = 'medic-playbook' AND s.type = 'CRASHED' "
                       "ORDER BY s.timestamp").fetchall()
    con.close()
    return [f"{t} {m}" for t, m in rows]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=8)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sleep", type=int, default=100)
    ap.add_argument("--window", type=int, default=35)
    ap.add_argument("--hogs", type=int, default=4)
    ap.add_argument("--hog-nice", type=int, default=0)
    ap.add_argument("--stack-nice", type=int, default=0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medic-fleet-lag-"))
    os.nice(args.stack_nice)
    (work / "lab").mkdir()
    (work / "books").mkdir()
    (work / "books" / "lag-sleepy.yaml").write_text(textwrap.dedent(SLEEPY))
    (work / "config.yaml").write_text(f"playbook_paths: [{work / 'books'}]\n"
                                      f"deploy: {{heartbeat_s: 30, crashed_after_s: {args.window}}}\n")
    lab = SshLab.start(work / "lab", args.hosts, "127.0.7")
    inventory = lab.inventory
    server = fleet_db.start("sqlite", work)
    procs: list[subprocess.Popen[Any]] = []
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}, "DO_NOT_TRACK": "1",
           "XDG_STATE_HOME": str(work / "state"), "MEDIC_CONFIG": str(work / "config.yaml"),
           "PREFECT_API_URL": server.url, "PREFECT_HOME": str(work / "client-home"),
           "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
    try:
        out = subprocess.run([MEDIC, "deploy", "--pool", "lag", "--playbook", "lag-sleepy"], env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"medic deploy: {out.stderr}")
        procs += [subprocess.Popen([MEDIC, "worker", "--pool", "lag"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(args.workers)]
        time.sleep(10)
        hog = f"import os; os.nice({args.hog_nice - args.stack_nice})\nwhile True: pass"
        procs += [subprocess.Popen([sys.executable, "-c", hog], start_new_session=True) for _ in range(args.hogs)]
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(f"load at start {os.getloadavg()}; {args.hogs} hogs", flush=True)
        t0 = time.monotonic()
        fleet = subprocess.run([MEDIC, "fleet", "run", "lag-sleepy", "--inventory", str(inventory), "--shards",
                                str(args.shards), "--wait", "-i", f"seconds={args.sleep}"], env=env,
                               capture_output=True, text=True)
        wall = time.monotonic() - t0
        print(f"fleet exit {fleet.returncode} in {wall:.1f} s; load at end {os.getloadavg()}")
        print(fleet.stdout[-3000:], fleet.stderr[-1500:])
        db = next(work.rglob("*.db"))
        print(json.dumps(event_delays(db, since), indent=1))
        crashes = crashed_runs(db)
        print(f"live shards set Crashed: {len(crashes)}", *crashes, sep="\n  ")
    finally:
        stop(procs)
        server.stop()
        lab.stop()
    print(f"work directory {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
