"""Cases: the support case store (:mod:`.store`), ``medic cases ...`` commands, routing and SLA clocks, and the
collector hooks that open or join a case when a bundle arrives."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl
def register_commands(subparsers: Any) -> None:
    # imported when medic builds its command line, not on every load
    from medic.plugins.cases import commands, routecmd, slacmd

    commands.register(subparsers)
    routecmd.register(subparsers)
    slacmd.register(subparsers)


@hookimpl
def collector_bundle_received(upload: dict[str, Any], bundle_path: str) -> str | None:
    from medic.plugins.cases.attach import bundle_received

    return bundle_received(upload, bundle_path)


@hookimpl
def collector_bundle_triaged(case_id: str, run_document: dict[str, Any], report_path: str) -> None:
    from medic.plugins.cases.attach import bundle_triaged

    bundle_triaged(case_id, run_document, report_path)
