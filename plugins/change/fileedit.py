"""Pure text edits behind the file actions: set a key in INI, YAML, JSON or ``key=value`` text; find/replace.

INI and ``key=value`` edits are line-based and keep comments and layout; JSON and YAML are re-serialised
(YAML comments are lost: say so in the plan's diff).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from medic.kernel.errors import MedicError

FORMATS = ("auto", "ini", "yaml", "json", "keyvalue")


class EditError(MedicError):
    pass


def detect(path: str, text: str) -> str:
    lower = path.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith((".ini", ".cfg")) or re.search(r"^\s*\[[^\]]+\]\s*$", text, re.M):
        return "ini"
    return "keyvalue"


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def set_key(text: str, fmt: str, key: str, value: Any, section: str | None = None, path: str = "") -> str:
    fmt = detect(path, text) if fmt == "auto" else fmt
    if fmt == "json":
        data = json.loads(text) if text.strip() else {}
        return json.dumps(_set_dotted(data, key, value, path), indent=2) + "\n"
    if fmt == "yaml":
        # imported here: this module also runs on remote hosts, which may not have PyYAML for other formats
        try:
            import yaml

            from medic.kernel import yamlload
        except ImportError:
            raise EditError(f"{path}: editing YAML needs PyYAML on this host (pip install pyyaml)") from None
        data = yamlload.loads(text, path or "<file>") if text.strip() else {}
        return str(yaml.safe_dump(_set_dotted(_plain(data), key, value, path), sort_keys=False))
    if fmt == "ini":
        return _set_ini(text, key, value, section)
    if fmt == "keyvalue":
        return _set_line(text.splitlines(keepends=True), 0, None, key, scalar(value), "=")
    raise EditError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def _set_dotted(data: Any, key: str, value: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise EditError(f"{path}: expected a mapping at the top level to set {key!r}")
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise EditError(f"{path}: {part!r} in {key!r} is not a mapping")
        node = child
    node[parts[-1]] = value
    return data


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def _set_ini(text: str, key: str, value: Any, section: str | None) -> str:
    lines = text.splitlines(keepends=True)
    if not section:
        first = next((i for i, line in enumerate(lines) if _SECTION.match(line)), len(lines))
        return _set_line(lines, 0, first, key, scalar(value), " = ")
    start = next(
        (
            i + 1
            for i, line in enumerate(lines)
            if (m := _SECTION.match(line)) and m.group(1).strip() == section
        ),
        None,
    )
    if start is None:
        sep = "" if not lines or lines[-1].endswith("\n") else "\n"
        return "".join(lines) + f"{sep}\n[{section}]\n{key} = {scalar(value)}\n"
    end = next((i for i in range(start, len(lines)) if _SECTION.match(lines[i])), len(lines))
    return _set_line(lines, start, end, key, scalar(value), " = ")


def _set_line(lines: list[str], start: int, end: int | None, key: str, value: str, sep: str) -> str:
    end = len(lines) if end is None else end
    pattern = re.compile(rf"^(\s*{re.escape(key)}\s*[=:]\s*)(.*?)(\r?\n?)$")
    for i in range(start, end):
        m = pattern.match(lines[i])
        if m:
            lines[i] = m.group(1) + value + (m.group(3) or "\n")
            return "".join(lines)
    insert = end
    while insert > start and not lines[insert - 1].strip():
        insert -= 1  # before the blank lines that close a section
    if insert > 0 and not lines[insert - 1].endswith("\n"):
        lines[insert - 1] += "\n"
    lines.insert(insert, f"{key}{sep}{value}\n")
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
