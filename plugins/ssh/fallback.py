"""Plain-command fallback for hosts without a usable ``python3``: a few core probes from standard tools.

One POSIX shell script per batch, sent over stdin to ``sh -s`` (one round trip, nothing user-supplied on the
command line); each section is framed by a random nonce so command output cannot forge a section. Covered:
cpu_load, memory, uptime, os_release, disk_usage, command_output (stderr merged into stdout). Any other probe
returns an error result naming the reason (no Python) and what the fallback covers.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.params import ParamError

if TYPE_CHECKING:
    from medic.plugins.ssh.connection import Connection

COVERED = ("cpu_load", "memory", "uptime", "os_release", "disk_usage", "command_output")
SKIP_TO_MARKER = 'while IFS= read -r l; do [ "$l" = "#medic-runner-begin" ] && break; done; exec sh -s'
MAX_OUTPUT = 64 * 1024
PSEUDO = ("tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs")


def shell_for(call: ProbeCall) -> str:
    """The shell commands answering one call (argv items quoted with shlex.quote)."""
    p = call.params
    if call.probe == "cpu_load":
        return "cat /proc/loadavg; getconf _NPROCESSORS_ONLN"
    if call.probe == "memory":
        return "cat /proc/meminfo"
    if call.probe == "uptime":
        return "cat /proc/uptime; date +%s"
    if call.probe == "os_release":
        return ("cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; echo; "
                "uname -s; uname -r; uname -m")
    if call.probe == "disk_usage":
        paths = " ".join(shlex.quote(str(x)) for x in p.get("paths") or [])
        return f"df -P -k -T {paths}; echo @@inodes; df -P -i {paths}"
    if call.probe == "command_output":
        argv = " ".join(shlex.quote(str(a)) for a in p.get("argv") or [])
        limit = shlex.quote(str(float(p.get("timeout", 10.0))))
        return (f"if command -v timeout >/dev/null; then LC_ALL=C timeout {limit} {argv}; "
                f"else LC_ALL=C {argv}; fi </dev/null 2>&1")
    raise KeyError(call.probe)


def script(calls: list[ProbeCall], nonce: str) -> str:
    parts = []
    for i, call in enumerate(calls):
        parts.append(f"printf '\\n@@{nonce} {i}\\n'; ( {shell_for(call)} ); "
                     f"printf '\\n@@{nonce} rc %s\\n' \"$?\"")
    return "\n".join(parts) + "\n"


def collect(conn: Connection, calls: list[ProbeCall], why: str, become: bool | None = None
            ) -> dict[ProbeCall, ProbeResult]:
    covered = [c for c in calls if c.probe in COVERED]
    message = f"{why} on {conn.host.name}; without Python only {', '.join(COVERED)} are collected"
    out = {c: ProbeResult(c.probe, c.params, False, None, message) for c in calls if c.probe not in COVERED}
    if not covered:
        return out
    nonce = secrets.token_hex(8)
    command, stdin = "sh -s", b""
    if conn.host.uses_sudo(become):
        password = os.environ.get(conn.host.become_password_env, "")
        command = f"sudo -S -p '' -- sh -c {shlex.quote(SKIP_TO_MARKER)}"
        stdin = (password.encode() + b"\n" if password else b"") + b"#medic-runner-begin\n"
    result = conn.run(command, stdin + script(covered, nonce).encode())
    sections = split(result.stdout.decode(errors="replace"), nonce, len(covered))
    for call, (text, rc) in zip(covered, sections, strict=True):
        out[call] = parse(call, text, rc)
    return out


def split(stdout: str, nonce: str, count: int) -> list[tuple[str, int | None]]:
    found: dict[int, tuple[str, int | None]] = {}
    pattern = re.compile(rf"\n@@{nonce} (\d+)\n(.*?)\n@@{nonce} rc (\d+)\n", re.S)
    for m in pattern.finditer("\n" + stdout):
        found[int(m.group(1))] = (m.group(2), int(m.group(3)))
    return [found.get(i, ("", None)) for i in range(count)]


def parse(call: ProbeCall, text: str, rc: int | None) -> ProbeResult:
    try:
        if call.probe == "command_output":
            data: Any = _command(call, text, rc)
        elif rc != 0:
            return ProbeResult(call.probe, call.params, False, None, f"fallback command failed (exit {rc}): "
                               f"{text.strip()[-300:]}")
        else:
            data = PARSERS[call.probe](text, call.params)
        return ProbeResult(call.probe, call.params, True, data)
    except (ValueError, KeyError, IndexError, ParamError) as exc:
        return ProbeResult(call.probe, call.params, False, None, f"cannot parse fallback output: {exc}")


def _command(call: ProbeCall, text: str, rc: int | None) -> dict[str, Any]:
    argv = list(call.params.get("argv") or [])
    found = rc != 127
    error = None if found else f"{argv[0] if argv else '?'}: command not found"
    if rc == 124:
        error = f"timed out after {float(call.params.get('timeout', 10.0)):g} s"
    return {"argv": argv, "found": found, "exit_code": rc if found else None, "stdout": text[:MAX_OUTPUT],
            "stderr": "", "error": error}


def _cpu_load(text: str, _p: dict[str, Any]) -> dict[str, Any]:
    lines = text.split()
    load1, load5, load15, cpus = float(lines[0]), float(lines[1]), float(lines[2]), int(lines[5]) or 1
    return {"load1": load1, "load5": load5, "load15": load15, "cpus": cpus,
            "load1_per_cpu": round(load1 / cpus, 3), "load5_per_cpu": round(load5 / cpus, 3),
            "load15_per_cpu": round(load15 / cpus, 3)}


def _memory(text: str, _p: dict[str, Any]) -> dict[str, Any]:
    mi = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if rest.split():
            mi[key] = int(rest.split()[0]) * 1024
    total, available = mi["MemTotal"], mi.get("MemAvailable", mi.get("MemFree", 0))
    swap_total, swap_used = mi.get("SwapTotal", 0), mi.get("SwapTotal", 0) - mi.get("SwapFree", 0)
    return {"total_bytes": total, "available_bytes": available,
            "available_pct": round(100.0 * available / total, 2) if total else 0.0,
            "swap_total_bytes": swap_total, "swap_used_bytes": swap_used,
            "swap_used_pct": round(100.0 * swap_used / swap_total, 2) if swap_total else 0.0}


def _uptime(text: str, _p: dict[str, Any]) -> dict[str, Any]:
    fields = text.split()
    up, now = float(fields[0]), float(fields[2])
    return {"boot_time": now - up, "uptime_s": round(up, 1), "collected_at": now}


def _os_release(text: str, _p: dict[str, Any]) -> dict[str, Any]:
    lines = text.rstrip("\n").splitlines()
    system, kernel, machine = lines[-3:]
    rel = {}
    for line in lines[:-3]:
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            rel[key.strip()] = value.strip().strip('"').strip("'")
    return {"system": system, "kernel": kernel, "machine": machine, "id": rel.get("ID", system.lower()),
            "version_id": rel.get("VERSION_ID", ""),
            "pretty_name": rel.get("PRETTY_NAME", f"{system} {kernel}"),
            "version_codename": rel.get("VERSION_CODENAME", ""), "id_like": rel.get("ID_LIKE", "")}


def _disk_usage(text: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    blocks, _, inodes_text = text.partition("@@inodes")
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
        if total == 0 or (not p.get("paths") and fstype in PSEUDO and mount != "/"):
            continue
        itotal, ifree = inodes.get(mount, (0, 0))
        out.append({"mountpoint": mount, "device": device, "fstype": fstype, "total_bytes": total * 1024,
                    "used_bytes": used * 1024, "free_bytes": avail * 1024,
                    "used_pct": round(100.0 * used / (used + avail), 2) if used + avail else 0.0,
                    "inodes_total": itotal, "inodes_free": ifree,
                    "inodes_used_pct": round(100.0 * (itotal - ifree) / itotal, 2) if itotal else 0.0})
    return out


PARSERS: dict[str, Callable[[str, dict[str, Any]], Any]] = {
    "cpu_load": _cpu_load, "memory": _memory, "uptime": _uptime, "os_release": _os_release,
    "disk_usage": _disk_usage,
}
