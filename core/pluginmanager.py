"""Find, load and validate plugins; turn their registration hooks into a :class:`Registry`.

Built-in plugins are entry points of the ``medic`` distribution in group ``medic``, found exactly like third-party
ones. Probes are not a pluggy hook: they come from the one probe registry (:mod:`medic.kernel.probes`, group
``medic.probes``) that the agent and the SSH runner read too; its plugins are listed here beside the others. A
plugin that fails to import is reported and skipped; ``MEDIC_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point
name; a hook implementation whose name matches no hook specification is an error, not silence.

What each plugin provides is cached in the plugin index (:mod:`medic.kernel.pluginindex`): while it holds, a
session imports only the plugins whose checks, step kinds, probes... a command asks for (:mod:`.pluginlazy`), and
those with lifecycle hooks. Without it (first run, something installed or changed, a plugin that failed to load)
every plugin is imported as before and the index written again.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy

from medic.core import hookspecs
from medic.kernel import pluginindex, probes
from medic.kernel.errors import PluginError
from medic.kernel.probes import DISABLE_ENV, disabled
from medic.kernel.registry import KINDS, Origin, PluginFailure, PluginInfo, Registry

if TYPE_CHECKING:
    from importlib import metadata

GROUP = "medic"
SELF_DIST = "medic"
IN_PROCESS = "(registered in-process)"


@dataclass
class PluginHost:
    """The loaded pluggy manager and what loading found: registry, origins, failures, disabled."""
    pm: pluggy.PluginManager
    registry: Registry
    origins: dict[str, Origin]
    failures: list[PluginFailure]
    disabled: list[str]

    @property
    def hook(self) -> Any:
        return self.pm.hook

    @functools.cached_property
    def plugins(self) -> list[PluginInfo]:  # for listings: what a run does not need (about 1 ms) is not built
        infos = (PluginInfo(n, o, self.registry.provided_by(n)) for n, o in self.origins.items())
        return sorted(infos, key=_listing_order)


def _entry_points() -> list[metadata.EntryPoint]:
    from importlib import metadata  # only when the plugin index does not hold: it costs about 30 ms

    eps = list(metadata.entry_points(group=GROUP))
    # medic's own plugins first, then third parties by name: a stable order for overrides and listings
    return sorted(eps, key=lambda ep: (_name_version(ep.dist)[0] != SELF_DIST, _name_version(ep.dist)[0], ep.name))


@functools.cache
def _name_version(dist: metadata.Distribution | None) -> tuple[str, str]:
    # dist.name and .version each parse METADATA again: once per distribution, not 3 times per entry point (~0.1 s)
    if dist is None:
        return "?", ""
    meta = dist.metadata
    return meta["Name"] or "?", meta["Version"] or ""


def load_manager(extra_plugins: Iterable[tuple[str, object]], values: dict[str, str] | None = None
                  ) -> tuple[pluggy.PluginManager, dict[str, Origin], list[PluginFailure], set[str]]:
    """Import and register every installed plugin not blocked; return the manager, each plugin's origin (in load
    order), the plugins that failed to import and the blocked names; ``values`` gets each entry point's value."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    blocked = disabled()
    origins: dict[str, Origin] = {}
    failures: list[PluginFailure] = []
    for ep in _entry_points():
        if ep.name in blocked or ep.name in origins:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time error of someone else's code: report and go on
            failures.append(PluginFailure(ep.name, _name_version(ep.dist)[0], f"{type(exc).__name__}: {exc}"))
            continue
        pm.register(plugin, name=ep.name)
        origins[ep.name] = Origin(ep.name, *_name_version(ep.dist))
        if values is not None:
            values[ep.name] = ep.value
    for name, plugin in extra_plugins:
        if name not in blocked:
            pm.register(plugin, name=name)
            origins[name] = Origin(name, IN_PROCESS)
    check_hook_names(pm, origins)
    return pm, origins, failures, blocked


def load(extra_plugins: Iterable[tuple[str, object]] = ()) -> PluginHost:
    """The installed plugins (plus ``extra_plugins``, name and module/object pairs, used by tests): from the
    plugin index when it holds, each plugin imported when first used; else every one imported now."""
    extra = list(extra_plugins)
    index = fresh_index()
    if index is not None:
        from medic.core.pluginlazy import load_indexed

        pm, registry, origins = load_indexed(index, extra)
        return _host(pm, registry, origins, [], disabled())
    host, content = load_everything(extra)
    if content is not None:
        pluginindex.write(pluginindex.key(disabled()), content)
    return host


def fresh_index() -> dict[str, Any] | None:
    return pluginindex.read(pluginindex.key(disabled()))


def _host(pm: pluggy.PluginManager, registry: Registry, origins: dict[str, Origin], failures: list[PluginFailure],
          blocked: set[str]) -> PluginHost:
    return PluginHost(pm, registry, origins, failures, sorted(blocked))


def load_everything(extra: list[tuple[str, object]]) -> tuple[PluginHost, dict[str, Any] | None]:
    """Import every plugin; also the plugin index's content, or None when this load cannot be cached (a plugin
    failed, plugins registered in-process)."""
    values: dict[str, str] = {}
    pm, origins, failures, blocked = load_manager(extra, values)
    log: list[tuple[str, str, str, bool]] = []
    registry = _build_registry(pm, origins, log)
    catalog = _add_probes(registry, origins, failures)
    host = _host(pm, registry, origins, failures, blocked)
    if failures or extra:
        return host, None
    commands = pluginindex.commands_of(in_load_order(pm.hook.register_commands, origins))
    return host, pluginindex.content(pm, origins, values, log, catalog, commands, registry)


def _listing_order(info: PluginInfo) -> tuple[bool, bool, str, str]:
    """medic's own plugins first, then third parties by distribution, those registered in-process last."""
    dist = info.origin.distribution
    return (dist == IN_PROCESS, dist != SELF_DIST, dist, info.name)


def _add_probes(registry: Registry, origins: dict[str, Origin], failures: list[PluginFailure]
                ) -> probes.ProbeCatalog:
    """The probe registry's probes, each under its plugin (the entry-point name up to the first dot)."""
    catalog = probes.discover()
    for name, spec in catalog.specs.items():
        source = catalog.sources[name]
        origin = origins.setdefault(source.plugin, Origin(source.plugin, source.distribution, source.version))
        registry.register("probes", spec, origin)
    for failure in catalog.failures:
        failures.append(PluginFailure(failure.source.entry, failure.source.distribution,
                                      f"{failure.error} (probe module {failure.source.module})"))
    return catalog


def check_hook_names(pm: pluggy.PluginManager, origins: dict[str, Origin]) -> None:
    known = sorted(n for n in dir(hookspecs) if not n.startswith("_") and callable(getattr(hookspecs, n))
                   and n not in ("hookspec", "hookimpl", "annotations", "Any"))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        plugin_name = pm.get_name(exc.plugin) or "?"
        origin = origins.get(plugin_name, Origin(plugin_name))
        raise PluginError(f"{origin} implements a hook medic does not know ({exc}); known hooks: "
                          f"{', '.join(known)}. Fix the hook's name or set {DISABLE_ENV}={plugin_name}") from None


def in_load_order(caller: Any, origins: dict[str, Origin]) -> list[tuple[Any, Origin]]:
    """A hook's implementations with their plugin's origin, in plugin load order (medic's own first)."""
    order = {name: i for i, name in enumerate(origins)}
    impls = sorted(caller.get_hookimpls(), key=lambda impl: order.get(impl.plugin_name, len(order)))
    return [(impl, origins.get(impl.plugin_name, Origin(impl.plugin_name))) for impl in impls]


def call(impl: Any, origin: Origin, hook: str, arg: Any) -> None:
    try:
        impl.function(arg)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"{origin} failed in {hook}: {type(exc).__name__}: {exc}; "
                          f"fix it or set {DISABLE_ENV}={impl.plugin_name}") from None


def _build_registry(pm: pluggy.PluginManager, origins: dict[str, Origin], log: list[tuple[str, str, str, bool]]
                    ) -> Registry:
    """Call every plugin's registration hooks; ``log`` gets (plugin, kind, name, override) of each call."""
    registry = Registry()
    for kind in KINDS:
        caller = getattr(pm.hook, f"register_{kind}", None)
        if caller is None:
            continue
        for impl, origin in in_load_order(caller, origins):

            def register(obj: Any, *, override: bool = False, _kind: str = kind, _o: Origin = origin) -> None:
                registry.register(_kind, obj, _o, override=override)
                log.append((_o.plugin, _kind, KINDS[_kind](obj), override))

            call(impl, origin, f"register_{kind}", register)
    return registry
