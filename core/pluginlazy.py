"""Plugins loaded from the plugin index: each name known at once, each plugin imported when first used.

The index (:mod:`medic.kernel.pluginindex`) holds, per plugin, its entry point, the hooks it implements and the
names it registers per kind (with ``override``), plus the commands it adds and, per probe module, its probes. A
table entry declared from it imports its plugin and calls that plugin's one registration hook the first time the
object is read (``registry.checks["logs.error_rate"]``); listing names or origins imports nothing. Plugins with
lifecycle hooks (``on_run_end``, ``collector_*``...) are imported and registered at once so ``pm.hook`` reaches
them, as pytest and pluggy do for the plugins they have loaded.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import pluggy

from medic.core import hookspecs
from medic.core.pluginmanager import GROUP, IN_PROCESS, call, check_hook_names
from medic.kernel import probes
from medic.kernel.errors import PluginError
from medic.kernel.pluginsites import resolve
from medic.kernel.registry import KINDS, Declared, Origin, Registry

REGISTRATION = {f"register_{kind}" for kind in KINDS} | {"register_commands"}


class LazyPlugins:
    """Imports and registers indexed plugins on demand, each once."""

    def __init__(self, pm: pluggy.PluginManager, registry: Registry, origins: dict[str, Origin]) -> None:
        self.pm, self.registry, self.origins = pm, registry, origins

    def plugin(self, entry: dict[str, Any]) -> object:
        name = entry["name"]
        found = self.pm.get_plugin(name)
        if found is not None:
            return found
        obj = self._resolve(name, str(entry["value"]))
        self.pm.register(obj, name=name)
        check_hook_names(self.pm, self.origins)
        return obj

    def _resolve(self, name: str, value: str) -> Any:
        try:
            return resolve(value)
        except Exception as exc:  # someone else's code failing at import: one line naming it
            raise PluginError(f"{self.origins[name]} failed to load: {type(exc).__name__}: {exc} (fix or "
                              f"uninstall it, or set MEDIC_DISABLE_PLUGINS={name})") from None

    def register_site(self, entry: dict[str, Any], kind: str, name: str, override: bool) -> None:
        """``name`` from its module alone (:mod:`medic.kernel.pluginsites`), the plugin's hook not called."""
        obj = self._resolve(entry["name"], entry["sites"][kind][name])
        self.registry.register(kind, obj, self.origins[entry["name"]], override=override)

    def register_kind(self, entry: dict[str, Any], kind: str) -> None:
        self.plugin(entry)
        origin = self.origins[entry["name"]]

        def register(obj: Any, *, override: bool = False) -> None:
            self.registry.register(kind, obj, origin, override=override)

        caller = getattr(self.pm.hook, f"register_{kind}", None)  # probes have no hook
        for impl in caller.get_hookimpls() if caller is not None else ():
            if impl.plugin_name == entry["name"]:
                call(impl, origin, f"register_{kind}", register)

    def probe_module(self, entry: dict[str, Any]) -> None:
        module = importlib.import_module(entry["module"])
        for spec in probes.specs_in(module):
            self.registry.register("probes", spec, self.origins[entry["plugin"]])


def origin_of(entry: dict[str, Any]) -> Origin:
    return Origin(entry["name"], entry["distribution"], entry["version"])


def _manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


def one_plugin(entry: dict[str, Any]) -> pluggy.PluginManager:
    """A manager holding one indexed plugin only: ``medic COMMAND`` of a plugin imports no other plugin."""
    pm = _manager()
    LazyPlugins(pm, Registry(), {entry["name"]: origin_of(entry)}).plugin(entry)
    return pm


def load_indexed(index: dict[str, Any], extra: list[tuple[str, object]]
                 ) -> tuple[pluggy.PluginManager, Registry, dict[str, Origin]]:
    """A plugin manager and registry from the index: every name declared, the lifecycle plugins registered,
    ``extra`` (in-process plugins) registered in full."""
    pm, registry, origins = _manager(), Registry(), dict[str, Origin]()
    lazy = LazyPlugins(pm, registry, origins)
    for entry in index["plugins"]:
        origin = origins[entry["name"]] = origin_of(entry)
        for kind, names in entry["provides"].items():
            load = functools.cache(lambda e=entry, k=kind: lazy.register_kind(e, k))
            sited = kind in entry.get("sites", ())  # each name from its own module, else the plugin's hook
            for name, override in names:
                one = functools.partial(lazy.register_site, entry, kind, name, override) if sited else load
                registry.tables[kind].declare(name, Declared(origin, override, one))
        if set(entry["hooks"]) - REGISTRATION:
            lazy.plugin(entry)
    for entry in index["probe_modules"]:
        origin = origins.setdefault(entry["plugin"], Origin(entry["plugin"], entry["distribution"], entry["version"]))
        load = functools.cache(lambda e=entry: lazy.probe_module(e))
        for name in entry["probes"]:
            registry.probes.declare(name, Declared(origin, False, load))
    for name, plugin in extra:  # in-process plugins (the CLI's progress display, tests): registered in full now
        pm.register(plugin, name=name)
        origins[name] = Origin(name, IN_PROCESS)
        for kind in KINDS:
            lazy.register_kind({"name": name}, kind)
    check_hook_names(pm, origins)
    return pm, registry, origins
