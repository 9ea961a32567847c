"""Load YAML safely while keeping where every key and item came from.

Only PyYAML's SafeLoader is used (a subclass). Tags it does not know (``!!python/object``, ``!foo``) are errors,
duplicate keys are reported rather than silently overwritten, and every mapping and list remembers the line and
column of itself and of its entries so validation can say ``file:line:column``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from medic.kernel.errors import Issue, ValidationError

Mark = tuple[int, int]  # 1-based line, column


class MarkedDict(dict[str, Any]):
    mark: Mark = (0, 0)
    key_marks: dict[str, Mark]


class MarkedList(list[Any]):
    mark: Mark = (0, 0)
    item_marks: list[Mark]


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str, filename: str) -> None:
        super().__init__(stream)
        self.filename = filename
        self.issues: list[Issue] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> MarkedDict:  # type: ignore[override]
        self.flatten_mapping(node)  # resolves `<<` merge keys
        out = MarkedDict()
        out.mark = _mark(node)
        out.key_marks = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            line, col = _mark(key_node)
            if key in out:
                first = out.key_marks[key]
                self.issues.append(Issue(f"duplicate key {key!r} (first defined at line {first[0]})",
                                         self.filename, line, col))
                continue
            out[key] = self.construct_object(value_node, deep=True)
            out.key_marks[key] = (line, col)
        return out

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> MarkedList:
        out = MarkedList(self.construct_object(child, deep=True) for child in node.value)
        out.mark = _mark(node)
        out.item_marks = [_mark(child) for child in node.value]
        return out


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def loads(text: str, filename: str = "<string>") -> Any:
    """Parse one YAML document; raise ValidationError with every problem found, located."""
    loader = _Loader(text, filename)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "malformed YAML"
        if "could not determine a constructor" in str(exc):
            problem = f"unsupported YAML tag{problem.split('tag', 1)[-1]}; only plain YAML data is accepted"
        issue = Issue(f"{problem} ({exc.context})" if exc.context else problem, filename,
                      mark.line + 1 if mark else None, mark.column + 1 if mark else None)
        raise ValidationError([issue], subject=filename) from None
    except yaml.YAMLError as exc:
        raise ValidationError([Issue(f"malformed YAML: {exc}", filename)], subject=filename) from None
    finally:
        loader.dispose()
    if loader.issues:
        raise ValidationError(loader.issues, subject=filename)
    return data


def load_file(path: str | Path) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError([Issue("file not found", str(p))], subject=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError([Issue(f"cannot read file: {exc}", str(p))], subject=str(p)) from None
    return loads(text, str(p))


def mark_of(container: Any, key: str | int | None = None) -> Mark | None:
    """Line/column of ``container[key]`` (or of the container itself) when it was loaded by this module."""
    if key is None:
        return getattr(container, "mark", None)
    if isinstance(container, MarkedDict) and isinstance(key, str):
        return container.key_marks.get(key, container.mark)
    if isinstance(container, MarkedList) and isinstance(key, int) and 0 <= key < len(container.item_marks):
        return container.item_marks[key]
    return getattr(container, "mark", None)
