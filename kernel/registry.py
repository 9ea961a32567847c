"""What the plugins registered: checks, probes, channels, step kinds and target kinds, each by name.

Every entry remembers the plugin and distribution that registered it, so a clash can name both and
``medic plugins list`` can show who provides what. A name may also be *declared* before its plugin is imported
(from the plugin index, :mod:`medic.kernel.pluginindex`): the table then knows the name and who provides it, and
imports the plugin the first time the object itself is asked for, so a run imports only the plugins it uses.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from medic.kernel.errors import PluginError


@dataclass(frozen=True)
class Origin:
    """Where a registered object comes from: the plugin and the distribution that installs it."""
    plugin: str
    distribution: str = "?"
    version: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} from distribution {self.distribution}" + (
            f" {self.version}" if self.version else "")


@dataclass
class Entry:
    """One registered object, where it comes from, and whether it replaces another of that name."""
    name: str
    obj: Any
    origin: Origin
    override: bool = False


@dataclass(frozen=True)
class Declared:
    """A name a plugin registers, known without importing it; ``load`` makes the plugin register it."""

    origin: Origin
    override: bool
    load: Callable[[], None]


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that failed to load and was skipped, with the reason."""
    plugin: str
    distribution: str
    error: str

    def __str__(self) -> str:
        return (f"plugin {self.plugin!r} from distribution {self.distribution} failed to load and was skipped: "
                f"{self.error} (fix or uninstall it, or set MEDIC_DISABLE_PLUGINS={self.plugin})")


@dataclass
class PluginInfo:
    """A loaded plugin: where it comes from and what it provides, by kind."""
    name: str
    origin: Origin
    provides: dict[str, list[str]] = field(default_factory=dict)


# One loader at a time: probes are collected from several threads, and two of them reading two probes of one
# module must not both import and register it. Re-created in a forked child (a step run with a deadline), which
# must not inherit it held by a thread that does not exist there.
_LOADING = threading.RLock()


def _new_lock() -> None:
    global _LOADING
    _LOADING = threading.RLock()


os.register_at_fork(after_in_child=_new_lock)

# table name -> how to read the name of a registered object
KINDS: dict[str, Callable[[Any], str]] = {
    "probes": lambda o: o.name,
    "checks": lambda o: o.id,
    "channels": lambda o: o.name,
    "step_kinds": lambda o: o.name,
    "target_kinds": lambda o: o.scheme,
    "backup_providers": lambda o: o.name,
}


class Table(Mapping[str, Any]):
    """Registered objects of one kind by name (a read-only mapping name -> object, sorted by name). Names declared
    but not loaded yet count as present; reading one loads the plugins that declared it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.loaded: dict[str, Entry] = {}
        self.declared: dict[str, list[Declared]] = {}

    @property
    def entries(self) -> dict[str, Entry]:
        """Every entry, loading whatever is still only declared."""
        with _LOADING:
            for name in list(self.declared):
                self._load(name)
        return self.loaded

    @entries.setter
    def entries(self, value: dict[str, Entry]) -> None:
        self.loaded, self.declared = value, {}

    def add(self, entry: Entry) -> None:
        old = self.loaded.get(entry.name)
        if old is None or (entry.override and not old.override):
            self.loaded[entry.name] = entry
        elif old.override and not entry.override:
            pass  # the earlier explicit override wins over the plain registration
        else:
            singular = self.kind.rstrip("s").replace("_", " ")
            raise PluginError(
                f"{singular} {entry.name!r} is registered by {old.origin} and by {entry.origin}; "
                f"uninstall or disable one (MEDIC_DISABLE_PLUGINS={entry.origin.plugin}), or let one register "
                f"it with override=True"
            )

    def declare(self, name: str, declared: Declared) -> None:
        self.declared.setdefault(name, []).append(declared)

    def _load(self, name: str) -> None:
        for declared in self.declared.pop(name, ()):
            declared.load()

    def __getitem__(self, name: str) -> Any:
        entry = self.loaded.get(name)
        if entry is None or name in self.declared:  # another thread may be loading it: wait for it under the lock
            with _LOADING:
                self._load(name)
            entry = self.loaded[name]
        return entry.obj

    def __contains__(self, name: object) -> bool:
        if name in self.loaded or name in self.declared:
            return True
        with _LOADING:  # a load in another thread takes the name off `declared` before it is `loaded`
            return name in self.loaded or name in self.declared

    def __iter__(self) -> Iterator[str]:
        with _LOADING:  # not while another thread's load adds to the dicts
            return iter(sorted({*self.loaded, *self.declared}))

    def __len__(self) -> int:
        with _LOADING:
            return len({*self.loaded, *self.declared})

    def origin(self, name: str) -> Origin:
        return self._winner(name)

    def _winner(self, name: str) -> Origin:
        """Who provides ``name``, without loading it: an explicit override wins over a plain registration."""
        candidates = [(e.override, e.origin) for e in ([self.loaded[name]] if name in self.loaded else [])]
        candidates += [(d.override, d.origin) for d in self.declared.get(name, ())]
        if not candidates and name in self:  # it was being loaded: ask again now that the load is over
            return self._winner(name)
        if not candidates:
            raise KeyError(name)
        return max(candidates, key=lambda c: c[0])[1]


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
        return {kind: [n for n in t if t.origin(n).plugin == plugin] for kind, t in self.tables.items()}
