"""What newer Pythons have and medic-agent's oldest one (3.9) lacks; medic-agent ships the kernel.

``tests/agent/test_python39.py`` runs vermin over everything medic-agent ships, so a newer-only name fails the
tests instead of the agent on a user's machine.
"""

from __future__ import annotations

import sys
from enum import Enum


class StrEnumBackport(str, Enum):
    """``enum.StrEnum`` (Python 3.11) for 3.9 and 3.10: members are strings; ``str()`` and ``format()`` give the
    value, as they do with StrEnum."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


if sys.version_info >= (3, 11):
    from enum import StrEnum  # novermin - imported only where it exists
else:  # pragma: no cover - the test interpreter is 3.11+; test_python39.py checks the backport itself
    StrEnum = StrEnumBackport

__all__ = ["StrEnum", "StrEnumBackport"]
