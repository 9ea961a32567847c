"""Following one shard's run until it ends, and telling a dead run from a slow one.

A process worker killed with its run's process leaves the run Running on the server for ever (prefect#16746) and
Prefect's flow retries do not cover Crashed (prefect#10211). ``medic deploy``'s automation sets such a run Crashed
once it has sent no heartbeat for the zombie window; the fleet parent does not wait on the automation alone
(proactive triggers are evaluated periodically, and an automation may have been removed): a Pending or Running
shard silent for the window — no heartbeat event, no state change — is set Crashed here, by the same rule.
Silence is counted on the event store's clock (flows.store_clock): heartbeats the server has received but not yet
stored are not silence. A Pending run sends no heartbeat yet (its process is starting: a Prefect and medic import,
16-46 s on a loaded machine): it is alive while the worker that took it sends its own heartbeats (Prefect's process
worker reports a run whose process died as Crashed itself); only a Pending run whose worker went silent is judged
by the rule above.

A busy server (SQLite locked under several workers answers 503 after Prefect's own client retries) must not fail
the whole fleet: submitting a shard and each poll are tried again (``patiently``) for up to ``PATIENCE_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import httpx
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.states import Cancelled, Crashed, State

from medic.flows.store_clock import StoreClock

POLL_S = 2.0
ALIVE = (StateType.PENDING, StateType.RUNNING)  # a worker holds these: its death makes them silent
WAITING = StateType.SCHEDULED  # no worker holds it yet: without a polling worker it waits for ever
HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
WORKER_LABEL = "prefect.worker.name"  # a worker labels each run it takes with its name
PATIENCE_S = 120.0
T = TypeVar("T")


def transient(exc: BaseException) -> bool:
    """A server too busy to answer now (429, 5xx) or a connection that broke: worth asking again."""
    from prefect.exceptions import PrefectHTTPStatusError

    if isinstance(exc, PrefectHTTPStatusError | httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def patiently(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``, asked again with a growing pause while the server is busy (PATIENCE_S)."""
    deadline = time.monotonic() + PATIENCE_S
    pause = 1.0
    while True:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if not transient(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 15.0)


def last_heartbeat(client: Any, flow_run_id: UUID) -> datetime | None:
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    page = client.read_events(filter=EventFilter(
        event=EventNameFilter(name=[HEARTBEAT_EVENT]),
        resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"])), limit=1)
    return max((e.occurred for e in page.events), default=None)


def silent_for(client: Any, flow_run_id: UUID, state: State[Any]) -> float:
    """Seconds since the run last showed life: its last heartbeat or its last state change, the later."""
    signs = [t for t in (last_heartbeat(client, flow_run_id), state.timestamp) if t is not None]
    if not signs:
        return 0.0
    return (datetime.now(UTC) - max(signs)).total_seconds()


def last_sign_of_life(flow_run_id: UUID) -> datetime:
    """When the run last showed life before it ended: its last heartbeat or its last non-final state; now if none."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        states = patiently(client.read_flow_run_states, flow_run_id)
        signs = [s.timestamp for s in states if not s.is_final() and s.timestamp is not None]
        beat = patiently(last_heartbeat, client, flow_run_id)
    return max([*signs, *([beat] if beat else [])], default=datetime.now(UTC))


def nobody_polls(flow_run_id: UUID, window_s: float) -> bool:
    """No worker or runner polled the run's deployment for ``window_s`` seconds: a re-run would wait for ever."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return patiently(_unpolled_for, client, flow_run_id, None) > window_s


def _unpolled_for(client: Any, flow_run_id: UUID, since: datetime | None) -> float:
    """Seconds since the run's deployment was last polled (or since ``since``, if later)."""
    run = client.read_flow_run(flow_run_id)
    polled = client.read_deployment(run.deployment_id).last_polled if run.deployment_id else None
    signs = [t for t in (polled, since) if t is not None]
    if not signs:
        return float("inf")
    return (datetime.now(UTC) - max(signs)).total_seconds()


def follow(flow_run_id: UUID, silent_after_s: float, since: datetime, clock: StoreClock) -> State[Any]:
    """The run's final state; a run silent for ``silent_after_s`` seconds (on the event store's ``clock``) is set
    Crashed, a Scheduled run nobody polled for since ``since`` is set Cancelled, and that state is returned."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        while True:
            final = patiently(_poll, client, flow_run_id, silent_after_s, since, clock)
            if final is not None:
                return final
            time.sleep(POLL_S)


def _poll(client: Any, flow_run_id: UUID, silent_after_s: float, since: datetime,
          clock: StoreClock) -> State[Any] | None:
    """The final state, or the Crashed or Cancelled state set now on a dead run, or None: still going."""
    run = client.read_flow_run(flow_run_id)
    state = run.state
    if state is not None and state.is_final():
        return state
    if state is not None and state.type == WAITING:
        return _cancel_unpolled(client, flow_run_id, silent_after_s, since)
    if state is None or state.type not in ALIVE:
        return None
    if state.timestamp is not None and (datetime.now(UTC) - state.timestamp).total_seconds() <= silent_after_s:
        return None  # its state changed within the window: alive, without asking the server for heartbeat events
    if state.type == StateType.PENDING and _worker_alive(client, run, silent_after_s):
        return None  # still starting (cold starts took 45 s at load 46): its worker lives and reports its death
    silence = silent_for(client, flow_run_id, state)
    if silence <= silent_after_s:
        return None
    clock.probe()  # silent on the wall clock: is the store behind, or the run dead?
    lag = clock.lag(client)
    if silence - lag <= silent_after_s:
        return None
    return crash(client, flow_run_id, f"no heartbeat for {silence - lag:.0f} s (zombie window {silent_after_s:.0f} "
                                      f"s; event store {lag:.0f} s behind): the worker or the run's process died "
                                      f"(set Crashed by the medic fleet parent)")


def crash(client: Any, flow_run_id: UUID, message: str) -> State[Any] | None:
    """Set the run Crashed, unless someone ended it first: Prefect's zombie automation watches the same silence
    and can crash the run between our read and our write (seen in the same second). Its final state is then
    the death's one record and is returned, so the shard is re-run once for one death; None if the server
    refused for another reason (asked again at the next poll)."""
    crashed: State[Any] = Crashed(message=message)
    if client.set_flow_run_state(flow_run_id, crashed).status == SetStateStatus.ACCEPT:
        return crashed
    latest = client.read_flow_run(flow_run_id).state
    return latest if latest is not None and latest.is_final() else None


def _worker_alive(client: Any, run: Any, window_s: float) -> bool:
    """The worker that took the run (its ``prefect.worker.name`` label) sent its own heartbeat within the window:
    a plain API call, not an event, so no event store lags it. A run started by ``medic serve`` has no worker."""
    name = (run.labels or {}).get(WORKER_LABEL)
    if not name or not run.work_pool_name:
        return False
    for worker in client.read_workers_for_work_pool(run.work_pool_name):
        if worker.name == name and worker.last_heartbeat_time is not None:
            return (datetime.now(UTC) - worker.last_heartbeat_time).total_seconds() <= window_s
    return False


def _cancel_unpolled(client: Any, flow_run_id: UUID, window_s: float, since: datetime) -> State[Any] | None:
    quiet = _unpolled_for(client, flow_run_id, since)
    if quiet <= window_s:
        return None
    cancelled: State[Any] = Cancelled(message=f"no worker polled its deployment for {quiet:.0f} s (zombie window "
                                              f"{window_s:.0f} s): no live worker; it never ran (set Cancelled "
                                              f"by the medic fleet parent)")
    result = client.set_flow_run_state(flow_run_id, cancelled)
    return cancelled if result.status == SetStateStatus.ACCEPT else None  # else a worker took it meanwhile
