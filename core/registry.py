"""What the plugins registered: checks, probes, channels, step kinds and target kinds, each by name.

Every entry remembers the plugin and distribution that registered it, so a clash can name both and
``medic plugins list`` can show who provides what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from medic.kernel.errors import PluginError


@dataclass(frozen=True)
class Origin:
    plugin: str
    distribution: str = "?"
    version: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} from distribution {self.distribution}" + (
            f" {self.version}" if self.version else "")


@dataclass
class Entry:
    name: str
    obj: Any
    origin: Origin
    override: bool = False


# table name -> how to read the name of a registered object
KINDS: dict[str, Callable[[Any], str]] = {
    "probes": lambda o: o.name,
    "checks": lambda o: o.id,
    "channels": lambda o: o.name,
    "step_kinds": lambda o: o.name,
    "target_kinds": lambda o: o.scheme,
    "backup_providers": lambda o: o.name,
}


@dataclass
class Table(Mapping[str, Any]):
    """Registered objects of one kind by name (a read-only mapping name -> object, sorted by name)."""

    kind: str
    entries: dict[str, Entry] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        old = self.entries.get(entry.name)
        if old is None or (entry.override and not old.override):
            self.entries[entry.name] = entry
        elif old.override and not entry.override:
            pass  # the earlier explicit override wins over the plain registration
        else:
            singular = self.kind.rstrip("s").replace("_", " ")
            raise PluginError(
                f"{singular} {entry.name!r} is registered by {old.origin} and by {entry.origin}; "
                f"uninstall or disable one (MEDIC_DISABLE_PLUGINS={entry.origin.plugin}), or let one register "
                f"it with override=True"
            )

    def __getitem__(self, name: str) -> Any:
        return self.entries[name].obj

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def origin(self, name: str) -> Origin:
        return self.entries[name].origin


class Registry:
    def __init__(self) -> None:
        self.tables: dict[str, Table] = {kind: Table(kind) for kind in KINDS}

    def register(self, kind: str, obj: Any, origin: Origin, *, override: bool = False) -> None:
        self.tables[kind].add(Entry(KINDS[kind](obj), obj, origin, override))

    @property
    def probes(self) -> Table:
        return self.tables["probes"]

    @property
    def checks(self) -> Table:
        return self.tables["checks"]

    @property
    def channels(self) -> Table:
        return self.tables["channels"]

    @property
    def step_kinds(self) -> Table:
        return self.tables["step_kinds"]

    @property
    def target_kinds(self) -> Table:
        return self.tables["target_kinds"]

    def provided_by(self, plugin: str) -> dict[str, list[str]]:
        return {kind: sorted(n for n, e in t.entries.items() if e.origin.plugin == plugin)
                for kind, t in self.tables.items()}
