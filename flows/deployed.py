"""Entry point of deployed playbooks: ``medic.flows.deployed:<playbook>`` is that playbook's flow.

A process worker runs a deployment by importing its entrypoint in a fresh process; this module answers any
attribute with the ``medic-playbook`` flow of the playbook of that name, loaded from medic's configuration
there (packaged playbooks and the ``playbook_dirs`` of the worker's config).
"""

from __future__ import annotations

from typing import Any

from medic.flows import prefect_env

prefect_env.configure()

ENTRY_MODULE = __name__


def entrypoint(playbook: str) -> str:
    return f"{ENTRY_MODULE}:{playbook}"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):  # import machinery and tools probe dunders: not playbooks
        raise AttributeError(name)
    from medic.core.session import Session
    from medic.flows.playbook_flow import playbook_flow
    from medic.kernel.errors import MedicError

    try:
        return playbook_flow(Session().load_playbook(name))
    except MedicError as exc:
        raise AttributeError(f"no deployable playbook {name!r}: {exc}") from None
