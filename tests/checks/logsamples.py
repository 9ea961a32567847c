"""Real-looking log files (syslog, auth.log, nginx access/error, Python app with tracebacks), timed relative
to now."""

from __future__ import annotations

import gzip
import time
from pathlib import Path


def syslog_time(t: float) -> str:
    return time.strftime("%b %e %H:%M:%S", time.localtime(t))


def syslog(path: Path, now: float, minutes: int = 120) -> Path:
    """One line a minute from cron/systemd, with disk I/O errors and an app segfault in the last 30
    minutes."""
    lines = []
    for i in range(minutes, 0, -1):
        t = now - 60 * i
        lines.append(
            f"{syslog_time(t)} web1 CRON[{4000 + i}]: (root) CMD (command -v debian-sa1 > /dev/null)"
        )
        if i <= 30 and i % 10 == 0:
            lines.append(
                f"{syslog_time(t)} web1 kernel: [{90000 + i}.123456] blk_update_request: I/O error, dev "
                f"sda, sector {123456 + i} op 0x0:(READ) flags 0x0"
            )
        if i == 5:
            lines.append(
                f"{syslog_time(t)} web1 kernel: [90100.2] app[{8123}]: segfault at 0 ip 00007f3a2b1c "
                "sp 00007ffd9e2b error 4 in libc.so.6[7f3a2b000000+195000]"
            )
        if i % 20 == 0:
            lines.append(
                f"{syslog_time(t)} web1 myapp[812]: ERROR database connection to 10.0.0.{i % 7}:5432 "
                f"lost after {i * 13} ms (request id {i * 7919:08x})"
            )
    path.write_text("\n".join(lines) + "\n")
    return path


def auth_log(path: Path, now: float) -> Path:
    """Brute force from one address within the last hour, a few typos from a user, an old failure 3 h ago."""
    lines = [
        f"{syslog_time(now - 3 * 3600)} web1 sshd[100]: Failed password for alice from 192.0.2.10 port 50000 "
        "ssh2"
    ]
    for i in range(40):
        t = now - 1800 + 30 * i
        lines.append(
            f"{syslog_time(t)} web1 sshd[{2000 + i}]: Failed password for invalid user admin{i} from "
            f"203.0.113.9 port {40000 + i} ssh2"
        )
        lines.append(
            f"{syslog_time(t)} web1 sshd[{2000 + i}]: Connection closed by invalid user admin{i} "
            f"203.0.113.9 port {40000 + i} [preauth]"
        )
    for i in range(3):
        lines.append(
            f"{syslog_time(now - 600 + i)} web1 sshd[3000]: Failed password for bob from 198.51.100.7 "
            f"port 51000 ssh2"
        )
    lines.append(
        f"{syslog_time(now - 60)} web1 sshd[3001]: Accepted publickey for bob from 198.51.100.7 port 51001"
    )
    path.write_text("\n".join(lines) + "\n")
    return path


def nginx_access(path: Path, now: float, n: int = 500) -> Path:
    lines = []
    for i in range(n):
        t = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now - (n - i) * 5))
        status = 502 if i % 50 == 0 else 200
        lines.append(
            f'10.1.{i % 5}.{i % 250} - - [{t}] "GET /api/items/{i} HTTP/1.1" {status} {512 + i} "-" '
            f'"curl/8.5.0"'
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def nginx_error(path: Path, now: float) -> Path:
    lines = []
    for i in range(30):
        t = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(now - (30 - i) * 60))
        lines.append(
            f"{t} [error] 1234#1234: *{i * 11} connect() failed (111: Connection refused) while "
            f'connecting to upstream, client: 10.1.0.{i}, server: shop, request: "GET / HTTP/1.1", '
            f'upstream: "http://127.0.0.1:8080/"'
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def app_log(path: Path, now: float) -> Path:
    """A Python service log: INFO lines, two tracebacks (multi-line), an ERROR repeated with varying ids."""
    out = []
    for i in range(200):
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now - (200 - i) * 10)) + f".{i % 1000:03d}"
        out.append(f"{t} INFO worker-{i % 4} handled job {i} in {i % 97} ms")
        if i % 25 == 0:
            out.append(
                f"{t} ERROR worker-{i % 4} job {i} failed: KeyError('customer_{i}') "
                f"trace={i * 104729:x}{i:04x}"
            )
        if i in (100, 150):
            out += [
                f"{t} ERROR worker-1 unhandled exception",
                "Traceback (most recent call last):",
                '  File "/srv/app/worker.py", line 88, in run',
                "    result = handler(job)",
                "ZeroDivisionError: division by zero",
            ]
    path.write_text("\n".join(out) + "\n")
    return path


def gzip_copy(src: Path, dst: Path) -> Path:
    with open(src, "rb") as fin, gzip.open(dst, "wb") as fout:
        fout.write(fin.read())
    return dst
