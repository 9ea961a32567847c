"""``medic worker``'s flow-run processes, forked from a warm process instead of started cold.

Prefect's process worker starts each flow run as ``python -m prefect.engine``: a fresh interpreter that imports
Prefect and medic before the run starts (about 3.5 s of CPU each, 10-33 s from Pending to Running per shard on a
loaded 2-core machine: bench/README-fleet.md). Here the worker keeps a multiprocessing *forkserver* that imported
them once (``PRELOAD``); each run is a process forked from it, so it starts with everything loaded, then does what
``python -m prefect.engine`` does: read the run, load its flow from the deployment's entrypoint, run it under
Prefect's engine-signal handling. The forkserver is a single-threaded process of its own, shared by the machine's
warm workers (flows.fork_server), so forking it is safe (unlike forking the worker, which runs an event loop and
threads). Each run's process starts a session of its own,
as Prefect's cold runs do: a signal sent to another run's (or the worker's) process group does not reach it.

Resource limits: a cold run inherits the worker's limits at the moment it starts; a forked one would inherit the
forkserver's, frozen when it started: each run gets the worker's limits of the moment (flows.run_limits).

Runs whose job sets a ``command`` (a work pool or deployment that asks for its own launcher) are left to Prefect's
own path, unchanged.
"""

from __future__ import annotations

import warnings
from typing import Any

import anyio
import anyio.abc
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker, ProcessWorkerResult

from medic.flows.fork_server import ForkServer, running
from medic.flows.run_limits import run_limits
from medic.flows.warm_run import run_engine

# What a deployed medic run imports: loaded once in the forkserver, inherited by every run's process. Last,
# warm_preload: the plugins and probes runs import as they use them, then gc.freeze() (why: its docstring).
PRELOAD = ["medic.flows.warm_run", "prefect.flow_engine", "prefect.engine", "medic.flows.deployed",
           "medic.flows.deployed_run", "medic.flows.playbook_flow", "medic.core.session", "medic.flows.warm_preload"]
CONTROL_KEYS = ("PREFECT__CONTROL_PORT", "PREFECT__CONTROL_TOKEN")
ENTRYPOINT_KEY = "PREFECT__FLOW_ENTRYPOINT"  # read by prefect.flow_engine.load_flow


def forkserver(role: str = "worker") -> ForkServer:
    """The fork server of this machine's warm workers (``role``: of ``medic serve``), preloading Prefect and medic,
    started now if none runs: it imports them while the worker starts and waits for runs, so the first run does not
    pay for the import either."""
    return running(PRELOAD, role)


class WarmStarter:
    """A Prefect process starter: the run's process forked from the warm forkserver."""

    def __init__(self, ctx: ForkServer, env: dict[str, str | None], cwd: str, control_channel: Any) -> None:
        self.ctx, self.env, self.cwd, self.control_channel = ctx, env, cwd, control_channel

    async def start(self, flow_run: Any, task_status: anyio.abc.TaskStatus[Any] = anyio.TASK_STATUS_IGNORED
                    ) -> None:
        from prefect.runner._process_manager import ProcessHandle

        env = {**self.env, "PREFECT__FLOW_RUN_ID": str(flow_run.id)}
        registered = False
        if self.control_channel is not None:
            try:  # the channel through which the worker asks the run to cancel before killing it
                port, token = self.control_channel.register(flow_run.id)
                env.update(zip(CONTROL_KEYS, (str(port), token), strict=True))
                registered = True
            except RuntimeError:  # no loopback listener: Prefect falls back to killing the process
                pass
        started = False
        try:
            # the worker's limits of now, as a cold run's
            server = self.ctx if self.ctx.alive() else forkserver(self.ctx.role)  # one that died: started again
            process = server.start(run_engine, (str(flow_run.id), env, self.cwd), run_limits())
            task_status.started(ProcessHandle(process))  # type: ignore[arg-type] # reads pid and exitcode only
            started = True
            await anyio.to_thread.run_sync(process.join)
        except BaseException:
            if registered and not started:
                self.control_channel.unregister(flow_run.id)
            raise


with warnings.catch_warnings():  # Prefect warns that this subclass takes over its pool type: that is the point
    warnings.filterwarnings("ignore", message="Type 'WarmProcessWorker'", category=UserWarning)

    class WarmProcessWorker(ProcessWorker):
        """Prefect's process worker (same pool type, same job variables) starting runs from a warm forkserver."""

        _ctx: Any = None
        _run_context: Any = None

        async def __aenter__(self) -> WarmProcessWorker:
            worker = await super().__aenter__()
            self._ctx = await anyio.to_thread.run_sync(forkserver)
            return worker

        async def setup(self) -> None:
            """One flow-run executor context (its client, control channel, event emitter, cancellation observer)
            for the worker's life, as Prefect's runner keeps, instead of one per run (entering one costs a client,
            a websocket and a listener: 0.35 s of a run's start at load 20, bench/README-fast.md). Entered before
            Prefect's own set-up, so it is left after the worker's runs task group has waited for the runs."""
            from prefect.runner._flow_run_executor import FlowRunExecutorContext

            if self._run_context is None:
                self._run_context = await self._exit_stack.enter_async_context(FlowRunExecutorContext())
            await super().setup()

        async def teardown(self, *exc_info: Any) -> None:
            try:
                await super().teardown(*exc_info)  # leaves the exit stack, the executor context last
            finally:
                self._run_context = None

        async def _module_entrypoint(self, flow_run: Any) -> str | None:
            """The entrypoint of the run's deployment when it is one of medic's (``medic.flows.deployed:<playbook>``,
            nothing to pull): the run then loads its flow from it (Prefect's ``PREFECT__FLOW_ENTRYPOINT``, as its
            runner gives runs of flows it holds), without reading the deployment again, copying its storage into the
            run's directory or putting ``.`` (that directory, new per run) first on ``sys.path``, which would make
            the plugin index stale for every run (see ``warm_run.pin_import_path``)."""
            from medic.flows.deployed import entrypoint

            if flow_run.deployment_id is None:
                return None
            deployment = await self.client.read_deployment(flow_run.deployment_id)
            wanted = str(deployment.entrypoint or "")
            if deployment.pull_steps or deployment.storage_document_id or wanted != entrypoint(wanted.split(":")[-1]):
                return None
            return wanted

        async def run(self, flow_run: Any, configuration: ProcessJobConfiguration,
                      task_status: anyio.abc.TaskStatus[int] | None = None) -> ProcessWorkerResult:
            if configuration._command_configured:  # the job names its own launcher: Prefect's path
                return await super().run(flow_run, configuration, task_status)
            import contextlib
            import tempfile

            from prefect.flows import load_flow_from_flow_run

            if self._ctx is None:
                self._ctx = forkserver()
            status = task_status if task_status is not None else anyio.TASK_STATUS_IGNORED
            workdir = (contextlib.nullcontext(str(configuration.working_dir)) if configuration.working_dir
                       else tempfile.TemporaryDirectory(suffix="prefect"))
            ctx = self._run_context
            env = dict(configuration.env)
            entrypoint = await self._module_entrypoint(flow_run)
            if entrypoint:
                env[ENTRYPOINT_KEY] = entrypoint
            with workdir as cwd:
                starter = WarmStarter(self._ctx, env, str(cwd), ctx.control_channel)
                executor = ctx.create_executor(flow_run, starter, resolve_flow=load_flow_from_flow_run,
                                               propose_submitting=False)
                execution: Any = None

                async def execute(*, task_status: anyio.abc.TaskStatus[Any] = anyio.TASK_STATUS_IGNORED) -> None:
                    nonlocal execution
                    execution = await executor.submit(task_status=task_status)

                async with anyio.create_task_group() as group:
                    handle = await group.start(execute)
                    status.started(handle.pid)
            if execution is None or execution.status_code is None:
                raise RuntimeError("Failed to start flow run process.")
            return ProcessWorkerResult(status_code=execution.status_code, identifier=str(execution.handle.pid))
