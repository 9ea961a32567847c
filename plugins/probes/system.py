"""System probes: disks, memory, CPU load, uptime, OS release, processes, clock."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.params import Param
from medic.kernel.probe import probe

try:
    import psutil
except ImportError:  # a remote host without psutil: fall back to /proc
    psutil = None  # type: ignore[assignment]

PSEUDO_FS = frozenset(
    {
        "proc",
        "sysfs",
        "devtmpfs",
        "devpts",
        "tmpfs",
        "cgroup",
        "cgroup2",
        "securityfs",
        "pstore",
        "debugfs",
        "tracefs",
        "configfs",
        "fusectl",
        "mqueue",
        "hugetlbfs",
        "bpf",
        "autofs",
        "binfmt_misc",
        "rpc_pipefs",
        "nsfs",
        "squashfs",
        "overlay",
        "ramfs",
        "efivarfs",
        "selinuxfs",
        "fuse.lxcfs",
        "nfsd",
    }
)


def _mounts() -> list[tuple[str, str, str]]:
    """(device, mountpoint, fstype) of real filesystems."""
    if psutil is not None:
        parts = [(p.device, p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=True)]
    else:
        parts = []
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                parts.append((fields[0], fields[1].replace("\\040", " "), fields[2]))
    keep = [p for p in parts if p[2] not in PSEUDO_FS or p[1] == "/"]
    return list({p[1]: p for p in keep}.values())


@probe(
    "disk_usage",
    params=[Param("paths", "list", None, "mount points to report; default: every real mount")],
    description="Space and inodes used per mounted filesystem.",
    cost=1,
)
def disk_usage(paths: list[str] | None = None) -> list[dict[str, Any]]:
    mounts = [(dev, mp, fs) for dev, mp, fs in _mounts()] if not paths else [("", p, "") for p in paths]
    out = []
    for device, mountpoint, fstype in mounts:
        try:
            st = os.statvfs(mountpoint)
        except OSError:
            continue
        total = st.f_blocks * st.f_frsize
        if total == 0:
            continue
        avail = st.f_bavail * st.f_frsize
        used = total - st.f_bfree * st.f_frsize
        inodes = st.f_files
        out.append(
            {
                "mountpoint": mountpoint,
                "device": device,
                "fstype": fstype,
                "total_bytes": total,
                "used_bytes": used,
                "free_bytes": avail,
                # like df: used / (used + available to unprivileged users)
                "used_pct": round(100.0 * used / (used + avail), 2) if used + avail else 0.0,
                "inodes_total": inodes,
                "inodes_free": st.f_favail,
                "inodes_used_pct": round(100.0 * (inodes - st.f_ffree) / inodes, 2) if inodes else 0.0,
            }
        )
    return out


def _meminfo() -> dict[str, int]:
    out = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            out[key] = int(parts[0]) * 1024
    return out


@probe("memory", description="Physical memory and swap: totals, available, used.")
def memory() -> dict[str, Any]:
    if psutil is not None:
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
        total, available = vm.total, vm.available
        swap_total, swap_used = sw.total, sw.used
    else:
        mi = _meminfo()
        total, available = mi["MemTotal"], mi.get("MemAvailable", mi.get("MemFree", 0))
        swap_total, swap_used = mi.get("SwapTotal", 0), mi.get("SwapTotal", 0) - mi.get("SwapFree", 0)
    return {
        "total_bytes": total,
        "available_bytes": available,
        "available_pct": round(100.0 * available / total, 2) if total else 0.0,
        "swap_total_bytes": swap_total,
        "swap_used_bytes": swap_used,
        "swap_used_pct": round(100.0 * swap_used / swap_total, 2) if swap_total else 0.0,
    }


@probe("cpu_load", description="Load averages and the number of logical CPUs.")
def cpu_load() -> dict[str, Any]:
    try:
        load1, load5, load15 = os.getloadavg()
    except OSError as exc:
        raise ProbeUnavailable(f"load average not available on this system: {exc}") from None
    cpus = os.cpu_count() or 1
    return {
        "load1": load1,
        "load5": load5,
        "load15": load15,
        "cpus": cpus,
        "load1_per_cpu": round(load1 / cpus, 3),
        "load5_per_cpu": round(load5 / cpus, 3),
        "load15_per_cpu": round(load15 / cpus, 3),
    }


@probe("uptime", description="Boot time and seconds since boot (as of collection).")
def uptime() -> dict[str, Any]:
    now = time.time()
    boot = psutil.boot_time() if psutil is not None else now - float(Path("/proc/uptime").read_text().split()[0])
    return {"boot_time": boot, "uptime_s": round(now - boot, 1), "collected_at": now}


def _os_release() -> dict[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        out = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.startswith("#"):
                out[key.strip()] = value.strip().strip('"').strip("'")
        return out
    return {}


@probe("os_release", description="Operating system identity, version and kernel.")
def os_release() -> dict[str, Any]:
    rel = _os_release()
    return {
        "system": platform.system(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "id": rel.get("ID", platform.system().lower()),
        "version_id": rel.get("VERSION_ID", ""),
        "pretty_name": rel.get("PRETTY_NAME", f"{platform.system()} {platform.release()}"),
        "version_codename": rel.get("VERSION_CODENAME", ""),
        "id_like": rel.get("ID_LIKE", ""),
    }


def _proc_processes() -> list[dict[str, Any]]:
    out = []
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out.append(
            {
                "pid": int(entry.name),
                "ppid": int(fields[1]),
                "name": name,
                "status": fields[0],
                "cmdline": cmdline.strip(),
                "rss_bytes": int(fields[21]) * page,
                "username": "",
                "cpu_s": (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
            }
        )
    return out


@probe(
    "processes",
    description="Running processes: pid, name, command line, status, memory and CPU time.",
    cost=3,
)
def processes() -> list[dict[str, Any]]:
    if psutil is None:
        return _proc_processes()
    out = []
    attrs = ["pid", "ppid", "name", "status", "cmdline", "memory_info", "cpu_times", "username"]
    for proc in psutil.process_iter(attrs):
        info = proc.info
        mem, cpu = info.get("memory_info"), info.get("cpu_times")
        out.append(
            {
                "pid": info["pid"],
                "ppid": info.get("ppid") or 0,
                "name": info.get("name") or "",
                "status": _short_status(info.get("status") or ""),
                "cmdline": " ".join(info.get("cmdline") or []),
                "rss_bytes": mem.rss if mem else 0,
                "username": info.get("username") or "",
                "cpu_s": (cpu.user + cpu.system) if cpu else 0.0,
            }
        )
    return out


def _short_status(status: str) -> str:
    # one vocabulary whatever produced the data: /proc's single letters
    return {
        "running": "R",
        "sleeping": "S",
        "disk-sleep": "D",
        "stopped": "T",
        "zombie": "Z",
        "idle": "I",
        "dead": "X",
        "tracing-stop": "t",
    }.get(status, status[:1].upper() if status else "?")


@probe("clock", description="Wall clock, time zone and whether the system clock is synchronised (NTP).")
def clock() -> dict[str, Any]:
    synced: bool | None = None
    source = "unknown"
    # adjtimex(2)'s STA_UNSYNC is the kernel's own view; systemd-timedated and chrony both set it
    try:
        import ctypes
        import ctypes.util

        class Timex(ctypes.Structure):  # struct timex, modes = 0 (read only); the rest is room for the kernel
            _fields_ = [("modes", ctypes.c_uint), ("rest", ctypes.c_long * 64)]

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = Timex()
        state = libc.adjtimex(ctypes.byref(tx))
        if state >= 0:
            synced = state != 5  # TIME_ERROR: clock not synchronised
            source = "adjtimex"
    except (OSError, AttributeError):
        pass
    return {
        "epoch": time.time(),
        "timezone": time.strftime("%Z"),
        "utc_offset_s": -time.timezone,
        "synchronized": synced,
        "source": source,
    }
