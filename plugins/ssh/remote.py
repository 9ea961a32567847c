"""Collect a batch of probe calls on a remote host in one round trip.

The runner (:mod:`medic.plugins.ssh.remote_runner`) and the source of the probe modules it needs travel over
stdin to ``python3 -``; the command line itself is a constant (plus the quoted interpreter path and, for
``become: sudo`` on the host or the step, ``sudo -S``). A host without a usable Python gets the plain-command
fallback (:mod:`medic.plugins.ssh.fallback`).
"""

from __future__ import annotations

import json
import os
import shlex
import threading
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from medic.kernel.closure import closure, module_source
from medic.kernel.errors import TargetError
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec
from medic.plugins.ssh import fallback, remote_runner
from medic.plugins.ssh.connection import CommandTimeout, Connection
from medic.plugins.ssh.inventory import HostConfig

RUNNER_NEEDS = "medic.kernel.probe"  # the runner calls its run_probe; closure() adds what it imports
# sudo reads the password line (if it asks); this bootstrap skips everything up to the marker, so a password
# sudo did not ask for is discarded, never executed
SCRIPT_MARKER = b"\n#medic-runner-begin\n"
BOOTSTRAP = ("import sys;d=sys.stdin.buffer.read();m=" + repr(SCRIPT_MARKER)
             + ";exec(compile(d[d.index(m)+len(m):],'<medic-runner>','exec'))")


_MODULES_LOCK = threading.Lock()


def shipped_modules(wanted: tuple[str, ...]) -> list[list[str]]:
    """[name, source] of the runner's and these probe modules' closure. Computed once per set: a fleet's threads
    ask at the same moment, and closure's cache alone let each of them parse the same modules (about 25 ms of CPU
    per host at the start of every shard)."""
    with _MODULES_LOCK:
        return _shipped(wanted)


@cache
def _shipped(wanted: tuple[str, ...]) -> list[list[str]]:
    return [[m, module_source(m)] for m in closure([RUNNER_NEEDS, *wanted])]


@cache
def runner_source() -> str:
    return Path(remote_runner.__file__).read_text(encoding="utf-8")


def script_for(calls: list[ProbeCall], probes: Mapping[str, ProbeSpec]) -> bytes:
    """The runner plus the modules that define the called probes (and what they import), and the calls, as one
    Python script. The runner itself needs medic.kernel.probe (run_probe) and what it imports."""
    wanted = tuple(sorted({probes[c.probe].collect.__module__ for c in calls if c.probe in probes}))
    modules = shipped_modules(wanted)
    payload = json.dumps({"modules": modules, "calls": [[c.probe, c.params_json] for c in calls],
                          "workers": 8})
    return (runner_source() + f"\nmain({payload!r})\n").encode()


def command_for(host: HostConfig, become: bool | None = None) -> tuple[str, bytes]:
    """The remote command line (every item quoted) and what precedes the script on stdin; ``become``: a step's
    own (None: the host's setting). The sudo password only ever travels on stdin."""
    python = shlex.quote(host.python)
    if host.uses_sudo(become):
        password = os.environ.get(host.become_password_env, "")
        prefix = (password.encode() + b"\n") if password else b""
        return f"sudo -S -p '' -- {python} -c {shlex.quote(BOOTSTRAP)}", prefix
    return f"{python} -c {shlex.quote(BOOTSTRAP)}", b""


def collect(conn: Connection, calls: list[ProbeCall], probes: Mapping[str, ProbeSpec], become: bool | None = None
            ) -> dict[ProbeCall, ProbeResult]:
    host = conn.host
    command, prefix = command_for(host, become)
    try:
        result = conn.run(command, prefix + SCRIPT_MARKER + script_for(calls, probes))
    except CommandTimeout as exc:
        if remote_runner.STARTED not in exc.output.decode(errors="replace"):
            raise TargetError(f"host {host.name} ({host.address}:{host.port}): logged in, but the probe runner "
                              f"did not start within {host.command_timeout:g} s (the host hangs after login: a "
                              f"ForceCommand, a login script waiting for input, or an overloaded host)"
                              ) from None
        return _all_failed(calls, f"collection on {host.name} timed out after {host.command_timeout:g} s")
    stdout = result.stdout.decode(errors="replace")
    marker = stdout.rfind(remote_runner.MARKER)
    if marker >= 0:
        return _parse(calls, stdout[marker + len(remote_runner.MARKER):], host)
    stderr = result.stderr.decode(errors="replace")
    missing = f"{host.python}: command not found" in stderr or f"{host.python}: not found" in stderr
    if result.exit_code == 127 or missing or remote_runner.TOO_OLD in stdout:
        why = (f"{host.python} is too old ({stdout.split()[-1]}; medic needs 3.11)" if remote_runner.TOO_OLD
               in stdout else f"{host.python} not found")
        return fallback.collect(conn, calls, why, probes, become)
    said = result.stderr.strip() or result.stdout  # the runner's watchdog writes bare newlines to stderr
    tail = said.decode(errors="replace").replace(remote_runner.STARTED, "").strip().splitlines()[-3:]
    hint = (f" (become: sudo as {host.user}; the password is taken from ${host.become_password_env})"
            if host.uses_sudo(become) and "sudo" in " ".join(tail) else "")
    return _all_failed(calls, f"probe runner on {host.name} failed (exit {result.exit_code}): "
                              f"{' | '.join(tail)}{hint}")


def _parse(calls: list[ProbeCall], text: str, host: HostConfig) -> dict[ProbeCall, ProbeResult]:
    try:
        raw = json.loads(text)
        results = [ProbeResult.from_dict(r) for r in raw]
    except (ValueError, KeyError, TypeError) as exc:
        raise TargetError(f"host {host.name}: unreadable probe results ({exc})") from None
    if len(results) != len(calls):
        raise TargetError(f"host {host.name}: {len(results)} probe results for {len(calls)} calls")
    return dict(zip(calls, results, strict=True))


def _all_failed(calls: list[ProbeCall], message: str) -> dict[ProbeCall, ProbeResult]:
    return {c: ProbeResult(c.probe, c.params, False, None, message) for c in calls}
