"""Resource consumer checks: top CPU and memory processes, zombies, directory sizes (cache, temp)."""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData, check, level
from medic.kernel.models import Outcome, ProbeCall, Status, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping, rows

MIB = 1024**2


@check(
    "system.top_cpu",
    title="Top CPU consumers",
    category="hardware",
    severity="medium",
    needs=lambda p: {"cpu": ProbeCall.make("process_cpu", interval_s=p["interval_s"], top=p["top"])},
    params=[
        Param("warn_pct", "float", 90.0, "warn when one process uses this % of one CPU"),
        Param("fail_pct", "float", 190.0, "fail when one process uses this % (multi-threaded)"),
        Param("interval_s", "float", 1.0, "sampling interval (s)"),
        Param("top", "int", 5, "processes listed in the evidence"),
    ],
    remediation="Check whether the busy process is expected (a build, a backup) or runaway; inspect it "
    "(top -H -p PID, py-spy/perf), restart or renice it, and look for a loop in its log.",
    description="Samples CPU time over interval_s; the worst process decides: warn at warn_pct of one CPU, "
    "fail at fail_pct. The evidence lists the top consumers.",
    live=True,
)
def top_cpu(data: ProbeData, p: dict[str, Any]) -> Outcome:
    c = mapping(data, "cpu")
    rows = c["top"][: p["top"]]
    listing = [f"{r['name']}[{r['pid']}] {r['cpu_pct']:.0f}%" for r in rows]
    if not rows:
        return passed("no process used CPU during the sample", interval_s=c["interval_s"])
    worst = rows[0]
    status = level(worst["cpu_pct"], p["warn_pct"], p["fail_pct"])
    return Outcome(
        status,
        f"top CPU: {', '.join(listing[:3])} over {c['interval_s']:.1f} s",
        {"top": listing, "cpus": c["cpus"], "worst_cmdline": worst["cmdline"][:200]},
        subject=f"{worst['name']}[{worst['pid']}]",
    )


@check(
    "system.top_memory",
    title="Top memory consumers",
    category="hardware",
    severity="medium",
    needs={"procs": "processes", "mem": "memory"},
    params=[
        Param("warn_pct", "float", 40.0, "warn when one process holds this % of RAM (RSS)"),
        Param("fail_pct", "float", 70.0, "fail when one process holds this % of RAM"),
        Param("top", "int", 5, "processes listed in the evidence"),
    ],
    remediation="Check whether the process's memory use is expected; restart a leaking service, lower its "
    "cache/worker settings, or move it to a bigger machine.",
    description="The process with the largest resident memory decides: warn at warn_pct of total RAM, fail "
    "at fail_pct. The evidence lists the top consumers.",
)
def top_memory(data: ProbeData, p: dict[str, Any]) -> Outcome:
    total = mapping(data, "mem")["total_bytes"]
    top = sorted(rows(data, "procs"), key=lambda r: -int(r["rss_bytes"]))[: p["top"]]
    if not top or not total:
        return Outcome(Status.SKIPPED, "no process memory figures available")
    listing = [f"{r['name']}[{r['pid']}] {r['rss_bytes'] / MIB:.0f} MiB" for r in top]
    worst = top[0]
    pct = 100.0 * worst["rss_bytes"] / total
    return Outcome(
        level(pct, p["warn_pct"], p["fail_pct"]),
        f"largest: {worst['name']}[{worst['pid']}] {pct:.0f}% of RAM; top: {', '.join(listing[:3])}",
        {"top": listing, "worst_pct": round(pct, 1)},
        subject=f"{worst['name']}[{worst['pid']}]",
    )


@check(
    "system.zombies",
    title="Zombie processes",
    category="software",
    severity="low",
    needs={"procs": "processes"},
    params=[
        Param("warn_count", "int", 1, "warn at this many zombies"),
        Param("fail_count", "int", 50, "fail at this many zombies"),
    ],
    remediation="Zombies are children their parent never reaped: restart or fix the parent process listed in "
    "the evidence (killing the zombie itself does nothing).",
    description="Counts processes in state Z; warn at warn_count, fail at fail_count. Evidence names the "
    "parents holding them.",
)
def zombies(data: ProbeData, p: dict[str, Any]) -> Outcome:
    procs = rows(data, "procs")
    z = [r for r in procs if r["status"] == "Z"]
    by_pid = {r["pid"]: r["name"] for r in procs}
    parents: dict[str, int] = {}
    for r in z:
        key = f"{by_pid.get(r['ppid'], '?')}[{r['ppid']}]"
        parents[key] = parents.get(key, 0) + 1
    top_parents = dict(sorted(parents.items(), key=lambda kv: -kv[1])[:10])
    ev: dict[str, Any] = {"count": len(z), "parents": top_parents}
    status = level(len(z), p["warn_count"], p["fail_count"])
    if not z:
        return passed("no zombie processes", **ev)
    return Outcome(status, f"{len(z)} zombie process(es), parents: {', '.join(list(top_parents)[:3])}", ev)


@check(
    "system.directory_size",
    title="Cache and temp directory sizes",
    category="hardware",
    severity="low",
    needs=lambda p: {"du": ProbeCall.make("dir_size", paths=p["paths"])},
    params=[
        Param(
            "paths",
            "list",
            ["/tmp", "/var/tmp", "/var/cache"],
            "directories to measure (globs ok)",
            items="string",
        ),
        Param("warn_mb", "float", 2048.0, "warn when a directory holds more (MiB)"),
        Param("fail_mb", "float", 10240.0, "fail when a directory holds more (MiB)"),
    ],
    remediation="Clear what is safe to delete (apt-get clean, old files in /tmp and /var/tmp, application "
    "caches), then find what keeps filling it; the evidence names the largest sub-directories.",
    description="One outcome per directory: warn above warn_mb, fail above fail_mb (allocated size, like "
    "du).",
)
def directory_size(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    out = []
    for d in mapping(data, "du")["directories"]:
        mb = d["bytes"] / MIB
        largest = [f"{x['name']} {x['bytes'] / MIB:.0f} MiB" for x in d["largest"]]
        note = " (stopped counting early)" if d["truncated"] else ""
        out.append(
            Outcome(
                level(mb, p["warn_mb"], p["fail_mb"]),
                f"{d['path']} {mb:.0f} MiB in {d['files']} files{note}",
                {"path": d["path"], "mib": round(mb, 1), "files": d["files"], "largest": largest},
                subject=d["path"],
            )
        )
    return out or [warned("none of the directories exists", paths=p["paths"])]
