"""Start a flow run as soon as Prefect says it was scheduled, not at the next poll (issue 18's fast path).

Prefect's worker and runner (``serve()``) find new runs by polling the server every ``deploy.poll_s`` seconds: a
run created just after a poll waits up to a whole interval (0.45-0.77 s median at a 1 s poll, bench/README-fast.md).
The server also publishes every state change on its event stream (the ``/api/events/out`` websocket): a run
created Scheduled emits ``prefect.flow-run.Scheduled``, with its deployment and work pool among the related
resources. ``Wakeup`` subscribes to those events for this process's work pool or deployments, through Prefect's
own subscriber, and runs the poll's get-and-submit at once when one arrives.

The poll stays as it was: a lost websocket, an event missed while reconnecting, or a run not found yet (the
server emits the event inside the transaction that creates the run, so it can arrive before the row can be read:
asked again after ``RETRY_DELAYS_S``) is still picked up by the next poll. A failure here is logged, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any
from uuid import UUID

import anyio

SCHEDULED_EVENT = "prefect.flow-run.Scheduled"
RUN_PREFIX = "prefect.flow-run."
RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4)  # then the poll's turn
RESUBSCRIBE_S = 5.0  # after the subscriber gave up (its own reconnection attempts spent)

logger = logging.getLogger("medic.run_wakeup")
GetAndSubmit = Callable[[], Awaitable[Collection[UUID]]]


class Wakeup:
    """Runs ``get_and_submit`` (the poll's work; returns the ids of the runs it started or is starting) when
    the event stream says a run of ``related_ids`` (Prefect resource ids) was scheduled. Bursts of events
    are coalesced into one call."""

    def __init__(self, get_and_submit: GetAndSubmit, related_ids: Iterable[str]) -> None:
        self.get_and_submit = get_and_submit
        self.related_ids = list(related_ids)
        self.waiting: dict[UUID, int] = {}  # run id -> get-and-submits done since its event
        self._wake = anyio.Event()

    async def run(self) -> None:
        """Listen and submit until cancelled."""
        async with anyio.create_task_group() as group:
            group.start_soon(self.submit_loop)
            await self.listen()

    def scheduled(self, run_id: UUID) -> None:
        self.waiting.setdefault(run_id, 0)
        self._wake.set()

    async def submit_loop(self) -> None:
        while True:
            tries = min(self.waiting.values(), default=None)
            with anyio.move_on_after(None if tries is None else RETRY_DELAYS_S[tries]):
                await self._wake.wait()
            self._wake = anyio.Event()
            if self.waiting:
                await self.submit_once()

    async def submit_once(self) -> None:
        try:
            picked = set(await self.get_and_submit())
        except Exception as exc:  # the server's hiccup: the next try or the poll
            logger.debug("medic: get-and-submit after an event failed: %s", exc)
            picked = set()
        for run_id in list(self.waiting):
            self.waiting[run_id] += 1
            if run_id in picked or self.waiting[run_id] >= len(RETRY_DELAYS_S):
                del self.waiting[run_id]

    async def listen(self) -> None:
        from prefect.events.clients import get_events_subscriber
        from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter

        wanted = EventFilter(event=EventNameFilter(name=[SCHEDULED_EVENT]),
                             related=EventRelatedFilter(id=self.related_ids))
        while True:
            try:
                async with get_events_subscriber(filter=wanted, reconnect_on_clean_close=True) as events:
                    async for event in events:
                        if event.resource.id.startswith(RUN_PREFIX):
                            self.scheduled(UUID(event.resource.id[len(RUN_PREFIX):]))
            except Exception as exc:  # runs still start at the poll
                logger.warning("medic: the event stream is lost (%s); new runs start at the next poll until it "
                               "is back", exc)
            await anyio.sleep(RESUBSCRIBE_S)


async def alongside(main: Awaitable[Any], wakeup: Wakeup) -> None:
    """Await ``main`` (a worker's or runner's start) with ``wakeup`` running beside it; stop it when main ends."""
    async with anyio.create_task_group() as group:
        group.start_soon(wakeup.run)
        try:
            await main
        finally:
            group.cancel_scope.cancel()


def worker_wakeup(worker: Any, pool_id: UUID) -> Wakeup:
    """For a Prefect worker: its own get-and-submit (it returns the runs it submits) on its pool's events."""

    async def get_and_submit() -> set[UUID]:
        return {run.id for run in await worker.get_and_submit_flow_runs()}

    return Wakeup(get_and_submit, [f"prefect.work-pool.{pool_id}"])


def runner_wakeup(runner: Any, deployment_ids: Iterable[UUID]) -> Wakeup:
    """For a Prefect runner (``serve()``): its poll's get-and-submit on the events of the deployments it serves.
    The runner returns nothing: the runs it is starting are read from its poller (Prefect's private attribute;
    without it every event is simply retried, then left to the poll)."""

    async def get_and_submit() -> set[UUID]:
        if not runner.started:  # still registering: the poll that follows its start picks the run up
            return set()
        await runner._get_and_submit_flow_runs()
        poller = getattr(runner, "_scheduled_run_poller", None)
        return set(getattr(poller, "_submitting_flow_run_ids", ()))

    return Wakeup(get_and_submit, [f"prefect.deployment.{d}" for d in deployment_ids])


def serve(deployments: Iterable[Any], limit: int | None) -> None:
    """Prefect's ``serve()`` (a runner for these deployments, until interrupted), its runs woken by events."""
    import asyncio

    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=False, limit=limit)
    ids: list[UUID] = [runner.add_deployment(deployment) for deployment in deployments]  # type: ignore[misc]
    try:
        asyncio.run(alongside(runner.start(), runner_wakeup(runner, ids)))
    except (KeyboardInterrupt, TerminationSignal) as exc:  # as Prefect's serve(): a clean stop
        logger.info("Received %s, shutting down...", type(exc).__name__)
