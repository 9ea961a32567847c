"""The type a configuration value is written with: the existing value's, or the step's explicit ``type:``.

``-i value=8`` reaches ``set_key`` as the text ``"8"``; written over ``workers: 8`` it stays the integer 8, over
``debug: true`` a ``"false"`` stays a boolean, and over ``name: app`` anything stays text. A value that does not
fit the existing type is refused (give ``type: string`` to change it). Text formats (INI, ``key=value``) are read
as scalars for this: ``yes``/``no``/``on``/``off``/``true``/``false`` are booleans and a new boolean is written
in the file's own words (``yes`` stays ``yes``/``no``).

Standard library only: this module runs on remote hosts too.
"""

from __future__ import annotations

import re
from typing import Any

from medic.kernel.errors import MedicError

TYPES = ("auto", "string", "int", "float", "bool")
_TRUE, _FALSE = ("true", "yes", "on"), ("false", "no", "off")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+)")
_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "text"}


class EditError(MedicError):
    """A file edit cannot be applied: a value that does not fit the key's type, a file that does not parse."""


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "string" if isinstance(value, str) else "auto"


def typed(new: Any, existing: Any, type_: str, where: str) -> Any:
    """``new`` as the explicit ``type_`` or, for ``auto``, as ``existing``'s type (a missing key: as given)."""
    if type_ not in TYPES:
        raise EditError(f"{where}: unknown type {type_!r}; expected one of {', '.join(TYPES)}")
    if isinstance(new, (dict, list)) and type_ == "auto":
        return new  # a structure from the playbook: written as it is
    kind = type_ if type_ != "auto" else kind_of(existing)
    if kind == "auto":
        return new
    out = _convert(new, kind)
    if out is None:
        holds = f"holds {_NAMES[type(existing)]} ({existing!r})" if type_ == "auto" else f"has type: {type_}"
        raise EditError(
            f"{where} {holds}; {new!r} is not {_NAMES[{'bool': bool, 'int': int, 'float': float}[kind]]}"
            + (" (give `type: string` to write it as text)" if type_ == "auto" else "")
        )
    return out


def _convert(value: Any, kind: str) -> Any:
    """``value`` as ``kind``, or None when it does not convert."""
    if kind == "string":
        return format_text(value)
    if isinstance(value, bool):
        return value if kind == "bool" else None
    if kind == "bool":
        word = str(value).strip().lower()
        return True if word in _TRUE else False if word in _FALSE else None
    text = str(value).strip()
    if kind == "int":
        return int(text) if _INT.fullmatch(text) else None
    if isinstance(value, (int, float)) or _FLOAT.fullmatch(text) or _INT.fullmatch(text):
        return float(text)
    return None


def format_text(value: Any) -> str:
    """A value as it is written in a text file (INI, key=value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def read_text(text: str) -> Any:
    """A text file's value as a scalar: boolean words, integers, numbers, else the text."""
    word = text.strip()
    if word.lower() in _TRUE + _FALSE:
        return word.lower() in _TRUE
    if _INT.fullmatch(word):
        return int(word)
    if _FLOAT.fullmatch(word):
        return float(word)
    return word


def write_text(value: Any, existing: str | None) -> str:
    """``value`` written as text; a boolean in the existing value's words and case (``yes``/``no``, ``On``...)."""
    if not isinstance(value, bool) or existing is None or existing.strip().lower() not in _TRUE + _FALSE:
        return format_text(value)
    word = existing.strip()
    pair = next(p for p in zip(_TRUE, _FALSE, strict=True) if word.lower() in p)
    out = pair[0] if value else pair[1]
    return out.upper() if word.isupper() else out.capitalize() if word[:1].isupper() else out


def lookup(data: Any, key: str) -> tuple[bool, Any]:
    """(found, value) at a dotted key of parsed JSON or YAML."""
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node
