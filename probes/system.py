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
from medic.probes.system_parse import (
    DF,
    LOADAVG,
    MEMINFO,
    OS_RELEASE,
    PSEUDO_FS,
    UPTIME,
    disk_row,
    load_data,
    memory_data,
    one_per_filesystem,
    os_data,
    parse_memory,
    parse_os_release_file,
    uptime_data,
)

try:
    import psutil
except ImportError:  # a remote host without psutil: fall back to /proc
    psutil = None  # type: ignore[assignment]

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
    command=DF,
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
        sizes = (total, total - st.f_bfree * st.f_frsize, st.f_bavail * st.f_frsize)
        out.append(disk_row(mountpoint, device, fstype, sizes, (st.f_files, st.f_favail, st.f_files - st.f_ffree)))
    return out if paths else one_per_filesystem(out, _mountinfo())


def _mountinfo() -> str:
    try:
        return Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:  # not Linux: no bind mounts to fold
        return ""


@probe("memory", description="Physical memory and swap: totals, available, used.", command=MEMINFO)
def memory() -> dict[str, Any]:
    if psutil is None:
        return parse_memory(Path("/proc/meminfo").read_text(), {})
    vm, sw = psutil.virtual_memory(), psutil.swap_memory()
    return memory_data(vm.total, vm.available, sw.total, sw.used)


@probe("cpu_load", description="Load averages and the number of logical CPUs.", command=LOADAVG)
def cpu_load() -> dict[str, Any]:
    try:
        load1, load5, load15 = os.getloadavg()
    except OSError as exc:
        raise ProbeUnavailable(f"load average not available on this system: {exc}") from None
    return load_data(load1, load5, load15, os.cpu_count() or 1)


@probe("uptime", description="Boot time and seconds since boot (as of collection).", command=UPTIME)
def uptime() -> dict[str, Any]:
    now = time.time()
    boot = psutil.boot_time() if psutil is not None else now - float(Path("/proc/uptime").read_text().split()[0])
    return uptime_data(boot, now - boot, now)


def _os_release() -> dict[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            return parse_os_release_file(Path(path).read_text())
        except OSError:
            continue
    return {}


@probe("os_release", description="Operating system identity, version and kernel.", command=OS_RELEASE)
def os_release() -> dict[str, Any]:
    return os_data(platform.system(), platform.release(), platform.machine(), _os_release())


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
