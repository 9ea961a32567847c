"""A playbook's ``triggers:``: events that start its deployment, compiled by ``medic deploy``.

    triggers:
      - event: medic.bundle.received            # the event's name (a trailing * matches a prefix)
        match: {medic.agent.name: "web-*"}      # optional: labels of the event's resource (globs, or lists)
        inputs: {bundle: payload.bundle_path,   # optional: playbook input <- a field of the event
                 size: payload.bundle_size, agent: resource.medic.agent.name}
        targets: [local]                        # optional: the run's targets (default: the playbook's)

Each becomes a Prefect deployment trigger (an automation owned by the deployment: a new ``medic deploy``
replaces them, never duplicates). The input mapping names fields, never template text: medic writes the
template itself from a checked field path (``payload.KEY[.KEY...]``, ``resource.LABEL``, ``id``, ``occurred``),
rendered as JSON (``tojson``) and decoded by the server, so an event's value arrives as the typed value the
event carried. The run checks it against the playbook's inputs like a form's (``bind_inputs``: types, choices)
and uses it as data: a value that looks like a template stays text. Problems are one line at deploy time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from medic.kernel.errors import UsageError

KEYS = ("event", "match", "inputs", "targets")
EVENT_NAME = re.compile(r"^[A-Za-z0-9_.-]+\*?$")
LABEL = re.compile(r"^[A-Za-z0-9_.-]+$")
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
WHOLE_FIELDS = {"id": "event.id", "occurred": "event.occurred", "event": "event.event"}


@dataclass
class TriggerSpec:
    playbook: str
    index: int
    event: str
    match: dict[str, str | list[str]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)  # input name -> event field path
    targets: list[str] = field(default_factory=list)

    def describe(self) -> str:
        mapped = ", ".join(f"{k} <- {v}" for k, v in self.inputs.items()) or "no inputs from the event"
        where = f" where {self.match}" if self.match else ""
        return f"trigger on {self.event}{where}: {mapped}"

    def parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {name: typed_value(path) for name, path in self.inputs.items()}
        if self.targets:
            params["targets"] = list(self.targets)
        return params

    def to_prefect(self) -> Any:
        from prefect.events.schemas.automations import Posture
        from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

        return DeploymentEventTrigger(
            name=f"medic: {self.playbook} on {self.event} ({self.index})", expect={self.event},
            match=dict(self.match), posture=Posture.Reactive, threshold=1, parameters=self.parameters(),
            description=f"medic playbook {self.playbook}: {self.describe()}")


def typed_value(path: str) -> dict[str, Any]:
    """The server-side value of an event field: a JSON rendering decoded as JSON, so its type survives."""
    return {"__prefect_kind": "json",
            "value": {"__prefect_kind": "jinja", "template": "{{ " + jinja_path(path) + " | tojson }}"}}


def jinja_path(path: str) -> str:
    """``payload.a.b`` -> ``event.payload["a"]["b"]``; ``resource.x.y`` -> ``event.resource["x.y"]``."""
    if path in WHOLE_FIELDS:
        return WHOLE_FIELDS[path]
    root, _, rest = path.partition(".")
    if root == "payload" and rest and all(KEY.match(k) for k in rest.split(".")):
        return "event.payload" + "".join(f'["{k}"]' for k in rest.split("."))
    if root == "resource" and LABEL.match(rest):
        return f'event.resource["{rest}"]'
    raise ValueError(f"expected payload.KEY[.KEY...], resource.LABEL, {', '.join(WHOLE_FIELDS)}; got {path!r}")


def parse_triggers(playbook: Any) -> list[TriggerSpec]:
    """The playbook's ``triggers:`` checked against its inputs; UsageError names the playbook and the entry."""
    raw = (playbook.raw or {}).get("triggers") or []
    if not isinstance(raw, list):
        raise UsageError(f"playbook {playbook.name} ({playbook.source}): triggers: expected a list")
    return [_one(playbook, i, entry) for i, entry in enumerate(raw, start=1)]


def _one(playbook: Any, index: int, entry: Any) -> TriggerSpec:
    where = f"playbook {playbook.name} ({playbook.source}): trigger {index}"
    if not isinstance(entry, dict) or not isinstance(entry.get("event"), str):
        raise UsageError(f"{where}: expected a mapping with an 'event' ({', '.join(KEYS)})")
    unknown = [k for k in entry if k not in KEYS]
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(KEYS)}")
    if not EVENT_NAME.match(entry["event"]):
        raise UsageError(f"{where}: event {entry['event']!r}: expected a name like medic.bundle.received")
    spec = TriggerSpec(playbook.name, index, entry["event"], _match(where, entry.get("match") or {}),
                       _inputs(where, playbook, entry.get("inputs") or {}), _targets(where, entry.get("targets")))
    missing = [n for n, p in playbook.inputs.items() if p.required and n not in spec.inputs]
    if missing:
        raise UsageError(f"{where}: required input(s) {', '.join(missing)} not mapped from the event (inputs:)")
    return spec


def _match(where: str, match: Any) -> dict[str, str | list[str]]:
    if not isinstance(match, dict) or not all(isinstance(k, str) and LABEL.match(k) for k in match):
        raise UsageError(f"{where}: match: expected a mapping of resource labels to values")
    out: dict[str, str | list[str]] = {}
    for label, value in match.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[label] = list(value)
        elif isinstance(value, str | int):
            out[label] = str(value)
        else:
            raise UsageError(f"{where}: match.{label}: expected a string or a list of strings")
    return out


def _inputs(where: str, playbook: Any, inputs: Any) -> dict[str, str]:
    if not isinstance(inputs, dict):
        raise UsageError(f"{where}: inputs: expected a mapping of playbook input to event field")
    for name, path in inputs.items():
        if name not in playbook.inputs:
            raise UsageError(f"{where}: inputs.{name}: not an input of the playbook "
                             f"({', '.join(playbook.inputs) or 'it takes none'})")
        try:
            jinja_path(str(path))
        except ValueError as exc:
            raise UsageError(f"{where}: inputs.{name}: {exc}") from None
    return {str(k): str(v) for k, v in inputs.items()}


def _targets(where: str, targets: Any) -> list[str]:
    if targets is None:
        return []
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise UsageError(f"{where}: targets: expected a list of target specs")
    return list(targets)
