"""Find playbooks: packaged ones, directories from the configuration and ``MEDIC_PLAYBOOK_PATH``, or a path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medic.core.config import playbook_dirs
from medic.kernel import yamlcache
from medic.kernel.errors import UsageError

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class PlaybookRef:
    """A playbook found by name: its file and where it was found (packaged or a directory)."""
    name: str
    path: Path
    origin: str  # "packaged" or the directory it came from
    description: str = ""


def _refs_in(directory: Path, origin: str) -> list[PlaybookRef]:
    out: list[PlaybookRef] = []
    if not directory.is_dir():
        return out
    for path in sorted(directory.iterdir()):
        if path.suffix in SUFFIXES and path.is_file():
            name, description = path.stem, ""
            try:  # name/description for listing; a broken file still lists, `validate` says what is wrong
                data = yamlcache.load_file(path)
                if isinstance(data, dict):
                    name = str(data.get("name") or name)
                    description = str(data.get("description") or "").strip().splitlines()[0:1][0] \
                        if data.get("description") else ""
            except Exception:  # noqa: S110
                pass
            out.append(PlaybookRef(name, path, origin, description))
    return out


def packaged_dir() -> Path:
    from importlib import resources  # here: a run of a playbook given by path does not import it
    return Path(str(resources.files("medic.playbooks")))


def all_playbooks(config: dict[str, Any] | None = None) -> list[PlaybookRef]:
    """Later sources win on a name clash: configured directories can replace a packaged playbook."""
    found: dict[str, PlaybookRef] = {}
    for ref in _refs_in(packaged_dir(), "packaged"):
        found[ref.name] = ref
    for directory in playbook_dirs(config):
        for ref in _refs_in(directory, str(directory)):
            found[ref.name] = ref
    return sorted(found.values(), key=lambda r: r.name)


def resolve(name_or_path: str, config: dict[str, Any] | None = None) -> Path:
    path = Path(name_or_path).expanduser()
    if path.suffix in SUFFIXES or "/" in name_or_path:
        if not path.exists():
            raise UsageError(f"playbook file {name_or_path} does not exist")
        return path
    refs = all_playbooks(config)
    for ref in refs:
        if ref.name == name_or_path or ref.path.stem == name_or_path:
            return ref.path
    known = ", ".join(r.name for r in refs) or "none"
    raise UsageError(f"no playbook named {name_or_path!r}; known: {known} (or give a path to a .yaml file)")
