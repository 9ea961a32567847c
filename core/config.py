"""User configuration: ``$MEDIC_CONFIG`` or ``~/.config/medic/config.yaml`` (all keys optional).

    playbook_paths: [~/runbooks]      # extra directories of playbooks (MEDIC_PLAYBOOK_PATH adds more, ':'-separated)
    state_dir: ~/.local/state/medic   # run history, journals, backups catalogue
    notify: [console, "file:~/medic-events.jsonl"]   # channels told at the end of every run
    inventory: ~/hosts.yaml           # the SSH inventory used when --inventory is not given
    channels: {team-hook: {type: webhook, url: "https://...", secret: "env:HOOK_SECRET"}}  # named instances
    bundle: {max_member_bytes: 67108864, max_total_bytes: 536870912, max_members: 10000}   # bundle: target caps

An unknown key, or a value of the wrong type, is refused before anything runs (exit 2), naming the file, the
line and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from medic.kernel import marks, yamlcache
from medic.kernel.errors import Issue, ValidationError

# key -> what its value must be: "path" (a string), "paths" (a list of strings), "instances" (name -> mapping
# with a string "type"; the channel checks its own options), or a mapping of positive ints
KEYS: dict[str, Any] = {
    "playbook_paths": "paths",
    "state_dir": "path",
    "notify": "paths",
    "channels": "instances",
    "inventory": "path",  # a "plugin" key is checked by its owner: server by medic.plugins.server.database
    "bundle": ("max_member_bytes", "max_total_bytes", "max_members", "max_manifest_bytes"), "schedules": "instances",
    "deploy": ("concurrency", "heartbeat_s", "crashed_after_s", "sla_interval_s", "poll_s"), "server": "plugin"}


def config_path() -> Path:
    explicit = os.environ.get("MEDIC_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "medic" / "config.yaml"


def load_config() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        if os.environ.get("MEDIC_CONFIG"):
            raise ValidationError([Issue("configuration file not found (MEDIC_CONFIG)", str(path))])
        return {}
    data = yamlcache.load_file(path) or {}
    if not isinstance(data, dict):
        raise ValidationError([Issue("expected a mapping of settings", str(path), 1, 1)])
    issues = list(_problems(data, str(path)))
    if issues:
        raise ValidationError(issues, subject=str(path))
    return dict(data)


def _problems(data: dict[Any, Any], file: str) -> list[Issue]:
    """Every unknown key and every value of the wrong type, each at its line."""
    issues = []

    def problem(container: Any, key: Any, message: str) -> None:
        issues.append(Issue(message, file, *(marks.mark_of(container, key) or (None, None))))

    for key, value in data.items():
        kind = KEYS.get(key)
        if kind is None:
            problem(data, key, f"unknown setting {key!r}; expected one of {', '.join(KEYS)}")
        elif kind == "path" and not isinstance(value, str):
            problem(data, key, f"{key}: expected a string, got {_shown(value)}")
        elif kind == "paths" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problem(data, key, f"{key}: expected a list of strings, e.g. [a, b]")
        elif kind == "instances":
            _instances(data, key, problem)
        elif isinstance(kind, tuple) and not isinstance(value, dict):
            problem(data, key, f"{key}: expected a mapping with {', '.join(kind)}")
        elif isinstance(kind, tuple):
            for sub, number in value.items():
                if sub not in kind:
                    problem(value, sub, f"unknown setting {key}.{sub}; expected one of {', '.join(kind)}")
                elif isinstance(number, bool) or not isinstance(number, int) or number <= 0:
                    problem(value, sub, f"{key}.{sub}: expected a positive whole number, got {number!r}")
    return issues


def _instances(data: dict[Any, Any], key: str, problem: Any) -> None:
    value, need = data[key], ("playbook" if key == "schedules" else "type")  # what names each instance
    if not isinstance(value, dict):
        problem(data, key, f"{key}: expected a mapping of names to settings, e.g. {{team: {{type: webhook}}}}")
        return
    for name, spec in value.items():
        if not isinstance(spec, dict) or not isinstance(spec.get(need), str):
            problem(value, name, f"{key}.{name}: expected a mapping with a {need!r} (a string), got {_shown(spec)}")


def _shown(value: Any) -> str:
    return "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else repr(value)


def state_dir(config: dict[str, Any] | None = None) -> Path:
    explicit = os.environ.get("MEDIC_STATE_DIR") or (config or {}).get("state_dir")
    if explicit:
        return Path(str(explicit)).expanduser()
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "medic"


def playbook_dirs(config: dict[str, Any] | None = None) -> list[Path]:
    dirs = [Path(str(p)).expanduser() for p in (config or {}).get("playbook_paths", []) or []]
    env = os.environ.get("MEDIC_PLAYBOOK_PATH", "")
    dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return dirs
