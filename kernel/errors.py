"""The one exception root of medic, and the exit codes the CLI maps them to.

    MedicError                      exit 3 unless a subclass says otherwise
    ├── UsageError                  exit 2  bad command line, unknown playbook or target name
    ├── ValidationError             exit 2  a playbook, inventory or parameter set is invalid (all issues listed)
    ├── PluginError                 exit 2  a plugin is broken, misspelt or clashes with another one
    ├── TargetError                 exit 3  a target could not be opened (unreachable host, corrupt bundle)
    └── ProbeError                  (never escapes a run: becomes an ``error`` finding)
        └── ProbeUnavailable        (becomes a ``skipped`` finding: data cannot exist on this target)

Every message says what was wrong and what the user can do about it; the CLI prints it as one line, no traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FINDINGS_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class MedicError(Exception):
    """Root of every error medic raises on purpose."""

    exit_code = EXIT_INTERNAL


class UsageError(MedicError):
    exit_code = EXIT_USAGE


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


class ValidationError(MedicError):
    exit_code = EXIT_USAGE

    def __init__(self, issues: Sequence[Issue] | str, *, subject: str = "") -> None:
        if isinstance(issues, str):
            issues = [Issue(issues)]
        self.issues = list(issues)
        self.subject = subject
        head = f"{subject}: {len(self.issues)} problem(s)" if subject else f"{len(self.issues)} problem(s)"
        super().__init__(head + "\n" + "\n".join(f"  {i}" for i in self.issues))


class PluginError(MedicError):
    exit_code = EXIT_USAGE


class TargetError(MedicError):
    exit_code = EXIT_INTERNAL


class ProbeError(MedicError):
    """A probe could not produce its data on this target; the check reports ``error``."""


class ProbeUnavailable(ProbeError):
    """The data cannot exist on this target (not collected, needs a live host); the check reports ``skipped``."""
