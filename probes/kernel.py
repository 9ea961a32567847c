"""Kernel and process-sampling probes: recent kernel messages, CPU use per process over an interval."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.params import Param
from medic.kernel.probe import Command, probe
from medic.probes.system import _proc_processes

try:
    import psutil
except ImportError:  # a remote host without psutil: fall back to /proc
    psutil = None  # type: ignore[assignment]


def last_lines(text: str, params: Mapping[str, Any]) -> list[str]:
    """The last ``lines`` messages, each capped at 300 characters."""
    return [line[:300] for line in text.splitlines()[-int(params["lines"]):]]


DMESG_ISO = Command.fixed(["dmesg", "--time-format=iso"], last_lines)
DMESG = Command.fixed(["dmesg"], last_lines)


@probe(
    "kernel_log",
    params=[
        Param("lines", "int", 3000, "last N kernel messages"),
        Param("path", "string", "/var/log/kern.log", "log file used when dmesg is unreadable"),
    ],
    description="Recent kernel messages (dmesg, else the kernel log file), each line capped at 300 "
    "characters.",
    cost=2,
)
def kernel_log(lines: int = 3000, path: str = "/var/log/kern.log") -> dict[str, Any]:

    text, source = None, ""
    for command in (DMESG_ISO, DMESG):  # ISO stamps let checks keep a time window
        argv = command.argv({})
        try:
            proc = subprocess.run(
                argv, capture_output=True, timeout=10, check=False, env={**os.environ, "LC_ALL": "C"}
            )
        except (OSError, subprocess.SubprocessError):
            break
        if proc.returncode == 0:
            text, source = proc.stdout.decode(errors="replace"), " ".join(argv)
            break
    if text is None:
        try:
            with open(path, "rb") as fh:
                fh.seek(max(0, os.path.getsize(path) - 4 * 1024 * 1024))
                text, source = fh.read().decode(errors="replace"), path
        except OSError:
            raise ProbeUnavailable(f"kernel log not readable here (dmesg refused, no {path})") from None
    return {"source": source, "lines": last_lines(text, {"lines": lines})}


def _cpu_times() -> dict[int, tuple[float, str, str]]:
    """pid -> (cpu seconds, name, cmdline) from psutil or /proc."""
    if psutil is not None:
        out = {}
        for proc in psutil.process_iter(["pid", "name", "cmdline", "cpu_times"]):
            cpu = proc.info.get("cpu_times")
            if cpu is not None:
                out[proc.info["pid"]] = (
                    cpu.user + cpu.system,
                    proc.info.get("name") or "",
                    " ".join(proc.info.get("cmdline") or []),
                )
        return out
    return {p["pid"]: (p["cpu_s"], p["name"], p["cmdline"]) for p in _proc_processes()}


@probe(
    "process_cpu",
    params=[
        Param("interval_s", "float", 1.0, "sampling interval (seconds)"),
        Param("top", "int", 10, "how many processes to report"),
    ],
    description="Top processes by CPU use over a short sampling interval (% of one CPU).",
    live=True,
    cost=3,
)
def process_cpu(interval_s: float = 1.0, top: int = 10) -> dict[str, Any]:
    before = _cpu_times()
    started = time.monotonic()
    time.sleep(interval_s)
    after = _cpu_times()
    elapsed = time.monotonic() - started
    rows: list[dict[str, Any]] = []
    for pid, (cpu, name, cmdline) in after.items():
        if pid in before:
            pct = 100.0 * (cpu - before[pid][0]) / elapsed
            rows.append({"pid": pid, "name": name, "cmdline": cmdline[:200], "cpu_pct": round(pct, 1)})
    rows.sort(key=lambda r: -float(r["cpu_pct"]))
    return {"interval_s": round(elapsed, 3), "cpus": os.cpu_count() or 1, "top": rows[:top]}
