"""Kernel and clock checks: hardware errors and OOM kills in the kernel log, clock offset against NTP."""

from __future__ import annotations

import datetime
import re
from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, Status, failed, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping

HW_PATTERN = (
    r"I/O error|blk_update_request|Buffer I/O error|critical medium error|ata\d+.*(?:failed command|"
    r"exception Emask)|Machine check|mce: \[Hardware Error\]|EDAC .*(?:CE|UE)|Hardware Error|"
    r"corrected error|uncorrectable error|SMART.*fail|nvme.*(?:timeout|reset)|thermal.*critical"
)
OOM_PATTERN = (
    r"Out of memory: Kill|oom-kill:|Killed process \d+|invoked oom-killer|Memory cgroup out of memory"
)


_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[.,]\d+)?([+-]\d\d:?\d\d|Z)?")


def _stamp(line: str) -> float | None:
    m = _ISO.match(line)
    if not m:
        return None
    zone = (m.group(2) or "+00:00").replace("Z", "+00:00")
    try:
        return datetime.datetime.fromisoformat(m.group(1) + zone).timestamp()
    except ValueError:
        return None


def _hits(data: ProbeData, p: dict[str, Any], pattern: str) -> tuple[list[str], str]:
    """Matching kernel lines within the last window_h hours (lines without an ISO time stamp always count)."""
    rx = re.compile(pattern, re.IGNORECASE)
    lines = mapping(data, "klog")["lines"]
    now = mapping(data, "now") if data.get("now") else None
    if not p["window_h"] or not now:
        return [line for line in lines if rx.search(line)], f"the last {len(lines)} kernel messages"
    since = float(now["epoch"]) - 3600 * p["window_h"]
    hits = [line for line in lines if rx.search(line) and ((_stamp(line) or since) >= since)]
    return hits, f"kernel messages of the last {p['window_h']:g} h"


def _needs(p: dict[str, Any]) -> dict[str, ProbeCall]:
    return {"klog": ProbeCall.make("kernel_log", lines=p["lines"]), "now": ProbeCall.make("clock")}


@check(
    "system.kernel_hw_errors",
    title="Hardware errors in the kernel log",
    category="hardware",
    severity="high",
    needs=_needs,
    params=[
        Param("pattern", "string", HW_PATTERN, "regular expression of hardware error messages"),
        Param("fail_count", "int", 5, "fail at this many matching messages (fewer: warn)"),
        Param("lines", "int", 3000, "recent kernel messages to read"),
        Param("window_h", "float", 24.0, "only messages of the last N hours, when time-stamped (0: all)"),
    ],
    remediation="Disk I/O errors: check SMART (smartctl -a DEV), cables and RAID state, back up now. "
    "MCE/ECC: "
    "run the vendor diagnostics and plan a memory/CPU replacement.",
    description="warn on any kernel message of the last window_h hours matching the pattern (disk I/O "
    "errors, MCE/EDAC memory errors, NVMe resets), fail at fail_count. Evidence: the last 10 matching lines.",
)
def kernel_hw_errors(data: ProbeData, p: dict[str, Any]) -> Outcome:
    hits, scope = _hits(data, p, p["pattern"])
    ev = {"source": mapping(data, "klog")["source"], "matches": len(hits), "lines": hits[-10:]}
    if not hits:
        return passed(f"no hardware errors in {scope}", **ev)
    status = Status.FAIL if len(hits) >= p["fail_count"] else Status.WARN
    return Outcome(status, f"{len(hits)} hardware error message(s) in {scope}, last: {hits[-1][:160]}", ev)


@check(
    "system.oom_kills",
    title="OOM kills",
    category="hardware",
    severity="high",
    needs=_needs,
    params=[
        Param("fail_count", "int", 1, "fail at this many OOM kills (0: only warn)"),
        Param("lines", "int", 3000, "recent kernel messages to read"),
        Param("window_h", "float", 24.0, "only messages of the last N hours, when time-stamped (0: all)"),
    ],
    remediation="The kernel killed processes for lack of memory: see which (evidence), lower their memory "
    "limits or workers, add RAM, or fix the leak; check cgroup limits for containers.",
    description="Counts OOM-killer messages of the last window_h hours: fail at fail_count kills, warn below "
    "that. Evidence names the killed processes.",
)
def oom_kills(data: ProbeData, p: dict[str, Any]) -> Outcome:
    hits, scope = _hits(data, p, OOM_PATTERN)
    victims = re.findall(r"Killed process (\d+) \(([^)]*)\)", "\n".join(hits))
    kills = len(victims) or len([h for h in hits if "invoked oom-killer" in h])
    ev = {
        "source": mapping(data, "klog")["source"],
        "kills": kills,
        "victims": [f"{n}[{pid}]" for pid, n in victims][-10:],
        "lines": hits[-5:],
    }
    if not hits:
        return passed(f"no OOM kills in {scope}", **ev)
    status = Status.FAIL if p["fail_count"] and kills >= p["fail_count"] else Status.WARN
    who = ", ".join(ev["victims"][-3:]) or hits[-1][:120]
    return Outcome(status, f"{kills} OOM kill(s) in {scope}: {who}", ev)


@check(
    "system.clock_offset",
    title="Clock offset against NTP",
    category="configuration",
    severity="medium",
    needs=lambda p: {
        "ntp": ProbeCall.make("ntp_offset", server=p["server"], port=p["port"], timeout=p["timeout_s"])
    },
    params=[
        Param("server", "string", "pool.ntp.org", "NTP server to compare with"),
        Param("warn_s", "float", 0.5, "warn at this absolute offset (s)"),
        Param("fail_s", "float", 5.0, "fail at this absolute offset (s); Kerberos allows 300"),
        Param("port", "int", 123, "UDP port"),
        Param("timeout_s", "float", 3.0, "give up after (s)"),
    ],
    remediation="Enable and check time synchronisation (chronyc tracking / timedatectl timesync-status); "
    "allow "
    "UDP 123 to the servers; step the clock once (chronyc makestep) if far off.",
    description="Queries the server once (SNTP): warn at warn_s offset, fail at fail_s; error when the "
    "server does not answer.",
    live=True,
)
def clock_offset(data: ProbeData, p: dict[str, Any]) -> Outcome:
    n = mapping(data, "ntp")
    if not n["ok"]:
        return Outcome(
            Status.ERROR, f"NTP server {p['server']} did not answer: {n['error']}", {"server": p["server"]}
        )
    off = n["offset_s"]
    ev = {"server": p["server"], "offset_s": off, "delay_s": n["delay_s"], "stratum": n["stratum"]}
    if n["stratum"] == 0:
        return warned(f"{p['server']} is unsynchronised (stratum 0, kiss-of-death)", **ev)
    if abs(off) >= p["fail_s"]:
        return failed(f"clock is {off:+.3f} s off {p['server']}", **ev)
    if abs(off) >= p["warn_s"]:
        return warned(f"clock is {off:+.3f} s off {p['server']}", **ev)
    return passed(f"clock within {abs(off) * 1000:.0f} ms of {p['server']}", **ev)
