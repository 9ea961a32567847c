"""Change steps on an SSH host: run medic functions in the host's ``python3`` (a :class:`medic.core.hosts.Host`).

``call("backup.create", ...)`` looks the host function up in its registry
(:mod:`medic.plugins.change.safety.hostfunctions`) and sends the module that defines it (``fn.__module__``) and
every medic module it imports (found by reading their import statements, dependencies first) with the arguments
as JSON, over stdin like the probe runner; the runner calls ``module:name`` there. The command line is a
constant. The result or the error comes back as JSON; an error is raised here as medic's own error class where
there is one, naming the host. Nothing is templated on the way.

Backups of the host's resources stay on the host, under the host variable ``backup_dir`` (default
``~/.local/state/medic/backups`` of the SSH user); the catalogue entry with the hash is kept on this machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, fields, replace
from typing import Any

from medic.core.hosts import Host
from medic.kernel.closure import closure, module_source
from medic.kernel.errors import TargetError
from medic.plugins.change.safety.backups import BackupDamaged, BackupError, BackupNotFound
from medic.plugins.change.safety.hostfunctions import host_function_named
from medic.plugins.change.safety.hosts import HostCallError
from medic.plugins.ssh import remote_runner
from medic.plugins.ssh.inventory import HostConfig
from medic.plugins.ssh.remote import SCRIPT_MARKER, command_for, runner_source

DEFAULT_BACKUP_DIR = "~/.local/state/medic/backups"
DEFAULT_CHANGE_TIMEOUT = 3600.0  # a backup of a large tree takes long; the host var change_timeout overrides
ERRORS: dict[str, type[Exception]] = {"BackupDamaged": BackupDamaged, "BackupNotFound": BackupNotFound,
                                      "BackupError": BackupError}
HOST_VARS_KEPT = ("backup_dir", "change_timeout")


def config_to_dict(config: HostConfig) -> dict[str, Any]:
    """What reaches the host again, for the journal and the catalogue: connection settings (names of the
    variables holding passphrases and passwords, never their values) and only the host variables changes use
    (other variables may hold anything, secrets included)."""
    data = asdict(config)
    data["vars"] = {k: v for k, v in config.vars.items() if k in HOST_VARS_KEPT}
    if config.jump is not None:
        data["jump"] = config_to_dict(config.jump)
    return data


def config_from_dict(data: Mapping[str, Any]) -> HostConfig:
    known = {f.name for f in fields(HostConfig)}
    values = {k: v for k, v in data.items() if k in known}
    if values.get("jump"):
        values["jump"] = config_from_dict(values["jump"])
    values["groups"] = tuple(values.get("groups") or ())
    return HostConfig(**values)


class SSHHost(Host):
    """Runs change steps on one SSH host; ``connect`` gives its (shared) connection."""

    def __init__(self, config: HostConfig, connect: Callable[[], Any], owns_connection: bool = False) -> None:
        self.config = config
        self.name = config.name
        self._connect = connect
        self._owns = owns_connection
        self._conn: Any = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "ssh", **config_to_dict(self.config)}

    def backup_root(self) -> str:
        return str(self.config.vars.get("backup_dir") or DEFAULT_BACKUP_DIR)

    def with_become(self, become: bool) -> Host:
        """The same host and connection, running change code with sudo or without (a step's ``become:``); its
        description records it, so a backup taken with sudo is verified and restored with sudo."""
        method = "sudo" if become else None
        if method == self.config.become:
            return self
        return SSHHost(replace(self.config, become=method), self._connection)

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def call(self, function: str, /, *, needs: Sequence[str] = (), **kwargs: Any) -> Any:
        fn = host_function_named(function)
        modules = closure([fn.__module__, *needs])
        payload = json.dumps({"modules": [[m, module_source(m)] for m in modules],
                              "function": f"{fn.__module__}:{fn.__name__}", "kwargs": kwargs}, default=str)
        script = (runner_source() + f"\ncall_main({payload!r})\n").encode()
        command, prefix = command_for(self.config)
        timeout = float(self.config.vars.get("change_timeout") or DEFAULT_CHANGE_TIMEOUT)
        result = self._connection().run(command, prefix + SCRIPT_MARKER + script, timeout=timeout)
        stdout = result.stdout.decode(errors="replace")
        marker = stdout.rfind(remote_runner.MARKER)
        if marker < 0:
            if remote_runner.TOO_OLD in stdout:
                raise TargetError(f"host {self.name}: {self.config.python} is {stdout.split()[-1]}; changes "
                                  f"need Python 3.11 or newer there (set the host's python: to one)")
            lines = (result.stderr or result.stdout).decode(errors="replace").splitlines()
            tail = [line for line in lines if line.strip()][-3:]  # the watchdog's keep-alive lines are blank
            raise TargetError(f"host {self.name}: could not run {fn.__name__} with "
                              f"{self.config.python} (exit {result.exit_code}): {' | '.join(tail)}")
        try:
            out = json.loads(stdout[marker + len(remote_runner.MARKER):])
        except ValueError as exc:
            raise TargetError(f"host {self.name}: unreadable answer from {function}: {exc}") from None
        if out.get("ok"):
            return out.get("value")
        raise _error(self.name, out)

    def close(self) -> None:
        if self._owns and self._conn is not None:
            self._conn.close()
        self._conn = None


def _error(host: str, out: Mapping[str, Any]) -> Exception:
    message = f"host {host}: {out.get('message') or out.get('type')}"
    bases = list(out.get("bases") or [])
    for name in bases:
        if name in ERRORS:
            return ERRORS[name](message)
    if "OSError" in bases:
        return OSError(message)
    if "MedicError" in bases:
        return HostCallError(message)
    return HostCallError(f"{message} ({out.get('type')})")


def reopen(description: Mapping[str, Any]) -> Host:
    """An SSH host again from a journal or catalogue description (``medic rollback``, ``recover``)."""
    config = config_from_dict(description)

    def connect() -> Any:
        from medic.plugins.ssh.connection import Connection  # paramiko only when it is needed

        return Connection(config).open()

    return SSHHost(config, connect, owns_connection=True)

