"""Set a dotted key in YAML text, keeping comments, flow style, quoting, anchors and layout.

An existing scalar is replaced in the text itself: only the value's characters change, written in its old style
(quoted stays quoted, ``True`` stays capitalised); a new scalar key is added after the last entry of its mapping.
The edited text is read back: it must mean the old document with only that key changed. A new parent mapping, a
list or mapping value, an anchored or aliased value and a block scalar go through ruamel.yaml's round-trip dump
instead, with the file's indentation.

The edit runs where the file is (this module ships to SSH hosts like the rest of the change code): with
ruamel.yaml there (YAML 1.2), else PyYAML's safe loader reads the text (YAML 1.1) for the in-place edits, and
only the round-trip dump needs ruamel.yaml, which the error says.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

from medic.plugins.change import configvalue
from medic.plugins.change.configvalue import EditError

_SCALARS = (bool, int, float, str, type(None))
# plain words YAML 1.1 readers (PyYAML) take for booleans or null: written quoted, so every reader sees text
_YAML11_WORDS = ("", "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~")
INSTALL = "pip install ruamel.yaml, or the python3-ruamel.yaml package"


class _Reader:
    """Loads and composes (nodes with their place in the text) with ruamel.yaml, else PyYAML's safe loader."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: tuple[type[Exception], ...]
        try:
            from ruamel.yaml import YAMLError

            self.ruamel, self.errors = _ruamel(path), (YAMLError,)
        except ImportError:
            try:
                import yaml
            except ImportError:
                raise EditError(f"{path}: editing YAML needs ruamel.yaml (or PyYAML) on this host ({INSTALL})") \
                    from None
            self.ruamel, self.errors = None, (yaml.YAMLError,)

    def _parse(self, action: Any) -> Any:
        try:
            return action()
        except self.errors as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{self.path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else self.path
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise EditError(f"{where}: not valid YAML: {problem}") from None
        except RecursionError:
            raise EditError(f"{self.path}: YAML nested too deeply to edit") from None

    def load(self, text: str) -> Any:
        if self.ruamel is not None:
            return self._parse(lambda: self.ruamel.load(text))
        import yaml

        return self._parse(lambda: yaml.safe_load(text))

    def compose(self, text: str) -> Any:
        if self.ruamel is not None:
            return self._parse(lambda: self.ruamel.compose(text))
        import yaml

        return self._parse(lambda: yaml.compose(text, Loader=yaml.SafeLoader))


def _ruamel(path: str, **indent: int) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: comments, styles and anchors kept; no Python objects are built
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never fold a long line that was not folded
    if indent:
        yaml.indent(**indent)
    return yaml


def load(text: str, path: str) -> Any:
    return _Reader(path).load(text)


def set_key(text: str, key: str, value: Any, type_: str = "auto", path: str = "") -> str:
    parts, where, reader = key.split("."), f"{path}: {key}" if path else key, _Reader(path)
    data = reader.load(text) if text.strip() else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EditError(f"{path}: expected a mapping at the top level to set {key!r}")
    found, existing = configvalue.lookup(data, key)
    new = configvalue.typed(value, existing if found else None, type_, where)
    expected = reader.load(text) if text.strip() else None
    if isinstance(new, _SCALARS) and isinstance(expected, dict) and (not found or isinstance(existing, _SCALARS)):
        _set(expected, parts, new, path)
        for quoted in (False, True):  # a plain or single-quoted text may not fit where it goes (a flow mapping)
            edited = _edit_text(reader, text, parts, new, found, quoted)
            if edited is not None and _reads_as(reader, edited, expected):
                return edited
    if reader.ruamel is None:
        raise EditError(f"{where}: this edit (a new mapping, a list or mapping value, an anchored value or a "
                        f"block scalar) is written by ruamel.yaml's round trip; it is not on this host ({INSTALL})")
    return _round_trip(reader, text, data, parts, new)


def _reads_as(reader: _Reader, edited: str, expected: Any) -> bool:
    """The edited text means the old document with only the key changed (and the value reads back)."""
    try:
        return bool(reader.load(edited) == expected)
    except EditError:
        return False


def _edit_text(reader: _Reader, text: str, parts: list[str], new: Any, replace: bool, quoted: bool) -> str | None:
    """The text edit for a scalar: replace the existing value, or add the key to its (existing) mapping."""
    if replace:
        return _replace_scalar(reader, text, parts, new, quoted)
    if len(parts) > 1 and not configvalue.lookup(reader.load(text), ".".join(parts[:-1]))[0]:
        return None  # new parent mappings: the round-trip dump lays them out
    return _add_key(reader, text, parts, new, quoted)


def _set(data: Any, parts: list[str], new: Any, path: str) -> None:
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, type(data)())  # ruamel's CommentedMap, or a dict
        if not isinstance(child, dict):
            raise EditError(f"{path}: {part!r} in {'.'.join(parts)!r} is not a mapping")
        node = child
    node[parts[-1]] = new


def _pair(reader: _Reader, text: str, parts: list[str]) -> Any:
    """The composed (key, value) nodes at ``parts``, or None (a merge key, or a mapping's key path ends)."""
    node, pair = reader.compose(text), None
    for part in parts:
        pairs = node.value if isinstance(node.value, list) else []
        pair = next(((k, v) for k, v in reversed(pairs) if getattr(k, "value", None) == part), None)
        if pair is None:
            return None
        node = pair[1]
    return pair


def _replace_scalar(reader: _Reader, text: str, parts: list[str], new: Any, quoted: bool) -> str | None:
    """``text`` with the scalar at ``parts`` rewritten in place, or None when that cannot be done faithfully."""
    pair = _pair(reader, text, parts)
    if pair is None:
        return None
    key, node = pair
    start, end = node.start_mark.index, node.end_mark.index
    old = text[start:end]
    if not old or old[0] in "&!*|>" or node.style in ("|", ">") or text[key.end_mark.index : start].strip() != ":":
        return None  # anchors, tags, aliases (marks of another node) and block scalars: the round-trip dump
    rendered = _render(reader, new, old, '"' if quoted else node.style)
    if rendered is None:
        return None
    return text[:start] + rendered + text[end:]


def _add_key(reader: _Reader, text: str, parts: list[str], new: Any, quoted: bool) -> str | None:
    """``key: value`` added after the last entry of its mapping (block or flow), or None when there is none."""
    pair = _pair(reader, text, parts[:-1]) if len(parts) > 1 else (None, reader.compose(text))
    parent = pair[1] if pair is not None else None
    style = '"' if quoted else None
    rendered = _render(reader, new, "", style)
    if parent is None or not parent.value or rendered is None:
        return None
    line = f"{_render(reader, parts[-1], '', style)}: {rendered}"
    if parent.flow_style:
        close = text.rindex("}", 0, parent.end_mark.index)
        return text[:close].rstrip() + f", {line}" + text[close:].lstrip(" ") if text[close] == "}" else None
    first_key, last_value = parent.value[0][0], parent.value[-1][1]
    at = last_value.end_mark.index
    if last_value.end_mark.column != 0:  # a scalar ends mid-line: the entry ends with its line
        at = text.find("\n", at) + 1 or len(text)
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return text[:at] + prefix + " " * first_key.start_mark.column + line + "\n" + text[at:]


def _render(reader: _Reader, new: Any, old: str, style: str | None) -> str | None:
    if isinstance(new, bool):
        return configvalue.write_text(new, old if old.lower() in ("true", "false") else None)
    if isinstance(new, float) and not math.isfinite(new):
        return None
    if new is None or isinstance(new, (int, float)):
        return "null" if new is None else repr(new)
    if style == "'" and "\n" not in new:
        return "'" + new.replace("'", "''") + "'"
    if style is None and "\n" not in new and new == new.strip() and new.lower() not in _YAML11_WORDS:
        try:
            plain_ok = configvalue.lookup(reader.load(f"k: {new}\n"), "k") == (True, new)
        except EditError:
            plain_ok = False
        if plain_ok:
            return new
    return json.dumps(new, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _round_trip(reader: _Reader, text: str, data: Any, parts: list[str], new: Any) -> str:
    from ruamel.yaml.util import load_yaml_guess_indent

    _set(data, parts, new, reader.path)
    indent, offset = 2, 0
    if text.strip():
        _, guessed, block_seq = reader._parse(lambda: load_yaml_guess_indent(text))
        indent, offset = guessed or 2, block_seq or 0
    out = io.StringIO()
    _ruamel(reader.path, mapping=indent, sequence=offset + 2, offset=offset).dump(data, out)
    return out.getvalue()
