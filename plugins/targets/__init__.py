"""Built-in target kinds: ``local`` (this machine). ``ssh`` and ``bundle`` register here too as they land."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl
from medic.plugins.targets.local import LOCAL


@hookimpl(trylast=True)
def register_target_kinds(register: Any) -> None:
    register(LOCAL)
