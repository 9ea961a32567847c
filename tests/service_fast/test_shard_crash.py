"""The fleet parent and Prefect's zombie automation both watch a shard's silence and can crash the same dead run
in the same second: the parent keeps the state that got there first, so one death is one record and one re-run
(flows.shard_watch.crash)."""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import Crashed, Pending, Running
from prefectsvc import PrefectService

from medic.flows.shard_watch import crash

AUTOMATION = "Run crashed: no heartbeat (set by the zombie automation)"


@flow(name="medic-shard-crash-test")
def shard() -> None:
    """Only its runs are used: created on the server, never executed."""


@pytest.fixture
def client(prefect_service: PrefectService, monkeypatch: pytest.MonkeyPatch) -> Any:
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings

    for key, value in prefect_service.env.items():
        monkeypatch.setenv(key, value)
    # Prefect read its settings at import: read them again from this environment (this server)
    with SettingsContext(profile=get_settings_context().profile, settings=Settings()), \
            get_client(sync_client=True) as c:
        yield c


def crashed_states(client: Any, run_id: Any) -> list[str]:
    return [s.message or "" for s in client.read_flow_run_states(run_id) if s.type.value == "CRASHED"]


@pytest.mark.parametrize("alive", [Running, Pending])
def test_a_run_the_automation_crashed_first_keeps_its_state(client: Any, alive: Any) -> None:
    run = client.create_flow_run(shard, state=alive())
    client.set_flow_run_state(run.id, Crashed(message=AUTOMATION), force=True)  # the automation, first
    state = crash(client, run.id, "no heartbeat for 40 s (set Crashed by the medic fleet parent)")
    assert state is not None and state.is_crashed() and state.message == AUTOMATION
    assert crashed_states(client, run.id) == [AUTOMATION]  # one death, one record: not crashed a second time


@pytest.mark.parametrize("alive", [Running, Pending])
def test_a_silent_run_nobody_ended_is_crashed_by_the_parent(client: Any, alive: Any) -> None:
    run = client.create_flow_run(shard, state=alive())
    state = crash(client, run.id, "no heartbeat for 40 s (set Crashed by the medic fleet parent)")
    assert state is not None and state.is_crashed()
    assert crashed_states(client, run.id) == ["no heartbeat for 40 s (set Crashed by the medic fleet parent)"]
    assert client.read_flow_run(run.id).state.is_crashed()
