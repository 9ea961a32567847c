"""Pure parsers for the system probes' text sources (/proc files, os-release, df) and the commands that produce
that text on a host without Python.

The probes in :mod:`medic.probes.system` build their data with the same functions, so a host answered by
the plain-command fallback (:mod:`medic.plugins.ssh.fallback`) gives the same shape of data as a local probe.
Recorded outputs of these commands live in ``tests/probes/fixtures``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from medic.kernel.probe import Command

PSEUDO_FS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "securityfs", "pstore", "debugfs",
    "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "bpf", "autofs", "binfmt_misc", "rpc_pipefs", "nsfs",
    "squashfs", "overlay", "ramfs", "efivarfs", "selinuxfs", "fuse.lxcfs", "nfsd",
})
INODES_MARK = "@@inodes"
MOUNTINFO_MARK = "@@mountinfo"


def load_data(load1: float, load5: float, load15: float, cpus: int) -> dict[str, Any]:
    return {"load1": load1, "load5": load5, "load15": load15, "cpus": cpus,
            "load1_per_cpu": round(load1 / cpus, 3), "load5_per_cpu": round(load5 / cpus, 3),
            "load15_per_cpu": round(load15 / cpus, 3)}


def parse_loadavg(text: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    """/proc/loadavg, then the number of online CPUs on the next line."""
    fields = text.split()
    return load_data(float(fields[0]), float(fields[1]), float(fields[2]), int(fields[5]) or 1)


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo as bytes per key."""
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            out[key] = int(parts[0]) * 1024
    return out


def memory_data(total: int, available: int, swap_total: int, swap_used: int) -> dict[str, Any]:
    return {"total_bytes": total, "available_bytes": available,
            "available_pct": round(100.0 * available / total, 2) if total else 0.0,
            "swap_total_bytes": swap_total, "swap_used_bytes": swap_used,
            "swap_used_pct": round(100.0 * swap_used / swap_total, 2) if swap_total else 0.0}


def parse_memory(text: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    mi = parse_meminfo(text)
    total, available = mi["MemTotal"], mi.get("MemAvailable", mi.get("MemFree", 0))
    return memory_data(total, available, mi.get("SwapTotal", 0), mi.get("SwapTotal", 0) - mi.get("SwapFree", 0))


def uptime_data(boot: float, uptime_s: float, now: float) -> dict[str, Any]:
    return {"boot_time": boot, "uptime_s": round(uptime_s, 1), "collected_at": now}


def parse_uptime(text: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    """/proc/uptime, then ``date +%s``."""
    fields = text.split()
    up, now = float(fields[0]), float(fields[2])
    return uptime_data(now - up, up, now)


def parse_os_release_file(text: str) -> dict[str, str]:
    """KEY=value lines of os-release(5), quotes removed."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def os_data(system: str, kernel: str, machine: str, rel: Mapping[str, str]) -> dict[str, Any]:
    return {"system": system, "kernel": kernel, "machine": machine, "id": rel.get("ID", system.lower()),
            "version_id": rel.get("VERSION_ID", ""), "pretty_name": rel.get("PRETTY_NAME", f"{system} {kernel}"),
            "version_codename": rel.get("VERSION_CODENAME", ""), "id_like": rel.get("ID_LIKE", "")}


def parse_os_release(text: str, _params: Mapping[str, Any]) -> dict[str, Any]:
    """os-release, then ``uname -s``, ``uname -r`` and ``uname -m`` on the last three lines."""
    lines = text.rstrip("\n").splitlines()
    system, kernel, machine = lines[-3:]
    return os_data(system, kernel, machine, parse_os_release_file("\n".join(lines[:-3])))


def disk_row(mountpoint: str, device: str, fstype: str, sizes: tuple[int, int, int],
             inodes: tuple[int, int, int]) -> dict[str, Any]:
    """One filesystem; ``sizes``: total, used, available bytes; ``inodes``: total, free, used."""
    total, used, avail = sizes
    inodes_total, inodes_free, inodes_used = inodes
    return {"mountpoint": mountpoint, "device": device, "fstype": fstype, "total_bytes": total,
            "used_bytes": used, "free_bytes": avail,
            # like df: used / (used + available to unprivileged users)
            "used_pct": round(100.0 * used / (used + avail), 2) if used + avail else 0.0,
            "inodes_total": inodes_total, "inodes_free": inodes_free,
            "inodes_used_pct": round(100.0 * inodes_used / inodes_total, 2) if inodes_total else 0.0}


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> dict[str, tuple[str, str, str]]:
    """``/proc/self/mountinfo``: mount point -> (major:minor, mount source, root of the mount in its
    filesystem); the last mount on a mount point wins, as it hides the others."""
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields[6:] or len(fields) < 10:
            continue
        dash = fields.index("-", 6)
        if len(fields) > dash + 2:
            out[_unescape(fields[4])] = (fields[2], _unescape(fields[dash + 2]), _unescape(fields[3]))
    return out


def one_per_filesystem(rows: list[dict[str, Any]], mountinfo: str) -> list[dict[str, Any]]:
    """Bind mounts (the same filesystem mounted again, whole or a directory of it) reported once: rows with the
    same device number and mount source keep the mount of the filesystem's shortest root (``/`` before a bound
    directory), the earliest in the mount table on a tie. Used by the psutil probe and the ``df`` fallback alike;
    without mountinfo (not Linux) rows stay as they are."""
    info = parse_mountinfo(mountinfo)
    order = {mp: i for i, mp in enumerate(info)}
    best: dict[tuple[str, str], tuple[tuple[int, int], str]] = {}
    for row in rows:
        found = info.get(row["mountpoint"])
        if found is None:
            continue
        rank = (len(found[2]), order[row["mountpoint"]])
        key = found[:2]
        if key not in best or rank < best[key][0]:
            best[key] = (rank, row["mountpoint"])
    chosen = {mp for _, mp in best.values()}
    return [r for r in rows if r["mountpoint"] in chosen or r["mountpoint"] not in info]


def parse_df(text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``df -P -k -T``, a line ``@@inodes``, ``df -P -i`` (POSIX output: one line per filesystem), then a line
    ``@@mountinfo`` and /proc/self/mountinfo (empty where there is none)."""
    text, _, mountinfo = text.partition(MOUNTINFO_MARK)
    blocks, _, inodes_text = text.partition(INODES_MARK)
    inodes = {}
    for line in inodes_text.strip().splitlines()[1:]:
        f = line.split()
        if len(f) >= 6 and f[1].isdigit():
            inodes[" ".join(f[5:])] = (int(f[1]), int(f[3]))
    out = []
    for line in blocks.strip().splitlines()[1:]:
        f = line.split()
        if len(f) < 7 or not f[2].isdigit():
            continue
        device, fstype, mount = f[0], f[1], " ".join(f[6:])
        total, used, avail = int(f[2]), int(f[3]), int(f[4])
        if total == 0 or (not params.get("paths") and fstype in PSEUDO_FS and mount != "/"):
            continue
        itotal, ifree = inodes.get(mount, (0, 0))
        out.append(disk_row(mount, device, fstype, (total * 1024, used * 1024, avail * 1024),
                            (itotal, ifree, itotal - ifree)))
    return out if params.get("paths") else one_per_filesystem(out, mountinfo)


def _df_argv(params: Mapping[str, Any]) -> list[str]:
    # the paths travel as sh's positional arguments, never inside the script text
    if params.get("paths"):  # what was asked, as it is
        script = f'df -P -k -T "$@"; echo {INODES_MARK}; df -P -i "$@"'
    else:  # -a: GNU df folds bind mounts by a rule of its own; fold them with one_per_filesystem instead
        script = (f'df -a -P -k -T; echo {INODES_MARK}; df -a -P -i; echo {MOUNTINFO_MARK}; '
                  'cat /proc/self/mountinfo 2>/dev/null; true')
    return ["sh", "-c", script, "sh", *(str(p) for p in params.get("paths") or [])]


LOADAVG = Command.fixed(["sh", "-c", "cat /proc/loadavg; getconf _NPROCESSORS_ONLN"], parse_loadavg)
MEMINFO = Command.fixed(["cat", "/proc/meminfo"], parse_memory)
UPTIME = Command.fixed(["sh", "-c", "cat /proc/uptime; date +%s"], parse_uptime)
OS_RELEASE = Command.fixed(
    ["sh", "-c", "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; echo; uname -s; uname -r; uname -m"],
    parse_os_release)
DF = Command(_df_argv, parse_df)
