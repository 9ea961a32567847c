"""Where a changed resource lives: this machine or a remote host, and how change code runs there.

Backups, actions and restores run *on the machine that holds the resource*: the same Python functions, called
by name (``"medic.core.backup_ops:create"``) with JSON-able arguments and a JSON-able result. Locally that is a
plain call; an SSH host (``medic.plugins.ssh.hostcall``) ships the function's module and the medic modules it
imports to the host's ``python3`` and runs it there. The backup artifact stays on the host; its hash and the
catalogue entry come back to this machine.

A host is written into the journal and the catalogue as its *description* (``None`` for this machine, else
``{"kind": "ssh", ...}``) so that ``medic rollback`` and ``medic recover`` can reach it again from another
process: target kinds that can change things register a ``reopen`` function for their kind.
"""

from __future__ import annotations

import getpass
import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from medic.kernel.errors import MedicError, TargetError, UsageError


class Host(ABC):
    name: str = "local"

    @abstractmethod
    def call(self, function: str, /, *, needs: Sequence[str] = (), **kwargs: Any) -> Any:
        """Run ``module:function(**kwargs)`` on the host and return its result. ``needs``: modules the
        function imports by name at run time (a backup provider's), which a remote host must be sent too."""

    def describe(self) -> dict[str, Any] | None:
        """How another process reaches this host again (no secrets); ``None`` means this machine."""
        return None

    def backup_root(self) -> str | None:
        """Where backups of this host's resources are kept on the host; ``None``: in the catalogue itself."""
        return None

    def with_become(self, become: bool) -> Host:
        """This host running change code with (True) or without (False) privilege escalation, for a step with
        ``become:``. Hosts that cannot escalate refuse True."""
        if become:
            raise TargetError(f"host {self.name} cannot run changes with become: sudo")
        return self

    def close(self) -> None:  # noqa: B027 - optional: only hosts holding a connection have one to close
        """Release what the host holds (a connection it opened itself)."""


def resolve(function: str) -> Callable[..., Any]:
    module, _, name = function.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn


def local_become_problem(become: bool | None) -> str | None:
    """Why ``become: sudo`` cannot run on this machine: medic does not escalate itself, it must run as root."""
    if not become or os.geteuid() == 0:
        return None
    return (f"become: sudo on the local target needs medic run as root (it runs as {getpass.getuser()}); run "
            f"medic as root, or reach this machine over SSH (ssh://localhost, inventory become_password_env)")


class LocalHost(Host):
    name = "local"

    def call(self, function: str, /, *, needs: Sequence[str] = (), **kwargs: Any) -> Any:
        return resolve(function)(**kwargs)

    def with_become(self, become: bool) -> Host:
        problem = local_become_problem(become)
        if problem:
            raise TargetError(problem)
        return self


LOCAL_HOST = LocalHost()

Reopen = Callable[[Mapping[str, Any]], Host]


class Hosts:
    """Turns host descriptions from journals and catalogue entries back into hosts, one connection each."""

    def __init__(self, reopeners: Mapping[str, Reopen] | None = None) -> None:
        self.reopeners = dict(reopeners or {})
        self._open: dict[str, Host] = {}

    @staticmethod
    def key(description: Mapping[str, Any]) -> str:
        """The machine a description names (the same with or without ``become``)."""
        return ":".join(str(description.get(k)) for k in ("kind", "name", "user", "address", "port"))

    @classmethod
    def _slot(cls, description: Mapping[str, Any]) -> str:
        """One open host per machine and privileges: a backup taken with sudo is restored with sudo."""
        return f"{cls.key(description)}:{description.get('become')}"

    def add(self, host: Host) -> None:
        """Use this already open host for its description (a run's own target)."""
        description = host.describe()
        if description:
            self._open[self._slot(description)] = host

    def get(self, description: Mapping[str, Any] | None) -> Host:
        if not description:
            return LOCAL_HOST
        kind = str(description.get("kind", "?"))
        key = self._slot(description)
        if key not in self._open:
            reopen = self.reopeners.get(kind)
            if reopen is None:
                raise UsageError(
                    f"host {description.get('name', '?')} is a {kind!r} host and no installed plugin can reach "
                    f"it again; install the plugin that provides the {kind!r} target kind"
                )
            self._open[key] = reopen(description)
        return self._open[key]

    def close(self) -> None:
        for host in self._open.values():
            host.close()
        self._open.clear()


LOCAL_ONLY = Hosts()


class HostCallError(MedicError):
    """A function run on a remote host raised an error that has no counterpart here."""
