"""Fleet triage on 1, 2 and 4 process workers (shards = 2 x workers) beside Ansible, on the same loopback hosts.

    .venv/bin/python bench/fleet_bench.py [--hosts 200] [--workers 1,2,4] [--db sqlite,postgres] [--repeat 2]
                                          [--ansible-repeat 2]

Starts N OpenSSH servers with ../shared/peers/sshhosts.sh (127.0.0.2..., port 2222), then for each database of
``--db`` one Prefect server (``medic server start``, SQLite or ``--database`` PostgreSQL: bench/fleet_db.py),
``medic deploy --playbook ssh-triage`` (bench/ssh-triage.yaml: the eight checks of ../shared/peers/ansible-triage.yml)
and, for each worker count W, W ``medic worker`` processes; then runs, interleaved with Ansible
(../shared/peers/ansible-run.sh N, forks 50):

    medic fleet run ssh-triage --inventory INV --shards 2W --wait

Each fleet run must report every host exactly once (its shard results) with no unreachable host. For each it
records the wall time of the command, the peaks of summed RSS, PSS and USS of all medic processes together (the
fleet command, the workers, their forkservers and flow-run processes, sampled every 100 ms, with a breakdown by
kind at the peak: bench/fleet_memory.py) and their CPU time. Prints medians and ratios
(1 worker / Ansible, 2 / 1, 4 / 2, PostgreSQL / SQLite), the "database is locked" lines of each run (server log,
workers' and fleet's output) and the load average after each run, and writes the figures to
bench/results/fleet-*.json. Needs root (sshd), psutil; PostgreSQL (Debian postgresql-15) for --db postgres.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import fleet_db
import httpx
import psutil
from fleet_cgroup import Cgroup
from fleet_db import LOCKED
from fleet_memory import MemorySampler, print_memory
from fleet_timeline import MachineCpu, fleet_timeline, phases, print_timeline
from ssh_bench import HERE, MEDIC, ansible_run, start_hosts, write_inventory

POOL = "fleetbench"


class Sampler:
    """Total CPU time of some process trees (roots added while it runs)."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = list(roots)
        self.cpu: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.done.is_set():
            for root in list(self.roots):
                with contextlib.suppress(psutil.Error):
                    top = psutil.Process(root)
                    for p in [top, *top.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            t = p.cpu_times()
                            self.cpu[p.pid] = t.user + t.system
            self.done.wait(0.1)

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.thread.join()
        return {"cpu_s": sum(self.cpu.values())}


def start_workers(count: int, env: dict[str, str], logs: Path, start: str, tag: str, limit: int = 0,
                  group: Cgroup | None = None) -> list[subprocess.Popen[bytes]]:
    """``count`` workers (``--limit limit`` unless 0), returned once all of them polled the server (their start-up is
    not the fleet's time); their output in ``worker-TAG-I.log``, one file per run (a crashed run's trace stays); in
    ``group`` if given."""
    since = time.time()
    procs = []
    argv = [MEDIC, "worker", "--pool", POOL, "--start", start, *(["--limit", str(limit)] if limit else [])]
    for i in range(count):
        with open(logs / f"worker-{tag}-{i}.log", "wb") as log:
            procs.append(subprocess.Popen(group.joined(argv) if group else argv, env=env,
                                          stdout=subprocess.DEVNULL, stderr=log, start_new_session=True))
    deadline = time.monotonic() + 180
    while len(online_since(env["PREFECT_API_URL"], since)) < count and time.monotonic() < deadline:
        time.sleep(0.5)
    return procs


def online_since(url: str, since: float) -> list[str]:
    from datetime import datetime

    answer = httpx.post(f"{url}/work_pools/{POOL}/workers/filter", json={}, timeout=30)
    if answer.status_code != 200:
        return []
    return [w["name"] for w in answer.json() if w.get("last_heartbeat_time")
            and datetime.fromisoformat(w["last_heartbeat_time"]).timestamp() >= since]


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def private_known_hosts(n: int, lab: str, work: Path, inventory: Path) -> None:
    """The hosts' keys in a file of this run: other sessions re-running sshhosts.sh with another host count rewrite
    the lab's own known_hosts (seen here: 1 line left mid-run, every other host then refused as unknown)."""
    key = " ".join((Path(lab) / "hostkey.pub").read_text().split()[:2])
    known = work / "known_hosts"
    known.write_text("".join(f"[127.0.0.{i}]:2222 {key}\n" for i in range(2, n + 2)))
    inventory.write_text(inventory.read_text().replace(f"{lab}/known_hosts", str(known)))


class FleetFailed(Exception):
    def __init__(self, message: str, measured: dict[str, Any]) -> None:
        super().__init__(message)
        self.measured = measured


def fleet_run(n: int, workers: list[subprocess.Popen[bytes]], inventory: Path, env: dict[str, str],
              server: fleet_db.Server, shards: int, lab: str, budget: int = 0, group: Cgroup | None = None
              ) -> dict[str, Any]:
    argv = [MEDIC, "fleet", "run", "ssh-triage", "--inventory", str(inventory), "--shards", str(shards), "--wait"]
    argv += ["--hosts-at-once", str(budget)] if budget else []
    if group is not None:
        group.reset_peak()  # the workers' start-up is not the fleet's
    t0, started = time.time(), time.monotonic()
    proc = subprocess.Popen(group.joined(argv) if group else argv, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    sampler = Sampler([proc.pid, *(w.pid for w in workers)])
    memory = MemorySampler(proc.pid, [w.pid for w in workers])
    machine = MachineCpu({"server": [server.process.pid], "medic": [proc.pid, *(w.pid for w in workers)]}, lab,
                         server.db_data)
    out, err = proc.communicate()
    wall = time.monotonic() - started
    m: dict[str, Any] = {"wall_s": wall, "rc": proc.returncode, **sampler.stop(), **memory.stop(),
                         **(group.result() if group else {}),
                         "cpu": machine.stop(wall), "locked_fleet": (out + err).count(LOCKED)}
    if proc.returncode not in (0, 1) or "shard results in " not in err:
        raise FleetFailed(f"fleet {n} hosts on {len(workers)} worker(s): exit {proc.returncode}\n{out[-2000:]}"
                          f"{err[-2000:]}", m)
    results = Path(err.split("shard results in ")[1].split()[0])
    shards = [json.loads(p.read_text()) for p in results.glob("shard-*.json")]
    targets = [row["target"] for s in shards for row in s["findings"] if row["check"] != "target.reachable"]
    hosts = set(targets)
    if len(hosts) != n or any(s["state"] not in ("COMPLETED", "FAILED") for s in shards):
        raise FleetFailed(f"fleet {n}: {len(hosts)} hosts reported, shard states {[s['state'] for s in shards]}", m)
    m["checks"] = len(targets)
    m["attempts"] = sum(s["attempts"] for s in shards)
    m["timeline"] = fleet_timeline(env["PREFECT_API_URL"], results, t0)
    m["phases"] = phases(m["timeline"], wall)
    return m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--db", default="sqlite", help="the server's database, one after the other: sqlite,postgres")
    ap.add_argument("--repeat", type=int, default=2, help="fleet runs per worker count (median)")
    ap.add_argument("--ansible-repeat", type=int, default=2, help="Ansible runs (median; 0: none)")
    ap.add_argument("--shards-per-worker", type=int, default=2, help="shards = this x workers (the issue: 2)")
    ap.add_argument("--start", default="warm", help="medic worker --start, interleaved: warm,cold")
    ap.add_argument("--hosts-at-once", default="0", help="medic fleet run --hosts-at-once, interleaved: 0,32 "
                                                           "(0: not given, 16 sessions per shard)")
    ap.add_argument("--worker-limit", default="0", help="medic worker --limit, interleaved: 0,1 (0: not given)")
    ap.add_argument("--cgroup", action="store_true", help="also each run's peak in a memory cgroup of its own "
                                                          "(bench/fleet_cgroup.py)")
    ap.add_argument("--dir", default="/tmp/medic-sshhosts", help="sshhosts.sh directory (keys, known_hosts)")
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    starts = [x.strip() for x in args.start.split(",") if x.strip()]
    budgets = [int(x) for x in args.hosts_at_once.split(",") if x.strip()]
    limits = [int(x) for x in args.worker_limit.split(",") if x.strip()]
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    n = args.hosts
    start_hosts(n, args.dir)
    work = Path(tempfile.mkdtemp(prefix="medic-fleet-bench-"))
    inventory = work / "inventory.yaml"
    write_inventory(n, args.dir, inventory)
    private_known_hosts(n, args.dir, work, inventory)
    (work / "config.yaml").write_text(f"playbook_paths: [{HERE}]\n")
    print(f"work directory {work} (partial.json after each run)", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"ansible": []}
    failures: list[dict[str, Any]] = []
    loads: list[tuple[str, tuple[float, float, float]]] = [("start", os.getloadavg())]
    for _ in range(args.ansible_repeat):
        runs["ansible"].append(ansible_run(n, args.dir))
        print(f"ansible   {runs['ansible'][-1]['wall_s']:7.2f} s", flush=True)
    for db in dbs:
        server = fleet_db.start(db, work)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
               "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "XDG_STATE_HOME": str(work / "state"), "MEDIC_CONFIG": str(work / "config.yaml"),
               "PREFECT_API_URL": server.url, "PREFECT_HOME": str(work / f"client-home-{db}"),
               "PREFECT_WORKER_QUERY_SECONDS": "1"}
        try:
            deploy = subprocess.run([MEDIC, "deploy", "--pool", POOL, "--playbook", "ssh-triage"], env=env,
                                    capture_output=True, text=True, check=False)
            if deploy.returncode != 0:
                raise SystemExit(f"medic deploy ({db}): {deploy.stderr}")
            for _rep in range(args.repeat):
                for w, start, budget, limit in [(w, s, b, li) for w in counts for s in starts for b in budgets
                                                for li in limits]:
                    key = (f"{db}:{w}w" + (f":{start}" if len(starts) > 1 else "")
                           + (f":b{budget}" if len(budgets) > 1 else "") + (f":l{limit}" if len(limits) > 1 else ""))
                    m = measured_run(n, w, env, work, inventory, server, key, failures, args.shards_per_worker * w,
                                     args.dir, start, budget, limit, args.cgroup)
                    if m is not None:
                        runs.setdefault(key, []).append(m)
                    (work / "partial.json").write_text(json.dumps({"runs": runs, "failures": failures}, indent=2))
                    loads.append((key, os.getloadavg()))
        finally:
            server.stop()
    summary = summarize(runs, n, dbs, loads)
    print(json.dumps(summary, indent=2))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (out / f"fleet-{stamp}.json").write_text(json.dumps({"runs": runs, "failures": failures, **summary}, indent=2))
    print(f"load average at the end: {os.getloadavg()}; figures in bench/results/fleet-{stamp}.json")
    return 0


def measured_run(n: int, w: int, env: dict[str, str], work: Path, inventory: Path, server: fleet_db.Server,
                 key: str, failures: list[dict[str, Any]], shards: int, lab: str, start: str = "warm",
                 budget: int = 0, limit: int = 0, cgroup: bool = False) -> dict[str, Any] | None:
    """One fleet run on ``w`` fresh workers; its "database is locked" lines (server log, workers, fleet)."""
    since = server.log_size()
    tag = f"{w}-{start}-{time.strftime('%H%M%S')}"
    with Cgroup("medic-fleet-bench") if cgroup else contextlib.nullcontext() as group:
        workers = start_workers(w, env, work, start, tag, limit, group)
        try:
            m = fleet_run(n, workers, inventory, env, server, shards or 2 * w, lab, budget, group)
            error = ""
        except FleetFailed as exc:  # recorded, and the other worker counts still run
            m, error = exc.measured, str(exc)
        finally:
            stop_workers(workers)
    worker_lines = sum((work / f"worker-{tag}-{i}.log").read_text(errors="replace").count(LOCKED) for i in range(w))
    m["locked"] = m.pop("locked_fleet") + worker_lines + server.locked_lines(since)
    m["load"] = os.getloadavg()
    if error:
        print(f"{key} failed ({m['locked']} '{LOCKED}'): {error[-600:]}", flush=True)
        failures.append({"run": key, "error": error[-2000:], **m})
        return None
    cg = (f"cgroup {m['cgroup_peak_mb']:6.0f} MB (anon {m['cgroup_rss_peak_mb']:.0f}, cache "
          f"{m['cgroup_cache_peak_mb']:.0f})  " if "cgroup_peak_mb" in m else "")
    print(f"{key} {m['wall_s']:7.2f} s  peak RSS {m['peak_rss_mb']:6.0f} MB  PSS {m['peak_pss_mb']:6.0f} MB  {cg}"
          f"CPU {m['cpu_s']:6.1f} s  "
          f"exit {m['rc']}  attempts {m['attempts']}  '{LOCKED}' {m['locked']}  load {m['load'][0]:.1f}",
          flush=True)
    print(f"  CPU: {m['cpu']}")
    print_memory(key, m)
    print_timeline(key, m["timeline"], m["wall_s"])
    return m


def summarize(runs: dict[str, list[dict[str, Any]]], n: int, dbs: list[str],
              loads: list[tuple[str, tuple[float, float, float]]]) -> dict[str, Any]:
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items() if v}
    modes = sorted({k.split(":", 2)[2] for k in runs if k.count(":") >= 2})  # keys end ":warm", ":warm:b32"
    tails = [f":{m}" for m in modes] or [""]
    pairs = [(f"{db}:{a}{t}", f"{db}:{b}{t}") for db in dbs for t in tails for a, b in (("2w", "1w"), ("4w", "2w"))]
    pairs += [(f"{db}:1w{t}", "ansible") for db in dbs for t in tails]
    pairs += [(f"{db}:{w}:{a}", f"{db}:{w}:{b}") for db in dbs for w in ("1w", "2w", "4w")
              for a in modes for b in modes if a < b]
    if len(dbs) > 1:
        pairs += [(f"{dbs[1]}:{w}", f"{dbs[0]}:{w}") for w in ("1w", "2w", "4w")]
    return {"hosts": n, "median_wall_s": med,
            **{f"peak_{x}_mb": {k: max(r[f"peak_{x}_mb"] for r in v) for k, v in runs.items() if v and k != "ansible"}
               for x in ("rss", "pss", "uss")},
            "cgroup_peak_mb": {k: max(r["cgroup_peak_mb"] for r in v) for k, v in runs.items()
                               if v and k != "ansible" and all("cgroup_peak_mb" in r for r in v)},
            "ratios": {f"{a}/{b}": med[a] / med[b] for a, b in pairs if a in med and b in med},
            "per_host_s": {k: v / n for k, v in med.items()},
            "median_cpu_s": {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()
                             if v and k != "ansible"},
            "locked_lines": {k: [r["locked"] for r in v] for k, v in runs.items() if k != "ansible"},
            # whole fleet: medic + server + PostgreSQL + the hosts' sshd and probes; the wall time it allows
            "median_fleet_cpu_s": {k: statistics.median(r["cpu"]["fleet_cpu_s"] for r in v) for k, v in runs.items()
                                   if v and k != "ansible"},
            "median_wall_lower_bound_s": {k: statistics.median(r["cpu"]["wall_lower_bound_s"] for r in v)
                                          for k, v in runs.items() if v and k != "ansible"},
            "load_average": loads}


if __name__ == "__main__":
    sys.exit(main())
