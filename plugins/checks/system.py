"""System checks: disk space and inodes (one implementation), memory, CPU load, clock, uptime, OS identity."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from medic.core.check import ProbeData, check, level
from medic.kernel.models import Outcome, ProbeCall, Status, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping, rows

GIB = 1024**3


@dataclass(frozen=True)
class MountMeasure:
    """What a per-mount usage check reads from each ``disk_usage`` row, and how it words the outcome."""

    pct_key: str  # the row's "% used" figure the thresholds apply to
    summary: Callable[[Mapping[str, Any]], str]
    evidence: Callable[[Mapping[str, Any]], dict[str, Any]]
    counted: Callable[[Mapping[str, Any]], bool] = lambda _row: True  # whether the mount has this figure


SPACE = MountMeasure(
    "used_pct",
    lambda d: f"{d['mountpoint']} {d['used_pct']:.0f}% used, {d['free_bytes'] / GIB:.1f} GiB free of "
    f"{d['total_bytes'] / GIB:.1f} GiB",
    lambda d: {
        "mountpoint": d["mountpoint"],
        "used_pct": d["used_pct"],
        "free_bytes": d["free_bytes"],
        "device": d.get("device", ""),
    },
)
INODES = MountMeasure(
    "inodes_used_pct",
    lambda d: f"{d['mountpoint']} {d['inodes_used_pct']:.0f}% of {d['inodes_total']} inodes used",
    lambda d: {"mountpoint": d["mountpoint"], "inodes_used_pct": d["inodes_used_pct"], "inodes_free": d["inodes_free"]},
    counted=lambda d: bool(d.get("inodes_total")),  # filesystems without a fixed inode table have none
)


def mount_usage(data: ProbeData, p: dict[str, Any], measure: MountMeasure) -> list[Outcome]:
    """One outcome per mount that has the measure: warn at warn_pct used, fail at fail_pct."""
    return [
        Outcome(
            level(d[measure.pct_key], p["warn_pct"], p["fail_pct"]),
            measure.summary(d),
            measure.evidence(d),
            subject=d["mountpoint"],
        )
        for d in rows(data, "disks")
        if measure.counted(d)
    ]


def _mounts(p: dict[str, Any]) -> dict[str, ProbeCall]:
    return {"disks": ProbeCall.make("disk_usage", paths=p["mounts"] or None)}


def _usage_params(used: str) -> list[Param]:
    return [
        Param("warn_pct", "float", 85.0, f"warn at this % {used}"),
        Param("fail_pct", "float", 95.0, f"fail at this % {used}"),
        Param(
            "mounts", "list", [], "only these mount points (default: all real filesystems)", items="string"
        ),
    ]


@check(
    "system.disk_space",
    title="Disk space",
    category="hardware",
    severity="high",
    needs=_mounts,
    params=_usage_params("used"),
    remediation="Free space on the named mount: rotate or delete old logs (journalctl --vacuum-size), clean "
    "package caches and temp files, find big directories with du -xh --max-depth=2; or grow it.",
    description="One outcome per mount: warn at warn_pct used, fail at fail_pct used (like df's Use%).",
)
def disk_space(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    return mount_usage(data, p, SPACE) or [warned("no filesystem reported", mounts=p["mounts"])]


@check(
    "system.memory",
    title="Memory available",
    category="hardware",
    severity="high",
    needs={"mem": "memory"},
    params=[
        Param("warn_pct", "float", 15.0, "warn below this % available"),
        Param("fail_pct", "float", 5.0, "fail below this % available"),
    ],
    remediation="Find the biggest consumers (ps aux --sort=-rss | head), restart leaking services, add "
    "memory or swap, or lower caches/worker counts.",
    description="warn below warn_pct of memory available, fail below fail_pct.",
)
def memory(data: ProbeData, p: dict[str, Any]) -> Outcome:
    m = mapping(data, "mem")
    pct = m["available_pct"]
    status = Status.FAIL if pct < p["fail_pct"] else Status.WARN if pct < p["warn_pct"] else Status.PASS
    return Outcome(
        status,
        f"{pct:.0f}% of {m['total_bytes'] / GIB:.1f} GiB memory available",
        {"available_pct": pct, "available_bytes": m["available_bytes"], "total_bytes": m["total_bytes"]},
    )


@check(
    "system.cpu_load",
    title="CPU load per core",
    category="hardware",
    severity="medium",
    needs={"load": "cpu_load"},
    params=[
        Param("warn_per_cpu", "float", 1.0, "warn at this 5-minute load per CPU"),
        Param("fail_per_cpu", "float", 2.0, "fail at this 5-minute load per CPU"),
    ],
    remediation="Look at the top CPU consumers (top -o %CPU); check for runaway processes, stuck I/O (load "
    "counts D-state tasks) or too many workers for the cores available.",
    description="Uses the 5-minute load average divided by logical CPUs.",
)
def cpu_load(data: ProbeData, p: dict[str, Any]) -> Outcome:
    d = mapping(data, "load")
    per = d["load5_per_cpu"]
    status = level(per, p["warn_per_cpu"], p["fail_per_cpu"])
    return Outcome(
        status,
        f"load {d['load1']:.2f} / {d['load5']:.2f} / {d['load15']:.2f} on {d['cpus']} CPUs "
        f"({per:.2f} per CPU over 5 min)",
        {"load1": d["load1"], "load5": d["load5"], "load15": d["load15"], "cpus": d["cpus"]},
    )


@check(
    "system.clock_sync",
    title="Clock synchronised",
    category="configuration",
    severity="medium",
    needs={"clock": "clock"},
    remediation="Enable time synchronisation (timedatectl set-ntp true, or chrony/ntpd) and check UDP 123 "
    "to the time servers; TLS, Kerberos and logs all depend on a correct clock.",
    description="warn when the kernel reports the clock unsynchronised; skipped when it cannot tell.",
)
def clock_sync(data: ProbeData, p: dict[str, Any]) -> Outcome:
    c = mapping(data, "clock")
    if c["synchronized"] is None:
        return Outcome(Status.SKIPPED, "cannot tell whether the clock is synchronised on this system")
    if c["synchronized"]:
        return passed(f"clock synchronised (timezone {c['timezone']})", timezone=c["timezone"])
    return warned("system clock is not synchronised (no NTP)", timezone=c["timezone"], source=c["source"])


@check(
    "system.uptime",
    title="Uptime and recent reboot",
    category="hardware",
    severity="low",
    needs={"up": "uptime"},
    params=[Param("recent_reboot_s", "float", 600.0, "warn when booted less than this long ago (s)")],
    remediation="An unexpected reboot: read the previous boot's log (journalctl -b -1 -e) and the kernel log "
    "for panics, OOM or power events.",
    description="warn when the machine booted within recent_reboot_s seconds; evidence gives boot time.",
)
def uptime(data: ProbeData, p: dict[str, Any]) -> Outcome:
    u = mapping(data, "up")
    hours = u["uptime_s"] / 3600
    if u["uptime_s"] < p["recent_reboot_s"]:
        return warned(
            f"rebooted {u['uptime_s'] / 60:.0f} min ago", uptime_s=u["uptime_s"], boot_time=u["boot_time"]
        )
    return passed(
        f"up {hours / 24:.1f} days" if hours >= 48 else f"up {hours:.1f} hours",
        uptime_s=u["uptime_s"],
        boot_time=u["boot_time"],
    )


@check(
    "system.os_info",
    title="OS and kernel",
    category="software",
    severity="info",
    needs={"os": "os_release"},
    remediation="Nothing to fix: this records the OS for the report; see software.os_supported for support "
    "status.",
    description="Always passes; records the OS, version and kernel for the report.",
)
def os_info(data: ProbeData, p: dict[str, Any]) -> Outcome:
    o = mapping(data, "os")
    return passed(
        f"{o['pretty_name']}, kernel {o['kernel']} ({o['machine']})",
        id=o["id"],
        version_id=o["version_id"],
        kernel=o["kernel"],
    )


@check(
    "system.inodes",
    title="Inodes free",
    category="hardware",
    severity="high",
    needs=_mounts,
    params=_usage_params("of inodes used"),
    remediation="Something created very many small files: find the directory (du --inodes -x / | sort -n | "
    "tail), then clean session/cache/mail queue files; inode counts are fixed at mkfs time.",
    description="One outcome per mount with inodes (filesystems without a fixed inode table are left out): "
    "warn at warn_pct used, fail at fail_pct.",
)
def inodes(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    return mount_usage(data, p, INODES) or [Outcome(Status.SKIPPED, "no filesystem here reports an inode count")]


@check(
    "system.swap",
    title="Swap use",
    category="hardware",
    severity="medium",
    needs={"mem": "memory"},
    params=[
        Param("warn_pct", "float", 50.0, "warn at this % of swap used"),
        Param("fail_pct", "float", 90.0, "fail at this % of swap used"),
    ],
    remediation="Heavy swapping slows everything: find the memory consumers (ps aux --sort=-rss | head), "
    "restart leaking processes, add memory; adding swap only delays OOM kills.",
    description="warn at warn_pct of swap used, fail at fail_pct; passes (noting it) when there is no swap.",
)
def swap(data: ProbeData, p: dict[str, Any]) -> Outcome:
    m = mapping(data, "mem")
    if not m["swap_total_bytes"]:
        return passed("no swap configured", swap_total_bytes=0)
    pct = m["swap_used_pct"]
    return Outcome(
        level(pct, p["warn_pct"], p["fail_pct"]),
        f"{pct:.0f}% of {m['swap_total_bytes'] / GIB:.1f} GiB swap used",
        {
            "swap_used_pct": pct,
            "swap_used_bytes": m["swap_used_bytes"],
            "swap_total_bytes": m["swap_total_bytes"],
        },
    )
