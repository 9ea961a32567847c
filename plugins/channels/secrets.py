"""Secret references in channel options: ``env:NAME`` or ``file:PATH``, resolved when needed, never stored.

Configuration, the outbox and dead letters keep the reference; only the moment of sending reads the value, so a
secret never reaches a run record, a log line or a ``repr``.
"""

from __future__ import annotations

import os
from pathlib import Path

from medic.kernel.errors import UsageError


class Secret:
    """A resolved secret whose repr and str never show the value."""

    __slots__ = ("_value", "ref")

    def __init__(self, value: str, ref: str) -> None:
        self._value = value
        self.ref = ref

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.ref!r})"

    __str__ = __repr__


def resolve(ref: object, what: str) -> Secret:
    """Resolve ``env:NAME`` or ``file:PATH``; a literal secret in the configuration is refused."""
    if not isinstance(ref, str) or ":" not in ref:
        raise UsageError(f"{what}: expected a secret reference env:NAME or file:PATH, not a literal value")
    kind, _, name = ref.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if not value:
            raise UsageError(f"{what}: environment variable {name} (from {ref!r}) is not set")
        return Secret(value, ref)
    if kind == "file":
        path = Path(name).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"{what}: cannot read secret file {path}: {exc.strerror}") from None
        if not value:
            raise UsageError(f"{what}: secret file {path} is empty")
        return Secret(value, ref)
    raise UsageError(f"{what}: unknown secret reference {kind!r}; expected env:NAME or file:PATH")
