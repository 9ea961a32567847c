"""Find, load and validate plugins; turn their registration hooks into a :class:`Registry`.

Built-in plugins are entry points of the ``medic`` distribution in group ``medic``, found exactly like third-party
ones. Probes are not a pluggy hook: they come from the one probe registry (:mod:`medic.kernel.probes`, group
``medic.probes``) that the agent and the SSH runner read too; its plugins are listed here beside the others. A
plugin that fails to import is reported and skipped; ``MEDIC_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point
name; a hook implementation whose name matches no hook specification is an error, not silence.
:func:`add_commands` lets plugins add ``medic`` sub-commands (hook ``register_commands``) without a registry.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from medic.core import hookspecs
from medic.core.registry import KINDS, Origin, Registry
from medic.kernel import probes
from medic.kernel.errors import PluginError
from medic.kernel.probes import DISABLE_ENV, disabled

GROUP = "medic"
SELF_DIST = "medic"
IN_PROCESS = "(registered in-process)"


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    distribution: str
    error: str

    def __str__(self) -> str:
        return (f"plugin {self.plugin!r} from distribution {self.distribution} failed to load and was skipped: "
                f"{self.error} (fix or uninstall it, or set {DISABLE_ENV}={self.plugin})")


@dataclass
class PluginInfo:
    name: str
    origin: Origin
    provides: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PluginHost:
    pm: pluggy.PluginManager
    registry: Registry
    plugins: list[PluginInfo]
    failures: list[PluginFailure]
    disabled: list[str]

    @property
    def hook(self) -> Any:
        return self.pm.hook


def _entry_points() -> list[metadata.EntryPoint]:
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


def _load_manager(extra_plugins: Iterable[tuple[str, object]]) -> tuple[pluggy.PluginManager, dict[str, Origin],
                                                                         list[PluginFailure], set[str]]:
    """Import and register every installed plugin not blocked; return the manager, each plugin's origin (in load
    order), the plugins that failed to import and the blocked names."""
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
    for name, plugin in extra_plugins:
        if name not in blocked:
            pm.register(plugin, name=name)
            origins[name] = Origin(name, IN_PROCESS)
    _check_hook_names(pm, origins)
    return pm, origins, failures, blocked


def load(extra_plugins: Iterable[tuple[str, object]] = ()) -> PluginHost:
    """Load every installed plugin (plus ``extra_plugins``, name and module/object pairs, used by tests)."""
    pm, origins, failures, blocked = _load_manager(extra_plugins)
    registry = _build_registry(pm, origins)
    _add_probes(registry, origins, failures)
    infos = sorted((PluginInfo(n, o, registry.provided_by(n)) for n, o in origins.items()), key=_listing_order)
    return PluginHost(pm, registry, infos, failures, sorted(blocked))


def _listing_order(info: PluginInfo) -> tuple[bool, bool, str, str]:
    """medic's own plugins first, then third parties by distribution, those registered in-process last."""
    dist = info.origin.distribution
    return (dist == IN_PROCESS, dist != SELF_DIST, dist, info.name)


def _add_probes(registry: Registry, origins: dict[str, Origin], failures: list[PluginFailure]) -> None:
    """The probe registry's probes, each under its plugin (the entry-point name up to the first dot)."""
    catalog = probes.discover()
    for name, spec in catalog.specs.items():
        source = catalog.sources[name]
        origin = origins.setdefault(source.plugin, Origin(source.plugin, source.distribution, source.version))
        registry.register("probes", spec, origin)
    for failure in catalog.failures:
        failures.append(PluginFailure(failure.source.entry, failure.source.distribution,
                                      f"{failure.error} (probe module {failure.source.module})"))


def _check_hook_names(pm: pluggy.PluginManager, origins: dict[str, Origin]) -> None:
    known = sorted(n for n in dir(hookspecs) if not n.startswith("_") and callable(getattr(hookspecs, n))
                   and n not in ("hookspec", "hookimpl", "annotations", "Any"))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        plugin_name = pm.get_name(exc.plugin) or "?"
        origin = origins.get(plugin_name, Origin(plugin_name))
        raise PluginError(f"{origin} implements a hook medic does not know ({exc}); known hooks: "
                          f"{', '.join(known)}. Fix the hook's name or set {DISABLE_ENV}={plugin_name}") from None


def _in_load_order(caller: Any, origins: dict[str, Origin]) -> list[tuple[Any, Origin]]:
    """A hook's implementations with their plugin's origin, in plugin load order (medic's own first)."""
    order = {name: i for i, name in enumerate(origins)}
    impls = sorted(caller.get_hookimpls(), key=lambda impl: order.get(impl.plugin_name, len(order)))
    return [(impl, origins.get(impl.plugin_name, Origin(impl.plugin_name))) for impl in impls]


def _call(impl: Any, origin: Origin, hook: str, arg: Any) -> None:
    try:
        impl.function(arg)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"{origin} failed in {hook}: {type(exc).__name__}: {exc}; "
                          f"fix it or set {DISABLE_ENV}={impl.plugin_name}") from None


def _build_registry(pm: pluggy.PluginManager, origins: dict[str, Origin]) -> Registry:
    registry = Registry()
    for kind in KINDS:
        caller = getattr(pm.hook, f"register_{kind}", None)
        if caller is None:
            continue
        for impl, origin in _in_load_order(caller, origins):

            def register(obj: Any, *, override: bool = False, _kind: str = kind, _o: Origin = origin) -> None:
                registry.register(_kind, obj, _o, override=override)

            _call(impl, origin, f"register_{kind}", register)
    return registry


class CommandSet:
    """The ``medic`` sub-parsers as a plugin's ``register_commands`` sees them: a command name already taken (by
    medic's own commands or another plugin) is an error naming the plugin, never a silent replacement."""

    def __init__(self, subparsers: Any) -> None:
        self._subparsers = subparsers
        self._owners: dict[str, Origin] = {}
        self.origin = Origin("?")

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        names = [name, *kwargs.get("aliases", ())]
        for taken in (n for n in names if n in self._subparsers.choices):
            owner = self._owners.get(taken)
            raise PluginError(f"{self.origin} adds the command {taken!r}, which {owner or 'medic itself'} "
                              f"already has; rename it or set {DISABLE_ENV}={self.origin.plugin}")
        parser = self._subparsers.add_parser(name, **kwargs)
        self._owners.update(dict.fromkeys(names, self.origin))
        return parser


def add_commands(subparsers: Any) -> None:
    """Let every installed plugin add its ``medic`` sub-commands (hook ``register_commands``) to ``subparsers``.

    Loads the plugins but builds no registry. Plugins that fail to import are skipped silently here: the command
    that then loads a Session reports them.
    """
    pm, origins, _, _ = _load_manager(())
    commands = CommandSet(subparsers)
    for impl, origin in _in_load_order(pm.hook.register_commands, origins):
        commands.origin = origin
        _call(impl, origin, "register_commands", commands)
