"""Collection profiles: YAML files naming what the agent collects (probes, logs, commands, env) and its budgets.

Packaged profiles live in ``profiles/``; ``--profile PATH.yaml`` loads another. Collection is allow-list first:
nothing is collected that a profile does not name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from medic.kernel import yamlload
from medic.kernel.errors import Issue, UsageError, ValidationError
from medic.kernel.models import ProbeCall

KEYS = ("name", "description", "playbooks", "probes", "logs", "commands", "env_allow", "budgets", "app_logs")
BUDGET_DEFAULTS = {"total_seconds": 60.0, "probe_seconds": 15.0, "file_bytes": 4 * 1024 * 1024,
                   "total_bytes": 50 * 1024 * 1024}


@dataclass(frozen=True)
class LogSpec:
    path: str  # a path or a glob pattern
    lines: int = 2000
    is_glob: bool = False


@dataclass(frozen=True)
class Budgets:
    total_seconds: float = 60.0
    probe_seconds: float = 15.0
    file_bytes: int = 4 * 1024 * 1024
    total_bytes: int = 50 * 1024 * 1024


@dataclass
class Profile:
    name: str
    description: str = ""
    probes: list[ProbeCall] = field(default_factory=list)
    logs: list[LogSpec] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    env_allow: list[str] = field(default_factory=list)
    budgets: Budgets = field(default_factory=Budgets)
    app_log_lines: int = 5000


def profiles_dir() -> Path:
    return Path(str(resources.files("medic.agent"))) / "profiles"


def packaged_names() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.yaml"))


def playbook_probe_calls(names: list[str]) -> list[ProbeCall]:
    """The probe calls the packaged playbooks make with default inputs (generated: playbook-probes.json)."""
    table = json.loads((profiles_dir() / "playbook-probes.json").read_text())
    calls = []
    for name in names:
        for raw in table.get(name, []):
            calls.append(ProbeCall.make(raw["probe"], raw.get("params") or {}))
    return calls


def load_profile(name_or_path: str) -> Profile:
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = profiles_dir() / f"{name_or_path}.yaml"
        if not path.exists():
            raise UsageError(f"no profile named {name_or_path!r}; packaged: {', '.join(packaged_names())} "
                             "(or give a path to a .yaml file)")
    data = yamlload.load_file(path)
    return parse_profile(data, str(path))


def _budgets(data: Mapping[str, Any], err: Any) -> Budgets:
    """The ``budgets:`` mapping over the defaults; each bad entry is reported through ``err``."""
    budgets = data.get("budgets") or {}
    values = dict(BUDGET_DEFAULTS)
    if isinstance(budgets, Mapping):
        for key, value in budgets.items():
            if key not in BUDGET_DEFAULTS:
                err(budgets, key, f"budgets.{key}", f"unknown budget; expected one of {', '.join(BUDGET_DEFAULTS)}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                err(budgets, key, f"budgets.{key}", f"expected a positive number, got {value!r}")
            else:
                values[key] = value
    else:
        err(data, "budgets", "budgets", "expected a mapping of budget name to number")
    return Budgets(float(values["total_seconds"]), float(values["probe_seconds"]),
                   int(values["file_bytes"]), int(values["total_bytes"]))


def parse_profile(data: Any, file: str) -> Profile:
    issues: list[Issue] = []

    def err(container: Any, key: str | int | None, where: str, message: str) -> None:
        mark = yamlload.mark_of(container, key)
        issues.append(Issue(message, file, mark[0] if mark else None, mark[1] if mark else None, where))

    if not isinstance(data, Mapping):
        raise ValidationError([Issue("expected a mapping (name, probes, logs, commands...)", file, 1, 1)])
    for key in data:
        if key not in KEYS:
            err(data, key, key, f"unknown key {key!r}; expected one of {', '.join(KEYS)}")
    profile = Profile(name=str(data.get("name") or Path(file).stem), description=str(data.get("description", "")))
    calls = _list(data, "playbooks", err)
    try:
        profile.probes = playbook_probe_calls([str(n) for n in calls])
    except (OSError, ValueError, KeyError) as exc:
        err(data, "playbooks", "playbooks", f"cannot read the playbook probe table: {exc}")
    for i, item in enumerate(_list(data, "probes", err)):
        if isinstance(item, str):
            profile.probes.append(ProbeCall.make(item))
        elif isinstance(item, Mapping) and isinstance(item.get("probe"), str):
            profile.probes.append(ProbeCall.make(item["probe"], dict(item.get("params") or {})))
        else:
            err(data["probes"], i, f"probes[{i}]", "expected a probe name or {probe: NAME, params: {...}}")
    for i, item in enumerate(_list(data, "logs", err)):
        if isinstance(item, Mapping) and isinstance(item.get("path") or item.get("glob"), str) \
                and isinstance(item.get("lines", 2000), int):
            is_glob = "glob" in item
            profile.logs.append(LogSpec(str(item.get("glob") if is_glob else item["path"]),
                                        int(item.get("lines", 2000)), is_glob))
        else:
            err(data["logs"], i, f"logs[{i}]", "expected {path: FILE, lines: N} or {glob: PATTERN, lines: N}")
    for i, item in enumerate(_list(data, "commands", err)):
        if isinstance(item, list) and item and all(isinstance(a, str) for a in item):
            profile.commands.append(list(item))
        else:
            err(data["commands"], i, f"commands[{i}]", "expected an argv list of strings, e.g. [uname, -a]")
    env = _list(data, "env_allow", err)
    profile.env_allow = [str(e) for e in env]
    profile.budgets = _budgets(data, err)
    app = data.get("app_logs")
    if isinstance(app, Mapping) and isinstance(app.get("lines"), int):
        profile.app_log_lines = int(app["lines"])
    if issues:
        raise ValidationError(issues, subject=file)
    profile.probes = list(dict.fromkeys(profile.probes))
    return profile


def _list(data: Mapping[str, Any], key: str, err: Any) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        err(data, key, key, "expected a list")
        return []
    return value
