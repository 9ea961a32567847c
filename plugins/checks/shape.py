"""Probe data read with its expected shape, so malformed data is an ``error`` naming the field, not a crash.

A check reads ``mapping(data, "mem")`` or ``rows(data, "procs")`` instead of ``data["mem"]``: the value comes back
as plain dicts and lists whose missing keys raise :class:`ProbeError` ("probe data 'mem' is malformed: no field
'total_bytes'"), which the engine reports as an ``error`` finding. A TypeError or KeyError from a check is then a
bug in the check, not bad data.
"""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData
from medic.kernel.errors import ProbeError


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


class Record(dict[str, Any]):
    """A dict whose missing key is a ProbeError naming the probe alias and the field."""

    def __init__(self, items: Any = (), alias: str = "probe") -> None:  # dict's signature: copies still work
        super().__init__(items)
        self.alias = alias
        for key, value in self.items():
            self[key] = _strict(alias, value)

    def __missing__(self, key: str) -> Any:
        raise ProbeError(f"probe data {self.alias!r} is malformed: no field {key!r}")


def _strict(alias: str, value: Any) -> Any:
    if isinstance(value, dict):
        return Record(value, alias)
    if isinstance(value, list):
        return [_strict(alias, v) for v in value]
    return value


def mapping(data: ProbeData, alias: str) -> Record:
    """The probe's data, which must be a mapping of fields."""
    value = data[alias]
    if not isinstance(value, dict):
        raise ProbeError(f"probe data {alias!r} is malformed: expected a mapping of fields, got {_kind(value)}")
    return Record(value, alias)


def rows(data: ProbeData, alias: str, *, allow_empty: bool = False) -> list[Record]:
    """The probe's data, which must be a list of mappings (one per mount, process, unit...).

    An empty list is malformed unless ``allow_empty``: no machine has zero processes, mounts or units, and a check
    must not pass on data that saw nothing.
    """
    value = data[alias]
    if not isinstance(value, list):
        raise ProbeError(f"probe data {alias!r} is malformed: expected a list of rows, got {_kind(value)}")
    if not value and not allow_empty:
        raise ProbeError(f"probe data {alias!r} is malformed: expected at least one row, got none")
    bad = [i for i, row in enumerate(value) if not isinstance(row, dict)]
    if bad:
        raise ProbeError(f"probe data {alias!r} is malformed: row {bad[0]} is {_kind(value[bad[0]])}, not a mapping")
    return [Record(row, alias) for row in value]
