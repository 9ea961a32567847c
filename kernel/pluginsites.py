"""Where each object a built-in plugin registers lives, so one name loads one module, not the whole plugin.

The plugin index (:mod:`medic.kernel.pluginindex`) lets a command import only the plugins it uses, but a plugin
is a package: calling its registration hook imports every module of it (the built-in checks plugin: ten modules
of checks and their probes for a run that uses one check). For medic's own plugins, whose hooks only register
objects defined at the top level of their modules, the index also records each name's *site*,
``module:attribute`` (``medic.plugins.checks.logs:error_rate.spec``); reading that name imports that module
alone and registers the object found there. A name whose object is not found that way, or any third party's
plugin (its hook may decide what to register), is loaded by calling the hook as before.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from typing import Any

SITED_DISTRIBUTION = "medic"  # whose plugins are loaded by site


def resolve(value: str) -> Any:
    """The object ``module`` or ``module:attr.attr`` names (an entry point's value or a site)."""
    module, _, attr = value.partition(":")
    obj: Any = importlib.import_module(module.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def sites(package: str, objects: Iterable[tuple[str, Any]]) -> dict[str, str] | None:
    """Each name's site among the loaded submodules of ``package``, or None when one object has none (the plugin
    is then loaded through its hook)."""
    prefix = package + "."
    found: dict[int, str] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(prefix) and module is not None:
            for attr, value in vars(module).items():
                found.setdefault(id(value), f"{name}:{attr}")
                spec = getattr(value, "spec", None) if callable(value) else None  # a @check function's spec
                if spec is not None:
                    found.setdefault(id(spec), f"{name}:{attr}.spec")
    out = {}
    for name, obj in objects:
        site = found.get(id(obj))
        if site is None:
            return None
        out[name] = site
    return out


def plugin_sites(registry: Any, plugin: str, distribution: str, value: str, provides: dict[str, list[list[Any]]]
                 ) -> dict[str, dict[str, str]]:
    """Per kind, the sites of what ``plugin`` (entry point ``value``) provides, for the kinds where every name
    has one; none for a plugin not of :data:`SITED_DISTRIBUTION` or not a package."""
    package = value.partition(":")[0].strip()
    if distribution != SITED_DISTRIBUTION or not hasattr(sys.modules.get(package), "__path__"):
        return {}
    out = {}
    for kind, names in provides.items():
        table = registry.tables[kind]
        entries = [table.loaded.get(name) for name, _override in names]
        if all(e is not None and e.origin.plugin == plugin for e in entries):
            found = sites(package, [(e.name, e.obj) for e in entries if e is not None])
            if found is not None:
                out[kind] = found
    return out
