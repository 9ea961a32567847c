"""Built-in actions of the ``action`` step kind. Each declares the resources it changes, plans (for
``--check``)
and applies; file restores come from the run's verified backups, other undos (``undo:`` commands, restarting a
service again) from the action itself.

    action: set_key          with: {path, key, value, format: auto|ini|yaml|json|keyvalue, section,
                                    type: auto|string|int|float|bool (auto: the type of the value replaced)}
    action: replace_file     with: {path, content, mode}
    action: patch_file       with: {path, edits: [{find, replace, count}]}
    action: restart_service  with: {name, command: [argv] (when there is no systemd)}
    action: command          with: {argv: [...], undo: [...]}, resources: [...]   (declared by the step)

Files are written atomically (temporary file, fsync, rename, fsync of the directory) keeping mode and owner.
``describe`` and ``apply`` run on the machine that holds the files (this one, or an SSH host's python3): this
module and what it imports at the top must stay standard-library only (ruamel.yaml is imported only for YAML
files).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medic.kernel.errors import MedicError
from medic.plugins.change import fileedit
from medic.plugins.change.safety import atomicio, tiedproc
from medic.plugins.change.safety.hostfunctions import host_function


class ActionError(MedicError):
    pass


@dataclass
class Plan:
    summary: str
    diff: str = ""
    commands: list[list[str]] = field(default_factory=list)
    # filled in by describe(): what the action changes and how to undo what a backup cannot
    resources: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    undo: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(**{k: data[k] for k in ("summary", "diff", "commands", "resources", "paths", "undo")})


def _str(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    if not isinstance(value, str) or not value:
        raise ActionError(f"missing `{key}:` (a string)")
    return value


def _argv(p: Mapping[str, Any], key: str, required: bool = True) -> list[str] | None:
    value = p.get(key)
    if value in (None, []) and not required:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, (str, int, float)) for v in value):
        raise ActionError(
            f"`{key}:` must be a list of program and arguments, e.g. [systemctl, reload, nginx]"
        )
    return [str(v) for v in value]


class Action(ABC):
    name = ""
    description = ""

    def resources(self, p: Mapping[str, Any]) -> list[str]:
        return []

    def paths(self, p: Mapping[str, Any]) -> list[str]:
        return []

    def undo(self, p: Mapping[str, Any]) -> dict[str, Any] | None:
        """The action's own undo (an argv), besides restoring backed-up resources."""
        return None

    @abstractmethod
    def plan(self, p: Mapping[str, Any]) -> Plan: ...

    @abstractmethod
    def apply(self, p: Mapping[str, Any]) -> dict[str, Any]: ...


class FileAction(Action):
    """An action that computes a file's new text from its current text."""

    def path(self, p: Mapping[str, Any]) -> str:
        return os.path.abspath(os.path.expanduser(_str(p, "path")))

    def resources(self, p: Mapping[str, Any]) -> list[str]:
        return [f"file:{self.path(p)}"]

    def paths(self, p: Mapping[str, Any]) -> list[str]:
        return [self.path(p)]

    @abstractmethod
    def new_text(self, p: Mapping[str, Any], old: str | None) -> str: ...

    def _read(self, path: str) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise ActionError(f"{path}: not a UTF-8 text file; use replace_file or a command") from None

    def plan(self, p: Mapping[str, Any]) -> Plan:
        path = self.path(p)
        old = self._read(path)
        new = self.new_text(p, old)
        diff = fileedit.unified_diff(old, new, path)
        return Plan(f"would change {path}" if diff else f"{path} already as wanted", diff)

    def apply(self, p: Mapping[str, Any]) -> dict[str, Any]:
        path = self.path(p)
        old = self._read(path)
        new = self.new_text(p, old)
        if new == old:
            return {"changed": False, "path": path}
        try:
            st = os.stat(path)
            mode, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
        except FileNotFoundError:
            mode, owner = int(str(p.get("mode", "0644")), 8), None
        with atomicio.atomic_writer(path, mode) as fh:
            fh.write(new.encode())
            if owner is not None and os.geteuid() == 0:
                os.fchown(fh.fileno(), *owner)
        return {"changed": True, "path": path}


class SetKey(FileAction):
    name = "set_key"
    description = "set a key in an INI, YAML, JSON or key=value file"

    def new_text(self, p: Mapping[str, Any], old: str | None) -> str:
        if "value" not in p:
            raise ActionError("missing `value:`")
        return fileedit.set_key(
            old or "",
            str(p.get("format", "auto")),
            _str(p, "key"),
            p["value"],
            p.get("section"),
            self.path(p),
            str(p.get("type") or "auto"),
        )


class ReplaceFile(FileAction):
    name = "replace_file"
    description = "replace a file's content"

    def new_text(self, p: Mapping[str, Any], old: str | None) -> str:
        content = p.get("content")
        if not isinstance(content, str):
            raise ActionError("missing `content:` (the file's new text)")
        return content


class PatchFile(FileAction):
    name = "patch_file"
    description = "find and replace text in a file (each `find` must be present)"

    def new_text(self, p: Mapping[str, Any], old: str | None) -> str:
        if old is None:
            raise ActionError(f"{self.path(p)}: no such file to patch")
        edits = p.get("edits")
        if not isinstance(edits, list) or not edits:
            raise ActionError("missing `edits:` (a list of {find, replace})")
        return fileedit.find_replace(old, edits, self.path(p))


def _run(argv: list[str]) -> dict[str, Any]:
    try:
        proc = tiedproc.run(argv, timeout=600)  # dies with the runner: recover never races an orphan
    except FileNotFoundError:
        raise ActionError(f"{argv[0]}: command not found") from None
    if proc.returncode != 0:
        raise ActionError(
            f"{' '.join(argv)} exited {proc.returncode}: "
            f"{proc.stderr.decode(errors='replace').strip()[-300:]}"
        )
    return {"exit_code": 0, "stdout": proc.stdout.decode(errors="replace")[-2000:]}


class RestartService(Action):
    name = "restart_service"
    description = "restart a service: systemctl where systemd runs, else the given command"

    def command(self, p: Mapping[str, Any]) -> list[str]:
        given = _argv(p, "command", required=False)
        if given:
            return given
        if Path("/run/systemd/system").is_dir():
            return ["systemctl", "restart", _str(p, "name")]
        raise ActionError(f"no systemd here: give `command:` to restart {p.get('name', 'the service')}")

    def undo(self, p: Mapping[str, Any]) -> dict[str, Any] | None:
        return {
            "type": "argv",
            "argv": self.command(p),
            "phase": "after",
        }  # re-read the restored configuration

    def plan(self, p: Mapping[str, Any]) -> Plan:
        argv = self.command(p)
        return Plan(f"would restart {p.get('name', argv[0])}: {' '.join(argv)}", commands=[argv])

    def apply(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return _run(self.command(p))


class Command(Action):
    name = "command"
    description = "run a command (argv) with a declared `undo:` command; the step declares `resources:`"

    def undo(self, p: Mapping[str, Any]) -> dict[str, Any] | None:
        argv = _argv(p, "undo", required=False)
        return {"type": "argv", "argv": argv} if argv else None

    def plan(self, p: Mapping[str, Any]) -> Plan:
        argv = _argv(p, "argv")
        assert argv is not None
        undo = _argv(p, "undo", required=False)
        return Plan(
            f"would run: {' '.join(argv)}" + (f" (undo: {' '.join(undo)})" if undo else ""), commands=[argv]
        )

    def apply(self, p: Mapping[str, Any]) -> dict[str, Any]:
        argv = _argv(p, "argv")
        assert argv is not None
        return _run(argv)


ACTIONS: dict[str, Action] = {
    a.name: a for a in (SetKey(), ReplaceFile(), PatchFile(), RestartService(), Command())
}

# Host functions: run on the machine that holds the files, through medic.core.hosts.Host.call (JSON in, JSON out).


@host_function("action.describe")
def describe(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The plan of an action, with the resources it changes, the paths it writes and its own undo."""
    action = ACTIONS[name]
    plan = action.plan(params)
    plan.resources, plan.paths, plan.undo = action.resources(params), action.paths(params), action.undo(params)
    return asdict(plan)


@host_function("action.apply")
def apply(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return ACTIONS[name].apply(params)
