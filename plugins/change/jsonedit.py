"""Set a dotted key in JSON text by editing only the value's characters: key order, indentation, spacing and
every other value stay as they are. A missing key is added after the last member of its object, indented like
it; missing parent objects are created.

Standard library only: this module runs on remote hosts too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from medic.plugins.change import configvalue
from medic.plugins.change.configvalue import EditError

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")



def _ws(text: str, i: int) -> int:
    match = _WS.match(text, i)
    return match.end() if match else i


def _members(text: str, start: int) -> Iterator[tuple[str, int, int, int, int]]:
    """(key, key start, key end, value start, value end) of each member of the object at ``start`` ('{')."""
    i = _ws(text, start + 1)
    while text[i] != "}":
        key, after = scanstring(text, i + 1)
        value_start = _ws(text, _ws(text, after) + 1)  # past the colon
        _, value_end = _DECODER.raw_decode(text, value_start)
        yield key, i, after, value_start, value_end
        i = _ws(text, value_end)
        if text[i] == ",":
            i = _ws(text, i + 1)


def load(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EditError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise EditError(f"{path}: JSON nested too deeply to edit") from None


def set_key(text: str, key: str, value: Any, type_: str = "auto", path: str = "") -> str:
    if not text.strip():
        return json.dumps(_nested(key.split("."), configvalue.typed(value, None, type_, key)), indent=2) + "\n"
    where = f"{path}: {key}" if path else key
    data = load(text, path)
    if not isinstance(data, dict):
        raise EditError(f"{path}: expected an object at the top level to set {key!r}")
    parts, obj_start, node = key.split("."), _ws(text, 0), data
    for depth, part in enumerate(parts):
        found = None
        for member in _members(text, obj_start):
            if member[0] == part:
                found = member  # the last duplicate wins, as in json.loads
        if found is None:
            new = configvalue.typed(value, None, type_, where)
            return _insert(text, obj_start, _nested(parts[depth + 1 :], new), part)
        node = node[part]
        if depth == len(parts) - 1:
            new = configvalue.typed(value, node, type_, where)
            inline = "\n" not in text[obj_start : found[1]]
            unit = None if inline else _unit(text)
            return text[: found[3]] + _dumps(new, _indent_at(text, found[1]), unit) + text[found[4] :]
        if not isinstance(node, dict):
            raise EditError(f"{path}: {part!r} in {key!r} is not an object")
        obj_start = found[3]
    raise AssertionError("unreachable: the loop returns")


def _nested(parts: list[str], value: Any) -> Any:
    for part in reversed(parts):
        value = {part: value}
    return value


def _indent_at(text: str, i: int) -> str:
    """The indentation of the line holding index ``i``."""
    line_start = text.rfind("\n", 0, i) + 1
    return text[line_start : _ws_inline(text, line_start)]


def _ws_inline(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _unit(text: str) -> str:
    """The file's indentation step: the first indented line's indentation (two spaces when none is)."""
    match = re.search(r"^([ \t]+)\S", text, re.M)
    return match.group(1) if match else "  "


def _dumps(value: Any, indent: str, unit: str | None = "  ") -> str:
    """``value`` as JSON; a structure laid out over lines continuing at ``indent`` (on one line: unit None)."""
    if not isinstance(value, (dict, list)) or not value or unit is None:
        return json.dumps(value, ensure_ascii=False)
    lines = json.dumps(value, ensure_ascii=False, indent=unit).splitlines()
    return "\n".join([lines[0]] + [indent + line for line in lines[1:]])


def _insert(text: str, obj_start: int, value: Any, key: str) -> str:
    """Add ``"key": value`` as the last member of the object at ``obj_start``, laid out like its members."""
    members = list(_members(text, obj_start))
    outer = _indent_at(text, obj_start)
    if not members:  # an empty object: one member on its own line
        indent = outer + _unit(text)
        member = json.dumps(key, ensure_ascii=False) + ": " + _dumps(value, indent, _unit(text))
        return text[: obj_start + 1] + f"\n{indent}{member}\n{outer}" + text[_ws(text, obj_start + 1) :]
    _, key_start, key_end, value_start, value_end = members[-1]
    multiline = "\n" in text[obj_start:key_start]
    indent = _indent_at(text, key_start) if multiline else outer
    unit = (indent[len(outer) :] or _unit(text)) if multiline else None
    member = json.dumps(key, ensure_ascii=False) + text[key_end:value_start] + _dumps(value, indent, unit)
    return text[:value_end] + (f",\n{indent}" if multiline else ", ") + member + text[value_end:]
