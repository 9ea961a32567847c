"""Declared, typed parameters (of checks, probes, step kinds and playbook inputs) and their validation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medic.kernel.errors import EXIT_USAGE, MedicError

REQUIRED: Any = object()  # sentinel: a parameter with no default must be given

TYPES = ("string", "int", "float", "bool", "list", "mapping", "version", "any")
_PY_NAMES = {"string": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
             "list": "a list", "mapping": "a mapping", "any": "any value",
             "version": "a version such as 1.2.3, 2.0rc1 or 1:2.30-1ubuntu2 (starting with a digit)"}
# what a `version` reads: Debian's syntax ([epoch:]upstream[-revision]) or PEP 440's (v1.0, 1!2.0, 1.0_rc1); the
# checks that compare versions (medic.plugins.checks.versions) order them
_VERSION = re.compile(r"v?(?:[0-9]+[:!])?[0-9][A-Za-z0-9.+~:_-]*(?<!-)")


class ParamError(MedicError, ValueError):
    """A parameter value is missing, unknown or of the wrong type (message is user-facing).

    Still a ValueError: callers catch both alike (a value that does not fit)."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Param:
    """One declared parameter of a check, probe or playbook input: name, type, default, allowed values."""
    name: str
    type: str = "string"
    default: Any = REQUIRED
    description: str = ""
    choices: tuple[Any, ...] = ()
    items: str = "any"  # element type of a list

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"parameter {self.name!r}: unknown type {self.type!r}; expected one of {TYPES}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def expected(self) -> str:
        text = _PY_NAMES[self.type]
        if self.type == "list" and self.items != "any":
            text += f" of {_PY_NAMES[self.items].removeprefix('a ').removeprefix('an ')}s"
        if self.choices:
            text += " (one of " + ", ".join(map(str, self.choices)) + ")"
        return text

    def coerce(self, value: Any) -> Any:
        """Return ``value`` as this parameter's type, or raise ParamError saying what was expected."""
        out = coerce_value(self.type, value, self.name)
        if self.type == "list" and self.items != "any":
            out = [coerce_value(self.items, v, f"{self.name}[{i}]") for i, v in enumerate(out)]
        if self.choices and out not in self.choices:
            raise ParamError(f"{self.name}: got {value!r}, expected {self.expected()}")
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "description": self.description,
                               "required": self.required}
        if not self.required:
            out["default"] = self.default
        if self.choices:
            out["choices"] = list(self.choices)
        return out


def coerce_value(kind: str, value: Any, name: str) -> Any:
    """``value`` as a ``kind`` value, or raise ParamError naming ``name`` and what was expected."""
    if kind == "any":
        return value
    convert = _CONVERTERS.get(kind)
    out = convert(value) if convert is not None else _BAD
    if out is _BAD:
        raise ParamError(f"{name}: got {type(value).__name__} {value!r}, expected {_PY_NAMES[kind]}")
    return out


_BAD: Any = object()  # sentinel: the value does not convert


def _to_string(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # YAML reads `version: 1.10` as a number; the author meant text
    return _BAD


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.lower() in ("true", "yes", "on", "1")
    return _BAD


def _to_number(number: type[int] | type[float], value: Any) -> Any:
    if isinstance(value, bool):
        return _BAD
    if number is int and isinstance(value, int):
        return value
    if number is int and isinstance(value, float):
        return int(value) if value.is_integer() else _BAD
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, str):
        try:
            return number(value.strip())
        except ValueError:
            return _BAD
    return _BAD


def _to_int(value: Any) -> Any:
    return _to_number(int, value)


def _to_float(value: Any) -> Any:
    return _to_number(float, value)


def _to_version(value: Any) -> Any:
    text = _to_string(value)
    return text.strip() if text is not _BAD and _VERSION.fullmatch(text.strip()) else _BAD


def _to_list(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):  # `--input ports=22,80` on the command line
        return [v.strip() for v in value.split(",") if v.strip()]
    return _BAD


def _to_mapping(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):  # `--input 'limits={"cpu": 2}'` on the command line
        try:
            loaded = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json's decoder goes
            return _BAD
        if isinstance(loaded, dict):
            return loaded
    return _BAD


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _to_string, "bool": _to_bool, "int": _to_int, "float": _to_float,
    "list": _to_list, "mapping": _to_mapping, "version": _to_version,
}


def bind(params: Sequence[Param], given: Mapping[str, Any], *, owner: str) -> dict[str, Any]:
    """Check ``given`` against declared ``params``; return every value with defaults filled in.

    Raises ParamError listing every problem at once (unknown names, missing required ones, wrong types).
    """
    declared = {p.name: p for p in params}
    problems: list[str] = []
    for name in given:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(f"unknown parameter {name!r} (known: {known})")
    out: dict[str, Any] = {}
    for p in params:
        if p.name in given:
            try:
                out[p.name] = p.coerce(given[p.name])
            except ParamError as exc:
                problems.append(str(exc))
        elif p.required:
            problems.append(f"missing required parameter {p.name!r} ({p.expected()})")
        else:
            out[p.name] = p.default
    if problems:
        raise ParamError(f"{owner}: " + "; ".join(problems))
    return out
