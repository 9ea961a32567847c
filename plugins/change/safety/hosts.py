"""Hosts that run change code: this machine (:data:`LOCAL_HOST`), and :class:`Hosts`, which reaches the hosts
named in journals and catalogue entries again (through the ``reopen`` functions of the target kinds).

The :class:`medic.core.hosts.Host` interface is core's; SSH hosts are the SSH plugin's
(``medic.plugins.ssh.hostcall``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from medic.core.hosts import Host, Reopen
from medic.kernel.errors import MedicError, TargetError, UsageError
from medic.plugins.change.safety.hostfunctions import host_function_named


def local_become_problem(become: bool | None) -> str | None:
    """Why ``become: sudo`` cannot run on this machine: medic does not escalate itself, it must run as root."""
    if not become or os.geteuid() == 0:
        return None
    import getpass  # here: every local run imports this module, few need the message (getpass imports termios)

    return (f"become: sudo on the local target needs medic run as root (it runs as {getpass.getuser()}); run "
            f"medic as root, or reach this machine over SSH (ssh://localhost, inventory become_password_env)")


class LocalHost(Host):
    name = "local"

    def call(self, function: str, /, *, needs: Sequence[str] = (), **kwargs: Any) -> Any:
        return host_function_named(function)(**kwargs)

    def with_become(self, become: bool) -> Host:
        problem = local_become_problem(become)
        if problem:
            raise TargetError(problem)
        return self


LOCAL_HOST = LocalHost()


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
