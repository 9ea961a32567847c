"""Find, load and validate plugins; turn their registration hooks into a :class:`Registry`.

Built-in plugins are entry points of the ``medic`` distribution in group ``medic``, found exactly like third-party
ones. Probes are not a pluggy hook: they come from the one probe registry (:mod:`medic.kernel.probes`, group
``medic.probes``) that the agent and the SSH runner read too; its plugins are listed here beside the others. A
plugin that fails to import is reported and skipped; ``MEDIC_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point
name; a hook implementation whose name matches no hook specification is an error, not silence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from medic.core import hookspecs
from medic.core.registry import KINDS, Origin, Registry
from medic.kernel import probes
from medic.kernel.errors import PluginError

GROUP = "medic"
DISABLE_ENV = "MEDIC_DISABLE_PLUGINS"
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


def disabled_plugins() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


def _entry_points() -> list[metadata.EntryPoint]:
    eps = list(metadata.entry_points(group=GROUP))
    # medic's own plugins first, then third parties by name: a stable order for overrides and listings
    return sorted(eps, key=lambda ep: (_dist_name(ep) != SELF_DIST, _dist_name(ep), ep.name))


def _dist_name(ep: metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "?"


def _origin(ep: metadata.EntryPoint) -> Origin:
    return Origin(ep.name, _dist_name(ep), ep.dist.version if ep.dist is not None else "")


def load(extra_plugins: Iterable[tuple[str, object]] = ()) -> PluginHost:
    """Load every installed plugin (plus ``extra_plugins``, name and module/object pairs, used by tests)."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    blocked = disabled_plugins()
    origins: dict[str, Origin] = {}
    failures: list[PluginFailure] = []
    for ep in _entry_points():
        if ep.name in blocked or ep.name in origins:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time error of someone else's code: report and go on
            failures.append(PluginFailure(ep.name, _dist_name(ep), f"{type(exc).__name__}: {exc}"))
            continue
        pm.register(plugin, name=ep.name)
        origins[ep.name] = _origin(ep)
    for name, plugin in extra_plugins:
        if name not in blocked:
            pm.register(plugin, name=name)
            origins[name] = Origin(name, IN_PROCESS)
    _check_hook_names(pm, origins)
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


def _build_registry(pm: pluggy.PluginManager, origins: dict[str, Origin]) -> Registry:
    registry = Registry()
    order = {name: i for i, name in enumerate(origins)}
    for kind in KINDS:
        caller = getattr(pm.hook, f"register_{kind}", None)
        if caller is None:
            continue
        impls = sorted(caller.get_hookimpls(), key=lambda impl: order.get(impl.plugin_name, len(order)))
        for impl in impls:
            origin = origins.get(impl.plugin_name, Origin(impl.plugin_name))

            def register(obj: Any, *, override: bool = False, _kind: str = kind, _o: Origin = origin) -> None:
                registry.register(_kind, obj, _o, override=override)

            try:
                impl.function(register)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(f"{origin} failed in register_{kind}: {type(exc).__name__}: {exc}; "
                                  f"fix it or set {DISABLE_ENV}={impl.plugin_name}") from None
    return registry
