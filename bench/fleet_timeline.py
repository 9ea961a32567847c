"""Where a fleet run's wall time goes: a timeline of each shard and the CPU of the whole machine meanwhile.

For each shard (its flow run id from the shard results a ``medic fleet run`` saved) the Prefect server knows when
it was submitted (the run's ``created``), picked up (Pending: a worker took it), started (Running: the flow-run
process had imported Prefect and medic and entered the flow) and finished (its final state); its host tasks say
when the first host began and the last one ended. All as seconds from the moment the fleet command was started.

The CPU side: busy seconds of the whole machine (every process, other people's too: ``/proc/stat`` through
psutil) against its capacity (wall x cores), split into the Prefect server's process tree, medic's processes
(fleet command, workers, flow-run processes) and the loopback hosts' sshd with what they ran (their sessions and
the probes' commands, ended into their listener's children times). Another session using the same host lab adds
to that last figure.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil


def _ts(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() if text else None


def shard_timeline(url: str, flow_run_id: str, t0: float, hosts: int) -> dict[str, Any]:
    """Offsets (s from ``t0``) of one shard run: submitted, picked_up, started, first_host, last_host, finished.

    Task runs reach the server as events, stored by its event consumer some time later (tens of seconds on a
    loaded machine): asked again until all ``hosts`` host tasks are there (at most 120 s)."""
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=url, timeout=60) as api:
        run = api.get(f"/flow_runs/{flow_run_id}").json()
        states = api.get("/flow_run_states/", params={"flow_run_id": flow_run_id}).json()
        while True:
            tasks = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}},
                                                         "limit": 200}).json()
            done = [r for r in tasks if r.get("end_time")]
            if len(done) >= hosts or time.monotonic() > deadline:
                break
            time.sleep(2)
    first = {}
    for s in sorted(states, key=lambda s: s["timestamp"]):
        first.setdefault(s["type"], _ts(s["timestamp"]))
    final = next((first[k] for k in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") if k in first), None)
    starts = [t for t in (_ts(r.get("start_time")) for r in tasks) if t]
    ends = [t for t in (_ts(r.get("end_time")) for r in tasks) if t]
    spans = [e - s for r in tasks if (s := _ts(r.get("start_time"))) and (e := _ts(r.get("end_time")))]

    def rel(t: float | None) -> float | None:
        return None if t is None else round(t - t0, 2)

    return {"submitted": rel(_ts(run["created"])), "picked_up": rel(first.get("PENDING")),
            "started": rel(first.get("RUNNING")), "first_host": rel(min(starts, default=None)),
            "last_host": rel(max(ends, default=None)), "finished": rel(final), "hosts": len(tasks),
            "host_task_median_s": round(statistics.median(spans), 2) if spans else None}


def fleet_timeline(url: str, results: Path, t0: float) -> list[dict[str, Any]]:
    import json

    shards = sorted((json.loads(p.read_text()) for p in results.glob("shard-*.json")), key=lambda s: s["index"])
    return [{"shard": s["index"], **shard_timeline(url, s["flow_run_id"], t0, len(s["hosts"]))} for s in shards]


def phases(timeline: list[dict[str, Any]], wall: float) -> dict[str, float]:
    """The fleet's wall time cut at the medians of the shards' events: command start-up to the last submission,
    waiting for a worker, the flow-run process's start (imports), the hosts' work, after the hosts' tasks to
    the final state (artifacts), and from the last shard's end to the command's exit (parent's poll, report)."""
    def last(key: str) -> float:
        return max((t[key] for t in timeline if t[key] is not None), default=0.0)

    return {"start_to_submitted": round(last("submitted"), 2),
            "submitted_to_picked_up": round(last("picked_up") - last("submitted"), 2),
            "picked_up_to_running": round(last("started") - last("picked_up"), 2),
            "running_to_last_host": round(last("last_host") - last("started"), 2),
            "last_host_to_final": round(last("finished") - last("last_host"), 2),
            "final_to_exit": round(wall - last("finished"), 2)}


def print_timeline(label: str, timeline: list[dict[str, Any]], wall: float) -> None:
    print(f"  {label} timeline (s from the command's start; wall {wall:.2f} s)")
    print("  shard submitted picked_up started first_host last_host finished hosts host_task_median")
    for t in timeline:
        print(f"  {t['shard']:5} {t['submitted']!s:>9} {t['picked_up']!s:>9} {t['started']!s:>7} "
              f"{t['first_host']!s:>10} {t['last_host']!s:>9} {t['finished']!s:>8} {t['hosts']:5} "
              f"{t['host_task_median_s']!s:>6}")
    print(f"  phases (to the last shard's event): {phases(timeline, wall)}", flush=True)


class MachineCpu:
    """Busy CPU seconds of the whole machine and of some process groups between start and :meth:`stop`."""

    def __init__(self, groups: dict[str, list[int]], lab: str, db_data: str = "") -> None:
        self.groups = groups
        self.lab = lab  # the hosts' sshd run with configuration files in this directory
        self.db_data = db_data  # the PostgreSQL cluster's data directory ("": SQLite, inside the server)
        self.start = psutil.cpu_times()
        self.seen: dict[str, dict[int, float]] = {g: {} for g in [*groups, "sshd", "postgres"]}
        self.base: dict[int, float] = {}
        for p in psutil.process_iter(["name"]):  # what each process had used before the run
            with contextlib.suppress(psutil.Error):
                t, reaped = p.cpu_times(), _listener(p, self.lab)
                reaped = reaped or _postmaster(p, self.db_data)
                self.base[p.pid] = t.user + t.system + (t.children_user + t.children_system if reaped else 0)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _used(self, p: psutil.Process, reaped: bool = False) -> float:
        """CPU seconds since the start; ``reaped``: with its ended children's (an sshd listener's sessions)."""
        t = p.cpu_times()
        own = t.user + t.system + (t.children_user + t.children_system if reaped else 0.0)
        return own - self.base.get(p.pid, 0.0)

    def _loop(self) -> None:
        while not self.done.is_set():
            self._sample()
            self.done.wait(0.25)

    def _sample(self) -> None:
        for group, roots in self.groups.items():
            for root in roots:
                with contextlib.suppress(psutil.Error):
                    top = psutil.Process(root)
                    for p in [top, *top.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            self.seen[group][p.pid] = max(0.0, self._used(p))
        for p in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error):
                if _listener(p, self.lab):  # the hosts' sessions have ended into their listener's children times
                    self.seen["sshd"][p.pid] = max(0.0, self._used(p, reaped=True))
        self._sample_postgres()

    def _sample_postgres(self) -> None:
        """The cluster's postmaster with its ended backends' times, plus its live backends: a backend that ended
        is counted once, in its postmaster's children times (so the live set is replaced on each sample)."""
        if not self.db_data:
            return
        for p in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error):
                if _postmaster(p, self.db_data):
                    live = {c.pid: max(0.0, self._used(c)) for c in p.children()}
                    self.seen["postgres"] = {p.pid: max(0.0, self._used(p, reaped=True)), **live}

    def stop(self, wall: float) -> dict[str, float]:
        self.done.set()
        self.thread.join()
        self._sample()
        end = psutil.cpu_times()
        busy = sum(getattr(end, k) - getattr(self.start, k) for k in ("user", "system", "nice", "irq", "softirq",
                                                                       "steal") if hasattr(end, k))
        cores = psutil.cpu_count() or 1
        out = {"machine_busy_cpu_s": round(busy, 1), "capacity_cpu_s": round(wall * cores, 1),
               "machine_busy_share": round(busy / (wall * cores), 3)}
        out.update({f"{g}_cpu_s": round(sum(v.values()), 1) for g, v in self.seen.items()})
        # the fleet's own CPU (medic, its server, its database, the hosts' side) and the shortest wall time it
        # allows on this machine's cores: a run cannot end before its CPU seconds / cores have been spent
        fleet = sum(out[f"{g}_cpu_s"] for g in [*self.groups, "sshd", "postgres"])
        out.update({"fleet_cpu_s": round(fleet, 1), "cores": cores, "wall_lower_bound_s": round(fleet / cores, 1),
                    "others_cpu_s": round(max(0.0, busy - fleet), 1)})
        return out


def _postmaster(p: psutil.Process, data: str) -> bool:
    """The PostgreSQL cluster's main process (its backends are its children) for data directory ``data``."""
    if not data or p.name() != "postgres":
        return False
    parent = p.parent()
    return (parent is None or parent.name() != "postgres") and data in " ".join(p.cmdline())


def _listener(p: psutil.Process, lab: str) -> bool:
    """A lab host's sshd that accepts connections (its parent is not an sshd): its sessions end into its times."""
    if p.name() != "sshd" or lab not in " ".join(p.cmdline()):
        return False
    parent = p.parent()
    return parent is None or parent.name() != "sshd"
