"""Built-in diagnostic checks, one module per area. Every ``@check``-decorated function is registered."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from medic.core.check import CheckSpec
from medic.core.hookspecs import hookimpl

# imported by the hook, not with the package: the plugin index registers one check from its module alone
# (medic.kernel.pluginsites), which imports this package first
MODULES = ("network", "web", "system", "resources", "kernel", "services", "software", "logs", "security",
           "configuration")


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{name}") for name in MODULES]


def specs_in(module: ModuleType) -> list[CheckSpec]:
    return [obj.spec for obj in vars(module).values() if isinstance(getattr(obj, "spec", None), CheckSpec)]


def all_specs() -> list[CheckSpec]:
    return [spec for module in modules() for spec in specs_in(module)]


@hookimpl(trylast=True)
def register_checks(register: Any) -> None:
    for spec in all_specs():
        register(spec)
