"""User configuration: ``$MEDIC_CONFIG`` or ``~/.config/medic/config.yaml`` (all keys optional).

    playbook_paths: [~/runbooks]      # extra directories of playbooks (MEDIC_PLAYBOOK_PATH adds more, ':'-separated)
    state_dir: ~/.local/state/medic   # run history, journals, backups catalogue
    notify: [console, "file:~/medic-events.jsonl"]   # channels told at the end of every run
    channels: {team-hook: {type: webhook, url: "https://...", secret: "env:HOOK_SECRET"}}  # named instances
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from medic.kernel import yamlload
from medic.kernel.errors import Issue, ValidationError

KEYS = ("playbook_paths", "state_dir", "notify", "channels", "inventory", "prefect")


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
    data = yamlload.load_file(path) or {}
    if not isinstance(data, dict):
        raise ValidationError([Issue("expected a mapping of settings", str(path), 1, 1)])
    issues = [Issue(f"unknown setting {k!r}; expected one of {', '.join(KEYS)}", str(path),
                    *(yamlload.mark_of(data, k) or (None, None))) for k in data if k not in KEYS]
    if issues:
        raise ValidationError(issues, subject=str(path))
    return dict(data)


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
