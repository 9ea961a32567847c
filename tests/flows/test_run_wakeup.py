"""flows.run_wakeup's submit loop: a burst of events makes one get-and-submit; a run not found yet is asked for
again (its event can come before its row is committed), then left to the poll."""

from __future__ import annotations

from uuid import UUID, uuid4

import anyio

from medic.flows.run_wakeup import RETRY_DELAYS_S, Wakeup


def run_loop(wakeup: Wakeup, events: list[UUID], seconds: float) -> None:
    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(wakeup.submit_loop)
            await anyio.sleep(0.01)
            for run_id in events:
                wakeup.scheduled(run_id)
            await anyio.sleep(seconds)
            group.cancel_scope.cancel()

    anyio.run(main)


def test_a_burst_of_events_makes_one_get_and_submit() -> None:
    calls: list[float] = []
    runs = [uuid4() for _ in range(5)]

    async def get_and_submit() -> set[UUID]:
        calls.append(anyio.current_time())
        return set(runs)

    wakeup = Wakeup(get_and_submit, ["prefect.work-pool.x"])
    run_loop(wakeup, runs, 0.3)
    assert len(calls) == 1 and not wakeup.waiting


def test_a_run_not_found_yet_is_asked_for_again_then_left_to_the_poll() -> None:
    found_on_third, never = uuid4(), uuid4()
    calls: list[int] = []

    async def get_and_submit() -> set[UUID]:
        calls.append(1)
        return {found_on_third} if len(calls) >= 3 else set()

    wakeup = Wakeup(get_and_submit, ["prefect.deployment.x"])
    run_loop(wakeup, [found_on_third, never], sum(RETRY_DELAYS_S) + 0.5)
    assert len(calls) == len(RETRY_DELAYS_S)  # the first try, then one per delay until the last
    assert not wakeup.waiting


def test_a_failing_get_and_submit_is_retried_not_raised() -> None:
    calls: list[int] = []

    async def get_and_submit() -> set[UUID]:
        calls.append(1)
        raise OSError("server restarting")

    wakeup = Wakeup(get_and_submit, [])
    run_loop(wakeup, [uuid4()], sum(RETRY_DELAYS_S) + 0.5)
    assert len(calls) == len(RETRY_DELAYS_S) and not wakeup.waiting
