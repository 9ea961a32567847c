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
and uses it as data: a value that looks like a template stays text. Problems are one line naming the file and line
of the bad key, at deploy time (``parse_triggers``) and in ``medic playbooks validate`` (``trigger_issues``; the CLI
is where playbook validation and this checker meet: core never imports flows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medic.kernel import yamlload
from medic.kernel.errors import Issue, UsageError

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


class TriggerError(UsageError):
    """One bad ``triggers:`` entry, located at the line and column of the key it is about."""

    def __init__(self, playbook: Any, index: int, sub: str, message: str, container: Any, key: Any = None) -> None:
        mark = yamlload.mark_of(container, key)
        entry = f"triggers[{index}]" if index else "triggers"
        self.issue = Issue(message, str(playbook.source), mark[0] if mark else None, mark[1] if mark else None,
                           entry + (f".{sub}" if sub else ""))
        where = f"{playbook.source}:{mark[0]}" if mark else str(playbook.source)
        what = f"trigger {index}: " if index else "triggers: "
        super().__init__(f"playbook {playbook.name} ({where}): {what}{sub + ': ' if sub else ''}{message}")


def parse_triggers(playbook: Any) -> list[TriggerSpec]:
    """The playbook's ``triggers:`` checked against its inputs; TriggerError names the file, line and entry."""
    return [_one(playbook, i, entry) for i, entry in enumerate(_entries(playbook), start=1)]


def trigger_issues(playbook: Any) -> list[Issue]:
    """Every bad entry of the playbook's ``triggers:``, one Issue each (its first problem), for ``validate``."""
    try:
        entries = _entries(playbook)
    except TriggerError as exc:
        return [exc.issue]
    issues = []
    for i, entry in enumerate(entries, start=1):
        try:
            _one(playbook, i, entry)
        except TriggerError as exc:
            issues.append(exc.issue)
    return issues


def _entries(playbook: Any) -> list[Any]:
    raw_doc = playbook.raw or {}
    raw = raw_doc.get("triggers") or []
    if not isinstance(raw, list):
        raise TriggerError(playbook, 0, "", "expected a list", raw_doc, "triggers")
    return raw


def _one(playbook: Any, index: int, entry: Any) -> TriggerSpec:
    def bad(sub: str, message: str, container: Any = entry, key: Any = None) -> TriggerError:
        return TriggerError(playbook, index, sub, message, container, key)

    if not isinstance(entry, dict) or not isinstance(entry.get("event"), str):
        raise bad("", f"expected a mapping with an 'event' ({', '.join(KEYS)})",
                  playbook.raw.get("triggers"), index - 1)
    unknown = [k for k in entry if k not in KEYS]
    if unknown:
        raise bad("", f"unknown key {unknown[0]!r}; expected one of {', '.join(KEYS)}", entry, unknown[0])
    if not EVENT_NAME.match(entry["event"]):
        raise bad("", f"event {entry['event']!r}: expected a name like medic.bundle.received", entry, "event")
    spec = TriggerSpec(playbook.name, index, entry["event"], _match(bad, entry.get("match") or {}),
                       _inputs(bad, playbook, entry.get("inputs") or {}), _targets(bad, entry.get("targets")))
    missing = [n for n, p in playbook.inputs.items() if p.required and n not in spec.inputs]
    if missing:
        raise bad("", f"required input(s) {', '.join(missing)} not mapped from the event (inputs:)", entry,
                  "inputs" if "inputs" in entry else None)
    return spec


Bad = Callable[..., TriggerError]


def _match(bad: Bad, match: Any) -> dict[str, str | list[str]]:
    if not isinstance(match, dict) or not all(isinstance(k, str) and LABEL.match(k) for k in match):
        raise bad("match", "expected a mapping of resource labels to values", key="match")
    out: dict[str, str | list[str]] = {}
    for label, value in match.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[label] = list(value)
        elif isinstance(value, str | int):
            out[label] = str(value)
        else:
            raise bad(f"match.{label}", "expected a string or a list of strings", match, label)
    return out


def _inputs(bad: Bad, playbook: Any, inputs: Any) -> dict[str, str]:
    if not isinstance(inputs, dict):
        raise bad("inputs", "expected a mapping of playbook input to event field", key="inputs")
    for name, path in inputs.items():
        if name not in playbook.inputs:
            known = ", ".join(playbook.inputs) or "it takes none"
            raise bad(f"inputs.{name}", f"not an input of the playbook ({known})", inputs, name)
        try:
            jinja_path(str(path))
        except ValueError as exc:
            raise bad(f"inputs.{name}", str(exc), inputs, name) from None
    return {str(k): str(v) for k, v in inputs.items()}


def _targets(bad: Bad, targets: Any) -> list[str]:
    if targets is None:
        return []
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise bad("targets", "expected a list of target specs", key="targets")
    return list(targets)
