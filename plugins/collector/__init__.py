"""The support-side collector (issue 13): agents enroll with single-use codes and upload bundles over TLS with
tus 1.0.0; each bundle is verified end to end, answered with a signed receipt, filed under a case and triaged.
``medic collector init|serve|enroll|agents|uploads|gc`` come through the ``register_commands`` hook."""

from __future__ import annotations

from typing import Any

from medic.core.hookspecs import hookimpl


@hookimpl
def register_commands(subparsers: Any) -> None:
    from medic.plugins.collector import commands  # imported when medic builds its command line, not on every load

    commands.register(subparsers)
