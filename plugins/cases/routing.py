"""Routing: ``routing.yaml`` (schema ``routing.schema.json``) gives a case its category and priority from its
findings, and each priority its SLA budgets. Validated with the ``jsonschema`` package (installed with Prefect),
then for what a schema cannot say (a priority the scheme does not have, an unknown time zone).

The file is ``$MEDIC_ROUTING``, else ``routing.yaml`` next to medic's configuration file
(``~/.config/medic/routing.yaml``) when it exists, else the built-in defaults below (the four-level scheme; high and
low budgets unset, so ``validate`` warns). It is not a key of config.yaml: core/'s line budget is spent.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from medic.core.config import config_path
from medic.kernel import yamlload
from medic.kernel.errors import Issue, UsageError, ValidationError
from medic.plugins.cases.calendar import BusinessCalendar

SCHEMES = {"four-level": ("urgent", "high", "regular", "low"), "three-level": ("high", "medium", "low")}
BUDGETS = ("response", "resolution", "dispatch", "update")
# the four-level scheme's fixed durations: urgent on every budget, regular's update cadence
FOUR_LEVEL_DEFAULTS: dict[str, dict[str, str]] = {
    "urgent": {"response": "1h", "resolution": "4h", "dispatch": "30m", "update": "30m", "calendar": "always"},
    "regular": {"update": "2h"},
}
DEFAULT_SEVERITY = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
DEFAULT_LEVELS = {"four-level": [(6, "urgent"), (4, "high"), (2, "regular"), (0, "low")],
                  "three-level": [(5, "high"), (3, "medium"), (0, "low")]}
_UNITS = {"s": 1, "m": 60, "h": 3600}


def seconds(duration: str) -> float:
    return float(int(duration[:-1]) * _UNITS[duration[-1]])


@dataclass(frozen=True)
class Level:
    name: str
    budgets: dict[str, float]  # response, resolution, dispatch, update -> seconds (absent: no clock)
    business: bool  # counts on the business calendar (False: calendar always)


@dataclass(frozen=True)
class Routing:
    scheme: str
    levels: dict[str, Level]
    calendar: BusinessCalendar
    tiers: int
    categories: list[dict[str, Any]]
    severity: dict[str, int]
    hosts: list[tuple[int, int]]
    users: list[tuple[int, int]]
    services: dict[str, int]
    thresholds: list[tuple[int, str]]
    notify: list[str]
    escalate: list[str]
    source: str = "built-in defaults"
    warnings: list[str] = field(default_factory=list)


def schema() -> dict[str, Any]:
    text = resources.files("medic.plugins.cases").joinpath("routing.schema.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def default_file() -> Path:
    return config_path().parent / "routing.yaml"


def load(path: str | Path | None = None) -> Routing:
    """The routing in force: ``path``, else $MEDIC_ROUTING, else the default file when it exists, else built-ins."""
    chosen = path or os.environ.get("MEDIC_ROUTING") or None
    if chosen is None and default_file().exists():
        chosen = default_file()
    if chosen is None:
        return build({}, "built-in defaults")
    file = Path(str(chosen)).expanduser()
    if not file.exists():
        raise UsageError(f"routing file {file} not found ($MEDIC_ROUTING, or `medic routing validate FILE`)")
    data = yamlload.load_file(file) or {}
    return build(data, str(file))


def _schema_issues(data: Any, source: str) -> list[Issue]:
    return yamlload.schema_issues(jsonschema.Draft202012Validator(schema()).iter_errors(data), data, source)


def build(data: Any, source: str) -> Routing:
    """Check ``data`` (a parsed routing.yaml) and make the routing; ValidationError lists every problem."""
    if not isinstance(data, dict):
        raise ValidationError([Issue("expected a mapping of routing settings", source, 1, 1)], subject=source)
    issues = _schema_issues(data, source)
    if issues:
        raise ValidationError(issues, subject=source)
    scheme = data.get("scheme", "four-level")
    names = SCHEMES[scheme]
    prio = data.get("priority") or {}
    thresholds = [(int(x["at_least"]), str(x["priority"])) for x in prio.get("levels", [])] \
        or DEFAULT_LEVELS[scheme]
    wrong = [name for name in [*data.get("levels", {}), *(p for _, p in thresholds)] if name not in names]
    if wrong:
        raise ValidationError([Issue(f"priority {wrong[0]!r} is not in the {scheme} scheme "
                                     f"({', '.join(names)})", source)], subject=source)
    cal = data.get("calendar") or {}
    hours = cal.get("hours") or ["09:00", "17:00"]
    calendar = BusinessCalendar(cal.get("timezone", "UTC"), tuple(cal.get("days", ("mon", "tue", "wed", "thu",
                                                                                    "fri"))),
                                hours[0], hours[1], frozenset(cal.get("holidays", ())))
    levels, warnings = _levels(scheme, data.get("levels") or {})
    return Routing(scheme, levels, calendar, int(data.get("tiers", 3)), list(data.get("categories", [])),
                   {**DEFAULT_SEVERITY, **prio.get("severity", {})},
                   sorted(((s["at_least"], s["add"]) for s in prio.get("hosts", [])), reverse=True),
                   sorted(((s["at_least"], s["add"]) for s in prio.get("users", [])), reverse=True),
                   dict(prio.get("services", {})), sorted(thresholds, reverse=True),
                   list(data.get("notify", [])), list(data.get("escalate") or data.get("notify") or []), source,
                   warnings)


def _levels(scheme: str, given: dict[str, dict[str, str]]) -> tuple[dict[str, Level], list[str]]:
    levels, warnings = {}, []
    for name in SCHEMES[scheme]:
        spec = {**(FOUR_LEVEL_DEFAULTS.get(name, {}) if scheme == "four-level" else {}), **given.get(name, {})}
        budgets = {b: seconds(spec[b]) for b in BUDGETS if b in spec}
        levels[name] = Level(name, budgets, spec.get("calendar", "business") == "business")
        unset = [b for b in ("response", "resolution") if b not in budgets]
        if unset:
            warnings.append(f"levels.{name}: {' and '.join(unset)} unset: the site sets them (no "
                            f"{'/'.join(unset)} clock for {name} cases until then)")
    return levels, warnings
