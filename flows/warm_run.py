"""A warm run's process, forked from the fork server (flows.fork_server): what ``python -m prefect.engine`` does.

Apart from ``flows.warm_worker`` so the fork server, which imports this module by name to start each run, does not
import Prefect's worker (``prefect.workers.process`` and what it pulls in: about 110 modules, 5.5 MB of RSS in a
fresh interpreter) that no run uses; every run forked from the server holds the server's pages, so a module loaded
there counts once more in the summed RSS of each run at once (bench/README-fleet.md, session 14).
"""

from __future__ import annotations

import os
import sys

# imported here, in the fork server: it notes the settings Prefect read there, which forked runs may then reuse
from medic.flows import run_settings


def run_engine(flow_run_id: str, env: dict[str, str | None], cwd: str) -> None:
    """In the forked process: what ``python -m prefect.engine`` does, with this run's environment."""
    from uuid import UUID

    os.setsid()  # a session of its own, as Prefect gives each cold run: a signal to a sibling's group stays there
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    pin_import_path(os.getcwd())
    os.chdir(cwd)
    from prefect._internal.control_listener import configure_from_env
    from prefect.engine import handle_engine_signals
    from prefect.flow_engine import flow_run_logger, load_flow, load_flow_run, run_flow

    run_id = UUID(flow_run_id)
    configure_from_env()
    # the forkserver's settings, or read again if this run's environment or directory would give others
    settings = run_settings.for_run()
    with settings, handle_engine_signals(run_id):
        flow_run = load_flow_run(flow_run_id=run_id)
        run_logger = flow_run_logger(flow_run=flow_run)
        try:
            flow = load_flow(flow_run)
        except Exception:
            run_logger.error("Unexpected exception encountered when trying to load flow", exc_info=True)
            raise
        run_flow(flow, flow_run=flow_run, error_logger=run_logger)  # type: ignore[arg-type] # as prefect.engine


def pin_import_path(directory: str) -> None:
    """``''`` on ``sys.path`` (the forkserver runs as ``python -c``) means the current directory: the forkserver's
    while it preloaded, the run's own (a new temporary one) once it changes there. Pinned to ``directory`` (the
    forkserver's), imports resolve as they did for the preload, and the plugin index, whose key holds each path
    entry's modification time (medic.kernel.pluginindex), stays fresh from one run to the next instead of being
    rebuilt by every run, importing every plugin and its commands (0.3-0.4 s of a run's start at load 20)."""
    sys.path[:] = [entry or directory for entry in sys.path]
