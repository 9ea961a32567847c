"""Plain-command fallback for hosts without a usable ``python3``: the probes that declare a command.

A probe with a :class:`~medic.kernel.probe.Command` (``ProbeSpec.command``: an argv and a pure parser, e.g. the
system probes cpu_load, memory, uptime, os_release, disk_usage, third-party ones alike) is answered by running its
argv here and its parser on the output, the parser the local probe uses too; ``command_output`` runs the asked
argv itself (stderr merged into stdout). One POSIX shell script per batch, every argv item quoted, sent over stdin
to ``sh -s`` (one round trip, nothing user-supplied on the command line); each section is framed by a random nonce
so command output cannot forge a section. Any other probe returns an error result naming the reason (no Python)
and what the fallback covers.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.params import ParamError
from medic.kernel.probe import ProbeSpec

if TYPE_CHECKING:
    from medic.plugins.ssh.connection import Connection

RUNS_ARGV = "command_output"  # the probe whose parameters are the argv to run
SKIP_TO_MARKER = 'while IFS= read -r l; do [ "$l" = "#medic-runner-begin" ] && break; done; exec sh -s'
MAX_OUTPUT = 64 * 1024


def covered(probes: Mapping[str, ProbeSpec]) -> list[str]:
    """The probes a host without Python can answer: those with a command, and command_output."""
    return sorted(name for name, spec in probes.items() if spec.command is not None or name == RUNS_ARGV)


def shell_for(call: ProbeCall, probes: Mapping[str, ProbeSpec]) -> str:
    """The shell command answering one call (argv items quoted with shlex.quote)."""
    p = call.params
    if call.probe == RUNS_ARGV:
        argv = " ".join(shlex.quote(str(a)) for a in p.get("argv") or [])
        limit = shlex.quote(str(float(p.get("timeout", 10.0))))
        return (f"if command -v timeout >/dev/null; then LC_ALL=C timeout {limit} {argv}; "
                f"else LC_ALL=C {argv}; fi </dev/null 2>&1")
    command = probes[call.probe].command
    if command is None:
        raise KeyError(call.probe)
    return " ".join(shlex.quote(a) for a in command.argv(p))


# Ends every process of the session sshd made for this command (``timeout`` leads a process group of its own),
# or at least our process group where pkill is missing
KILL_ALL = "pkill -KILL -s 0 2>/dev/null; kill -KILL 0"
# sshd signals nothing when medic closes the channel (timeout) or goes away: a failing write to stderr tells
WATCHDOG = (f"( trap '' PIPE; while sleep 1 </dev/null >/dev/null 2>&1; do printf '\\n' >&2 || {{ {KILL_ALL}; }}; "
            "done ) &")


def script(calls: list[ProbeCall], nonce: str, probes: Mapping[str, ProbeSpec]) -> str:
    """The calls in a background subshell the script waits for: a trapped SIGTERM (medic's SSH "signal" when
    the collection times out; OpenSSH delivers it for non-root logins) interrupts ``wait`` at once and ends
    the session; the watchdog ends it when the channel is gone."""
    parts = []
    for i, call in enumerate(calls):
        parts.append(f"printf '\\n@@{nonce} {i}\\n'; ( {shell_for(call, probes)} ); "
                     f"printf '\\n@@{nonce} rc %s\\n' \"$?\"")
    body = "\n".join(parts)
    return (f"trap '{KILL_ALL}' TERM HUP\n{WATCHDOG}\nwatchdog=$!\n(\n{body}\n) &\nwait $!\n"
            "kill $watchdog 2>/dev/null\n")


def collect(conn: Connection, calls: list[ProbeCall], why: str, probes: Mapping[str, ProbeSpec],
            become: bool | None = None) -> dict[ProbeCall, ProbeResult]:
    names = covered(probes)
    message = f"{why} on {conn.host.name}; without Python only {', '.join(names)} are collected"
    out = {c: ProbeResult(c.probe, c.params, False, None, message) for c in calls if c.probe not in names}
    answered = [c for c in calls if c.probe in names]
    if not answered:
        return out
    nonce = secrets.token_hex(8)
    command, stdin = "sh -s", b""
    if conn.host.uses_sudo(become):
        password = os.environ.get(conn.host.become_password_env, "")
        command = f"sudo -S -p '' -- sh -c {shlex.quote(SKIP_TO_MARKER)}"
        stdin = (password.encode() + b"\n" if password else b"") + b"#medic-runner-begin\n"
    from medic.plugins.ssh.connection import CommandTimeout  # paramiko: only once a host is contacted

    try:
        result = conn.run(command, stdin + script(answered, nonce, probes).encode())
    except CommandTimeout:
        timed_out = f"collection on {conn.host.name} timed out after {conn.host.command_timeout:g} s"
        return {**out, **{c: ProbeResult(c.probe, c.params, False, None, timed_out) for c in answered}}
    sections = split(result.stdout.decode(errors="replace"), nonce, len(answered))
    for call, (text, rc) in zip(answered, sections, strict=True):
        out[call] = parse(call, text, rc, probes)
    return out


def split(stdout: str, nonce: str, count: int) -> list[tuple[str, int | None]]:
    found: dict[int, tuple[str, int | None]] = {}
    pattern = re.compile(rf"\n@@{nonce} (\d+)\n(.*?)\n@@{nonce} rc (\d+)\n", re.S)
    for m in pattern.finditer("\n" + stdout):
        found[int(m.group(1))] = (m.group(2), int(m.group(3)))
    return [found.get(i, ("", None)) for i in range(count)]


def parse(call: ProbeCall, text: str, rc: int | None, probes: Mapping[str, ProbeSpec]) -> ProbeResult:
    try:
        if call.probe == RUNS_ARGV:
            data: Any = _command(call, text, rc)
        elif rc != 0:
            return ProbeResult(call.probe, call.params, False, None, f"fallback command failed (exit {rc}): "
                               f"{text.strip()[-300:]}")
        else:
            command = probes[call.probe].command
            if command is None:
                raise KeyError(call.probe)
            data = command.parse(text, call.params)
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
