"""Built-in target kinds: ``local`` (this machine) and ``bundle`` (a collected diagnostics bundle)."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl
from medic.plugins.targets.bundle import BUNDLE
from medic.plugins.targets.local import LOCAL


@hookimpl(trylast=True)
def register_target_kinds(register: Any) -> None:
    register(LOCAL)
    register(BUNDLE)
