"""Pure text edits behind the file actions: set a key in INI, YAML, JSON or ``key=value`` text; find/replace.

Every format is edited in place: only the value's characters change (or one line is added), comments, order,
quoting and layout stay. JSON: :mod:`jsonedit`; YAML: :mod:`yamledit` (ruamel.yaml); INI and ``key=value``:
line edits here, keeping an inline comment (``x = 2  ; why``) and dropping a replaced value's continuation
lines. The value keeps the type of the value it replaces, or takes the step's ``type:`` (:mod:`configvalue`).
``get_key`` reads a key back the same way, for verifying a change.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from medic.plugins.change import configvalue, jsonedit, yamledit
from medic.plugins.change.configvalue import EditError

FORMATS = ("auto", "ini", "yaml", "json", "keyvalue")
__all__ = ["FORMATS", "EditError", "detect", "find_replace", "get_key", "set_key", "unified_diff"]


def detect(path: str, text: str) -> str:
    lower = path.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith((".ini", ".cfg")) or re.search(r"^\s*\[[^\]]+\]\s*$", text, re.M):
        return "ini"
    return "keyvalue"


def _format(fmt: str, path: str, text: str) -> str:
    fmt = detect(path, text) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise EditError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def set_key(
    text: str, fmt: str, key: str, value: Any, section: str | None = None, path: str = "", type_: str = "auto"
) -> str:
    fmt = _format(fmt, path, text)
    if fmt == "json":
        return jsonedit.set_key(text, key, value, type_, path)
    if fmt == "yaml":
        return yamledit.set_key(text, key, value, type_, path)
    where = f"{path}: {key}" if path else key
    lines = text.splitlines(keepends=True)
    start, end = _section(lines, section) if fmt == "ini" else (0, len(lines))
    if start is None:  # a new section at the end
        sep = "" if not lines or lines[-1].endswith("\n") else "\n"
        new = configvalue.format_text(configvalue.typed(value, None, type_, where))
        return "".join(lines) + f"{sep}\n[{section}]\n{key} = {new}\n"
    return _set_line(lines, start, end, key, value, " = " if fmt == "ini" else "=", type_, where)


def get_key(text: str, fmt: str, key: str, section: str | None = None, path: str = "") -> tuple[bool, Any]:
    """(found, value) of a key: JSON and YAML values as parsed, text formats' values as scalars."""
    fmt = _format(fmt, path, text)
    if fmt == "json":
        return configvalue.lookup(jsonedit.load(text, path), key)
    if fmt == "yaml":
        return configvalue.lookup(yamledit.load(text, path), key)
    lines = text.splitlines(keepends=True)
    start, end = _section(lines, section) if fmt == "ini" else (0, len(lines))
    found = _find_line(lines, start or 0, end, key) if start is not None else None
    return (False, None) if found is None else (True, configvalue.read_text(found[1]))


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
# key, separator, value, an inline comment (after whitespace), line end
_LINE = r"^(\s*{key}\s*[=:]\s*)(.*?)(\s+[;#].*)?(\r?\n?)$"


def _section(lines: list[str], section: str | None) -> tuple[int | None, int]:
    """(first line, end) of a section's body; None when the section is missing. No section: before the first."""
    if not section:
        return 0, next((i for i, line in enumerate(lines) if _SECTION.match(line)), len(lines))
    heads = [i for i, line in enumerate(lines) if (m := _SECTION.match(line)) and m.group(1).strip() == section]
    if not heads:
        return None, len(lines)
    start = heads[0] + 1
    return start, next((i for i in range(start, len(lines)) if _SECTION.match(lines[i])), len(lines))


def _find_line(lines: list[str], start: int, end: int, key: str) -> tuple[int, str, re.Match[str]] | None:
    pattern = re.compile(_LINE.format(key=re.escape(key)))
    for i in range(start, end):
        m = pattern.match(lines[i])
        if m:
            return i, m.group(2), m
    return None


def _set_line(
    lines: list[str], start: int, end: int, key: str, value: Any, sep: str, type_: str, where: str
) -> str:
    found = _find_line(lines, start, end, key)
    if found is not None:
        i, old, m = found
        new = configvalue.typed(value, configvalue.read_text(old), type_, where)
        lines[i] = m.group(1) + configvalue.write_text(new, old) + (m.group(3) or "") + (m.group(4) or "\n")
        while i + 1 < end and lines[i + 1].strip() and lines[i + 1][:1] in " \t":
            del lines[i + 1]  # the old value's continuation lines
            end -= 1
        return "".join(lines)
    text = configvalue.format_text(configvalue.typed(value, None, type_, where))
    insert = end
    while insert > start and not lines[insert - 1].strip():
        insert -= 1  # before the blank lines that close a section
    if insert > 0 and not lines[insert - 1].endswith("\n"):
        lines[insert - 1] += "\n"
    lines.insert(insert, f"{key}{sep}{text}\n")
    return "".join(lines)


def find_replace(text: str, edits: list[dict[str, Any]], path: str = "") -> str:
    for i, edit in enumerate(edits):
        find, repl = edit.get("find"), edit.get("replace")
        if not isinstance(find, str) or not isinstance(repl, str):
            raise EditError(f"edits[{i}]: expected {{find: TEXT, replace: TEXT}}")
        if find not in text:
            raise EditError(
                f"{path}: edits[{i}]: {find!r} not found; the file is not what the playbook expects"
            )
        text = text.replace(find, repl, int(edit.get("count", -1)))
    return text


def unified_diff(old: str | None, new: str | None, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            f"{path} (now)" if old is not None else "/dev/null",
            f"{path} (after)" if new is not None else "/dev/null",
        )
    )
