"""``medic serve``'s flow-run processes forked warm, as ``medic worker --start warm`` does (flows.warm_worker).

Prefect's ``serve()`` starts each run of a deployment it serves by entrypoint as ``python -m prefect.engine``: a
fresh interpreter importing Prefect and medic before the run starts (most of a fast-path run's wait:
bench/README-fast.md). Its runner picks that starter by the name ``EngineCommandStarter`` in
``prefect.runner.runner`` when it has no flow object for the deployment, which is the case for every deployment
medic serves (module entrypoints, ``medic.flows.deployed:<playbook>``). ``use_warm_starts()`` puts a factory under
that name, in this process only: each run is then forked from the worker's warm forkserver and run by the same
code as a worker's warm run (``warm_worker.WarmStarter``, ``run_engine``). A deployment with storage to pull or a
command of its own keeps Prefect's starter.
"""

from __future__ import annotations

import os
from typing import Any

STARTER_NAME = "EngineCommandStarter"


def use_warm_starts() -> None:
    """From now on, runs started by a Prefect runner in this process are forked from a warm forkserver."""
    from prefect.runner import runner

    from medic.flows.warm_worker import WarmStarter, forkserver

    cold = getattr(runner, STARTER_NAME)
    ctx = forkserver("serve")  # started now: it imports Prefect and medic while serve() registers the deployments

    def starter(**options: Any) -> Any:
        if options.get("storage") is not None or options.get("command"):
            return cold(**options)  # code to pull, or a launcher of its own: Prefect's way
        env: dict[str, str | None] = {"PREFECT__DEPLOYMENT_NAME": options.get("deployment_name")}
        if options.get("heartbeat_seconds") is not None:
            env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = str(int(options["heartbeat_seconds"]))
        return WarmStarter(ctx, env, os.getcwd(), options.get("control_channel"))

    setattr(runner, STARTER_NAME, starter)
