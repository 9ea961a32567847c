"""Built-in probes. Each module holds probes of one area; every probe is a ``@probe``-decorated function.

Probe modules import only the standard library, psutil (optional: a /proc fallback keeps them working on a
remote Linux host without it) and ``medic.kernel.probe``/``params``/``errors``/``models``, so the same code can be
shipped to a remote Python and run inside the endpoint agent. Registration with pluggy lives in ``plugin.py`` so
that importing the probes never imports pluggy.
"""

from __future__ import annotations

from types import ModuleType

from medic.kernel.probe import ProbeSpec
from medic.plugins.probes import (
    config,
    files,
    http,
    kernel,
    logengines,
    logs,
    logscan,
    network,
    security,
    services,
    software,
    system,
    udpquery,
)

MODULES: tuple[ModuleType, ...] = (
    system,
    kernel,
    network,
    udpquery,
    http,
    files,
    logs,
    services,
    software,
    security,
    config,
)
# Modules without probes that probe modules import: ship them together with MODULES to a remote Python or
# the agent.
SUPPORT: tuple[ModuleType, ...] = (logscan, logengines)


def specs_in(module: ModuleType) -> list[ProbeSpec]:
    return [obj.spec for obj in vars(module).values() if isinstance(getattr(obj, "spec", None), ProbeSpec)]


def all_specs() -> list[ProbeSpec]:
    return [spec for module in MODULES for spec in specs_in(module)]


def by_name() -> dict[str, ProbeSpec]:
    return {spec.name: spec for spec in all_specs()}
