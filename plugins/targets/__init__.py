"""Built-in target kinds: ``local`` (this machine) and ``bundle`` (a collected diagnostics bundle)."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_target_kinds(register: Any) -> None:
    # imported here, not with the package: the plugin index registers `local` from its module alone
    # (medic.kernel.pluginsites), and importing that module imports this package first
    from medic.plugins.targets.bundle import BUNDLE
    from medic.plugins.targets.local import LOCAL

    register(LOCAL)
    register(BUNDLE)
