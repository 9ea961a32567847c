"""The ``schedules:`` configuration key, checked and turned into Prefect deployment schedules.

    schedules:
      nightly-health: {playbook: triage, cron: "0 2 * * *", timezone: Europe/Paris,
                       targets: [web1, web2], inventory: ~/hosts.yaml, inputs: {host: example.org}}

Each entry becomes a cron schedule of the playbook's deployment, its slug the entry's name (so ``medic deploy``
run again updates it instead of adding another), its parameters the entry's inputs, targets and inventory.
core/config.py checks the shape (a mapping with a ``playbook``); this module checks the rest: known keys, the
cron expression, the timezone, and the inputs against the playbook's own. Every problem is an exit-2 error
naming the entry, at its line in the configuration file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medic.core.config import config_path
from medic.core.playbook import Playbook
from medic.kernel import yamlload
from medic.kernel.errors import Issue, UsageError, ValidationError

SCHEDULE_KEYS = ("playbook", "cron", "timezone", "targets", "inventory", "inputs", "active")


@dataclass
class ScheduleSpec:
    key: str
    playbook: str
    cron: str
    timezone: str = "UTC"
    parameters: dict[str, Any] = field(default_factory=dict)
    active: bool = True

    def describe(self) -> str:
        shown = {k: v for k, v in self.parameters.items() if k != "inputs"}
        return f"schedule {self.key}: cron {self.cron!r} ({self.timezone})" + (f" {shown}" if shown else "")

    def to_prefect(self) -> Any:
        from prefect.client.schemas.actions import DeploymentScheduleCreate
        from prefect.client.schemas.schedules import CronSchedule

        return DeploymentScheduleCreate(schedule=CronSchedule(cron=self.cron, timezone=self.timezone),
                                        parameters=self.parameters, slug=self.key, active=self.active)


def _error(container: Any, key: Any, message: str) -> UsageError:
    """One line: the configuration file, the entry's line, what is wrong (exit 2)."""
    line, column = yamlload.mark_of(container, key) or (None, None)
    return UsageError(str(Issue(message, str(config_path()), line, column)))


def _cron_problem(cron: str, timezone: str) -> str | None:
    """Prefect's own check of the expression and the timezone (so a schedule it accepts is one we accept)."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError as PydanticError

    try:
        CronSchedule(cron=cron, timezone=timezone)
    except PydanticError as exc:
        return "; ".join(str(e.get("msg", e)).removeprefix("Value error, ") for e in exc.errors())
    return None


def parse_schedules(config: dict[str, Any], playbooks: dict[str, Playbook]) -> list[ScheduleSpec]:
    """The schedules of the playbooks in ``playbooks`` (others are left for their own ``medic deploy``)."""
    raw = config.get("schedules") or {}
    out = []
    for key, spec in raw.items():
        name = spec.get("playbook")
        if name not in playbooks:
            continue
        out.append(_schedule(raw, str(key), spec, playbooks[name]))
    return out


def unknown_playbooks(config: dict[str, Any], known: set[str]) -> list[str]:
    """Schedule entries naming a playbook medic cannot find: ``key (playbook)``."""
    raw = config.get("schedules") or {}
    return [f"{key} ({spec.get('playbook')})" for key, spec in raw.items() if spec.get("playbook") not in known]


def _schedule(raw: dict[str, Any], key: str, spec: dict[str, Any], playbook: Playbook) -> ScheduleSpec:
    where = f"schedules.{key}"
    for sub in spec:
        if sub not in SCHEDULE_KEYS:
            raise _error(spec, sub, f"{where}: unknown key {sub!r}; expected one of {', '.join(SCHEDULE_KEYS)}")
    cron, timezone = spec.get("cron"), spec.get("timezone", "UTC")
    if not isinstance(cron, str) or not isinstance(timezone, str):
        raise _error(raw, key, f"{where}: expected cron (a string such as \"0 2 * * *\") and an optional timezone")
    problem = _cron_problem(cron, timezone)
    if problem:
        raise _error(spec, "cron", f"{where}: bad cron {cron!r} or timezone {timezone!r}: {problem}")
    targets, inventory, inputs = spec.get("targets", []), spec.get("inventory"), spec.get("inputs") or {}
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise _error(spec, "targets", f"{where}.targets: expected a list of strings")
    if inventory is not None and not isinstance(inventory, str):
        raise _error(spec, "inventory", f"{where}.inventory: expected a string (a path on the worker)")
    if not isinstance(inputs, dict):
        raise _error(spec, "inputs", f"{where}.inputs: expected a mapping of input name to value")
    try:
        playbook.bind_inputs(inputs)
    except ValidationError as exc:
        raise _error(spec, "inputs", f"{where}.inputs: {'; '.join(i.message for i in exc.issues)}") from None
    active = spec.get("active", True)
    if not isinstance(active, bool):
        raise _error(spec, "active", f"{where}.active: expected true or false")
    parameters: dict[str, Any] = {**inputs, **({"targets": targets} if targets else {}),
                                  **({"inventory": inventory} if inventory else {})}
    return ScheduleSpec(key, playbook.name, cron, timezone, parameters, active)
