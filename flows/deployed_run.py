"""The body of a deployed ``medic-playbook`` run, in the run's own process (a worker's or ``medic serve``'s).

It loads medic's configuration and plugins, the playbook by name, checks the form's values against the
playbook's inputs (the same coercion as ``medic run --input``), opens the targets, runs the playbook with a
task per step, keeps the run in the local history (``medic runs``), adds the targets to the run's tags, and
publishes the findings and the report before ending in a state that says what was found. Like ``medic run``,
it tells the channels of the worker's configuration and of the playbook's ``notify:`` (checked before the run:
a wrong channel fails the run naming it), except in a fleet's shards: the fleet parent reports for them.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

from prefect import get_run_logger
from prefect.context import get_run_context
from prefect.states import State

from medic.core import history
from medic.core.config import state_dir
from medic.core.engine import Engine, RunResult, new_run_id
from medic.core.session import Session
from medic.core.target import Target
from medic.flows.approval import approve_in_prefect_ui
from medic.flows.outcome import final_state, publish, run_tags
from medic.flows.runner import PrefectExecutor, fork_probes_from_zygote
from medic.plugins.channels import runnotify


def split_parameters(parameters: dict[str, Any]) -> tuple[dict[str, Any], list[str], str | None]:
    """(inputs, target specs, inventory) from a deployment run's parameters; empty optional inputs dropped."""
    given = dict(parameters)
    targets = given.pop("targets", None) or []
    inventory = given.pop("inventory", None) or None
    if isinstance(targets, str):  # a form or API caller may send one spec as a string
        targets = [targets]
    inputs = {k: v for k, v in given.items() if v is not None}
    return inputs, [str(t) for t in targets], inventory


def run_playbook(name: str, parameters: dict[str, Any]) -> State[Any]:
    session = Session()
    shard = _is_shard()
    runnotify.checked_config_channels(session)
    playbook = session.load_playbook(name)
    channels = [] if shard else runnotify.run_channels(session, playbook)
    given, specs, inventory = split_parameters(parameters)
    inputs = playbook.bind_inputs(given)
    specs = specs or (["all"] if inventory else playbook.targets)
    targets = session.open_targets(specs, {"inventory": inventory, "limit": None})
    events = runnotify.start_events(session, channels, playbook.name) if channels else None
    tagging = _tag_run_in_background(playbook.name, targets)
    try:
        engine = Engine(session.registry, session.hooks, PrefectExecutor(approver=approve_in_prefect_ui))
        fork_probes_from_zygote(targets)
        options = {"check_mode": False, "state_dir": str(state_dir(session.config))}
        run: RunResult = engine.run(playbook, targets, inputs, options, run_id=new_run_id())
    finally:
        for t in targets:
            t.close()
        if tagging is not None:
            tagging.join()
    history.save(run, state_dir(session.config))
    if tagging is not None and tagging.error is not None:
        get_run_logger().warning("medic: the run's target tags were not added: %s", tagging.error)
    publish(run)
    if channels:
        for problem in runnotify.finish(session, events, run, channels):
            get_run_logger().warning("medic: %s", problem)  # the run's result stands; the outbox keeps the rest
    return final_state(run)


def _is_shard() -> bool:
    """A fleet's shard run (flows.fleet tags it ``shard:N``): its parent notifies for the whole fleet."""
    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    return flow_run is not None and any(tag.startswith("shard:") for tag in flow_run.tags)


class _Tagging(threading.Thread):
    """The deployment gave the run its medic and playbook tags; this adds the targets it opened, beside the
    steps: one client and one round trip to the server the first step need not wait for. Tags only help find
    the run in the UI: a failure is logged after the run, never allowed to cost its findings."""

    def __init__(self, run_id: Any, tags: list[str]) -> None:
        super().__init__(daemon=True, name="medic-run-tags")
        self.run_id, self.tags = run_id, tags
        self.error: Exception | None = None
        self.context = contextvars.copy_context()  # the run's Prefect settings (API URL, auth) are context vars

    def run(self) -> None:
        try:
            self.context.run(self.update)
        except Exception as exc:  # reported by the flow's thread once the run is saved
            self.error = exc

    def update(self) -> None:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run(self.run_id, tags=self.tags)


def _tag_run_in_background(playbook: str, targets: list[Target]) -> _Tagging | None:
    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    if flow_run is None:
        return None
    tagging = _Tagging(flow_run.id, sorted({*flow_run.tags, *run_tags(playbook, [t.name for t in targets])}))
    tagging.start()
    return tagging
