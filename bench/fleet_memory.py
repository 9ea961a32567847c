"""medic's memory during a fleet run: summed RSS, PSS and USS of its processes, sampled together, by kind.

Summed RSS counts a page shared by several processes once per process: a warm worker's flow-run processes are
forked from its forkserver and share its pages (Prefect, medic, their imports) until they write to them, so summed
RSS over-counts what the machine really holds. PSS (proportional set size: each shared page divided among the
processes sharing it) sums to the memory these processes really take; USS (their private pages) is what ending
them would free. All three read in one pass of ``/proc/PID/smaps_rollup`` per process, so each sample's figures
describe the same moment. The peak is taken on each measure separately; the breakdown by kind is the one at the
moment of the PSS peak (and of the RSS peak, which the issue's target counts).

Kinds: ``fleet command`` (``medic fleet run``: the CLI and the fleet's parent flow, in one process, with anything
it starts), ``workers`` (``medic worker``), ``forkserver`` (a warm worker's forkserver), ``flow runs`` (a shard's
flow-run process, forked or cold) and ``worker helpers`` (any other child of a worker, e.g. multiprocessing's
resource tracker).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import psutil

MEASURES = ("rss", "pss", "uss")
KINDS = ("fleet command", "workers", "forkserver", "flow runs", "worker helpers")


def rollup(pid: int) -> dict[str, int] | None:
    """Bytes of RSS, PSS and USS of one process from ``smaps_rollup`` (None when it ended or cannot be read)."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f.read().splitlines()[1:]:
                name, _, rest = line.partition(b":")
                fields[name.decode()] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0),
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}


def _kind(proc: psutil.Process, under_forkserver: bool) -> str:
    if under_forkserver:  # a forked run keeps its forkserver's command line: known by its parent only
        return "flow runs"
    cmd = " ".join(proc.cmdline())
    if ("forkserver" in cmd and "main(" in cmd) or "medic.flows.fork_server import serve" in cmd:
        return "forkserver"  # multiprocessing's (sessions 11-12), or medic's own (flows.fork_server)
    return "flow runs" if "prefect.engine" in cmd else "worker helpers"


def kinds_of(fleet: int, workers: list[int]) -> dict[int, str]:
    """Each live process of the fleet command's tree and the workers' trees, with its kind."""
    found: dict[int, str] = {}
    with contextlib.suppress(psutil.Error):
        top = psutil.Process(fleet)
        for p in [top, *top.children(recursive=True)]:
            found[p.pid] = "fleet command"
    for pid in workers:
        with contextlib.suppress(psutil.Error):
            found[pid] = "workers"
            for child in psutil.Process(pid).children():
                with contextlib.suppress(psutil.Error):
                    kind = _kind(child, False)
                    found[child.pid] = kind
                    for grandchild in child.children(recursive=True):
                        found[grandchild.pid] = _kind(grandchild, kind == "forkserver")
    return found


class MemorySampler:
    """Peaks of summed RSS, PSS and USS of the fleet's medic processes, every ``interval`` s, until stopped."""

    def __init__(self, fleet: int, workers: list[int], interval: float = 0.1) -> None:
        self.fleet, self.workers, self.interval = fleet, workers, interval
        self.peak: dict[str, dict[str, Any]] = {m: {"total": 0} for m in MEASURES}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def sample(self) -> dict[str, dict[str, int]]:
        """One sample: each measure's total and per-kind sums (bytes), and the process count of each kind."""
        sums = {m: dict.fromkeys(KINDS, 0) for m in (*MEASURES, "count")}
        for pid, kind in kinds_of(self.fleet, self.workers).items():
            mem = rollup(pid)
            if mem is None:
                continue
            for m in MEASURES:
                sums[m][kind] += mem[m]
            sums["count"][kind] += 1
        return sums

    def _loop(self) -> None:
        while not self.done.is_set():
            sums = self.sample()
            for m in MEASURES:
                total = sum(sums[m].values())
                if total > self.peak[m]["total"]:
                    self.peak[m] = {"total": total, **{f"{k}_by_kind": dict(v) for k, v in sums.items()}}
            self.done.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        """``peak_rss_mb``, ``peak_pss_mb``, ``peak_uss_mb`` and the breakdowns (MB; process counts) at the RSS and
        PSS peaks."""
        self.done.set()
        self.thread.join()
        out: dict[str, Any] = {f"peak_{m}_mb": self.peak[m]["total"] / 2**20 for m in MEASURES}
        for m in ("rss", "pss"):
            peak = self.peak[m]
            out[f"at_{m}_peak"] = {k: {"count": peak.get("count_by_kind", {}).get(k, 0),
                                       **{x: round(peak.get(f"{x}_by_kind", {}).get(k, 0) / 2**20, 1)
                                          for x in MEASURES}} for k in KINDS}
        return out


def print_memory(key: str, m: dict[str, Any]) -> None:
    print(f"  memory {key}: peak RSS {m['peak_rss_mb']:.0f} MB, PSS {m['peak_pss_mb']:.0f} MB, "
          f"USS {m['peak_uss_mb']:.0f} MB (each measure's own peak); at the PSS peak, by kind:")
    for kind, v in m["at_pss_peak"].items():
        if v["count"]:
            print(f"    {kind:15} x{v['count']:<3} RSS {v['rss']:7.1f}  PSS {v['pss']:7.1f}  USS {v['uss']:7.1f} MB")
