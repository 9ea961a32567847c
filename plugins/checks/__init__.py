"""Built-in diagnostic checks, one module per area. Every ``@check``-decorated function is registered."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from medic.core.check import CheckSpec
from medic.core.hookspecs import hookimpl
from medic.plugins.checks import (
    configuration,
    kernel,
    logs,
    network,
    resources,
    security,
    services,
    software,
    system,
    web,
)

MODULES: tuple[ModuleType, ...] = (
    network,
    web,
    system,
    resources,
    kernel,
    services,
    software,
    logs,
    security,
    configuration,
)


def specs_in(module: ModuleType) -> list[CheckSpec]:
    return [obj.spec for obj in vars(module).values() if isinstance(getattr(obj, "spec", None), CheckSpec)]


def all_specs() -> list[CheckSpec]:
    return [spec for module in MODULES for spec in specs_in(module)]


@hookimpl(trylast=True)
def register_checks(register: Any) -> None:
    for spec in all_specs():
        register(spec)
