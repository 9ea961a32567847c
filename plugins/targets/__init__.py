"""Built-in target kinds: ``local`` (this machine) and ``bundle`` (a collected diagnostics bundle)."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl
from medic.core.target import Target, TargetContext, TargetKind
from medic.plugins.targets.local import LOCAL


def _open_bundle(spec: str, ctx: TargetContext) -> list[Target]:
    # imported when a bundle is opened: the reader and redaction rules cost start-up time every command would pay
    from medic.agent.bundle.target import open_bundle_target

    return open_bundle_target(spec, ctx)


BUNDLE = TargetKind("bundle", _open_bundle, "probe results collected by medic-agent into a bundle (bundle:PATH); "
                                            "checks run offline")


@hookimpl(trylast=True)
def register_target_kinds(register: Any) -> None:
    register(LOCAL)
    register(BUNDLE)
