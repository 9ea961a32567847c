"""Log checks: error rate with the top repeated messages, authentication failures, crash markers."""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData, check, level
from medic.kernel.models import Outcome, ProbeCall
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping
from medic.probes.logsearch import per_minute, scope

ERROR_PATTERN = r"error|exception|fatal|critical|traceback|panic|segfault"
# one line per failed attempt: sshd's "Invalid user" line is left out, its "Failed password" line counts it
AUTH_PATTERN = (
    r"Failed password|authentication failure|FAILED LOGIN|Failed publickey|"
    r"maximum authentication attempts|POSSIBLE BREAK-IN"
)
CRASH_PATTERN = (
    r"Traceback \(most recent call last\)|segfault at|Segmentation fault|core dumped|"
    r"SIGSEGV|SIGABRT|^panic: |Fatal error|OutOfMemoryError|terminate called after"
)


def _window_params(path: str, window: float, lines: int) -> list[Param]:
    return [
        Param("path", "string", path, "log file (plain or .gz)"),
        Param("window_min", "float", window, "only lines timestamped in the last N minutes (0: use lines)"),
        Param("lines", "int", lines, "otherwise the last N lines (0: whole file)"),
        Param(
            "include_rotated", "bool", False, "also read rotated files (path.1, path.2.gz...) in the window"
        ),
    ]


def _scan(p: dict[str, Any], pattern: str, extract: str = "") -> dict[str, ProbeCall]:
    return {
        "scan": ProbeCall.make(
            "log_scan",
            path=p["path"],
            pattern=pattern,
            lines=p["lines"],
            window_min=p["window_min"],
            include_rotated=p["include_rotated"],
            top=p.get("top", 5),
            extract=extract or None,
        )
    }


def _evidence(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": s["path"],
        "matches": s["matches"],
        "lines_scanned": s["lines_scanned"],
        "per_min": None if (rate := per_minute(s)) is None else round(rate, 2),
        "top": [f"{t['count']}x {t['message'][:200]}" for t in s["top"]],
        "last": [x[:200] for x in s["samples"][-3:]],
    }


@check(
    "logs.error_rate",
    title="Error rate in a log",
    category="software",
    severity="medium",
    needs=lambda p: _scan(p, p["pattern"]),
    params=[
        *_window_params("/var/log/syslog", 0.0, 10000),
        Param("pattern", "string", ERROR_PATTERN, "regular expression of an error line (case-insensitive)"),
        Param("warn_count", "int", 10, "warn at this many matching lines"),
        Param("fail_count", "int", 100, "fail at this many matching lines"),
        Param("top", "int", 5, "repeated messages to report"),
    ],
    remediation="Read the top repeated messages in the evidence (numbers and ids folded): fix the most "
    "frequent cause first; compare with the time the problem started.",
    description="Counts lines matching pattern in the window (or last N lines): warn at warn_count, fail at "
    "fail_count. Evidence: matches, rate per minute (when lines carry timestamps) and the top "
    "repeated messages; skipped when the file does not exist.",
)
def error_rate(data: ProbeData, p: dict[str, Any]) -> Outcome:
    s = mapping(data, "scan")
    status = level(s["matches"], p["warn_count"], p["fail_count"])
    pct = 100.0 * s["matches"] / s["lines_scanned"] if s["lines_scanned"] else 0.0
    head = f"; most frequent: {s['top'][0]['count']}x {s['top'][0]['message'][:120]}" if s["top"] else ""
    return Outcome(
        status,
        f"{s['matches']} error line(s) in {scope(s)} of {s['path']} ({pct:.1f}%){head}",
        {**_evidence(s), "pct": round(pct, 2)},
        subject=s["path"],
    )


@check(
    "logs.auth_failures",
    title="Authentication failures",
    category="security",
    severity="medium",
    needs=lambda p: _scan(p, p["pattern"], r"from (\S+)"),
    params=[
        *_window_params("/var/log/auth.log", 60.0, 0),
        Param("pattern", "string", AUTH_PATTERN, "regular expression of a failed login line"),
        Param("warn_count", "int", 5, "warn at this many failures"),
        Param("fail_count", "int", 50, "fail at this many failures (a brute-force attempt)"),
        Param("top", "int", 5, "sources and messages to report"),
    ],
    remediation="Many failures from few sources: block them (fail2ban, firewall) and disable password "
    "logins; failures for one real user: the password expired or the account is locked (faillock).",
    description="Counts failed logins (sshd, PAM, login) in the window: warn at warn_count, fail at "
    "fail_count. Evidence: top source addresses and messages.",
)
def auth_failures(data: ProbeData, p: dict[str, Any]) -> Outcome:
    s = mapping(data, "scan")
    status = level(s["matches"], p["warn_count"], p["fail_count"])
    sources = [f"{v['value']} ({v['count']})" for v in s["top_values"]]
    where = f", top sources {', '.join(sources[:3])}" if sources else ""
    return Outcome(
        status,
        f"{s['matches']} authentication failure(s) in {scope(s)}{where}",
        {**_evidence(s), "sources": sources},
        subject=s["path"],
    )


@check(
    "logs.crash_markers",
    title="Application crashes in a log",
    category="software",
    severity="high",
    needs=lambda p: _scan(p, p["pattern"]),
    params=[
        *_window_params("/var/log/syslog", 0.0, 10000),
        Param("pattern", "string", CRASH_PATTERN, "regular expression of a crash marker"),
        Param("fail_count", "int", 3, "fail at this many crashes (fewer: warn)"),
        Param("top", "int", 5, "repeated markers to report"),
    ],
    remediation="Open the log at the last crash (evidence) and read the traceback or the faulting "
    "address; check recent upgrades and configuration changes, and core dumps (coredumpctl).",
    description="Counts tracebacks, segfaults, aborts and core dumps: warn on one, fail at fail_count.",
)
def crash_markers(data: ProbeData, p: dict[str, Any]) -> Outcome:
    s = mapping(data, "scan")
    status = level(s["matches"], 1, p["fail_count"])
    last = f"; last: {s['samples'][-1][:160]}" if s["samples"] else ""
    return Outcome(
        status,
        f"{s['matches']} crash marker(s) in {scope(s)} of {s['path']}{last}",
        _evidence(s),
        subject=s["path"],
    )
