"""The built-in probes as a pluggy plugin (entry point ``builtin_probes``)."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl
from medic.plugins.probes import all_specs


@hookimpl(trylast=True)
def register_probes(register: Any) -> None:
    for spec in all_specs():
        register(spec)
