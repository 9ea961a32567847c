"""A located problem in a document (playbook, inventory, configuration): ``medic.kernel.errors.Issue``.

Kept out of errors.py, which re-exports it on first use, so that importing the exception classes alone stays light
(no dataclasses, no inspect).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found while validating a document, located as precisely as we can."""

    message: str
    file: str = "<input>"
    line: int | None = None
    column: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: at {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
