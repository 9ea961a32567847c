"""Where a changed resource lives, as the engine and the targets see it: the :class:`Host` interface.

Backups, actions and restores run *on the machine that holds the resource*: the same Python functions, called
by a registered name (``"backup.create"``) with JSON-able arguments and a JSON-able result. A live target names
its host (:meth:`medic.core.target.Target.change_host`); the change plugin implements hosts for this machine
(``medic.plugins.change.safety.hosts``) and the SSH plugin for remote ones.

A host is written into the journal and the catalogue as its *description* (``None`` for this machine, else
``{"kind": "ssh", ...}``) so that ``medic rollback`` and ``medic recover`` can reach it again from another
process: target kinds that can change things register a ``reopen`` function (:data:`Reopen`) for their kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from medic.kernel.errors import TargetError


class Host(ABC):
    name: str = "local"

    @abstractmethod
    def call(self, function: str, /, *, needs: Sequence[str] = (), **kwargs: Any) -> Any:
        """Run the host function registered as ``function`` with ``kwargs`` on the host and return its result.
        ``needs``: modules the function imports by name at run time (a backup provider's), which a remote host
        must be sent too."""

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


Reopen = Callable[[Mapping[str, Any]], Host]
