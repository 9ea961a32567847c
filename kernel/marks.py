"""Where each key and item of a loaded YAML document came from, without importing PyYAML.

The loader (:mod:`medic.kernel.yamlload`) builds these containers; the cache of loaded documents
(:mod:`medic.kernel.yamlcache`) rebuilds them; validation reads their marks to say ``file:line:column``. Reading a
mark needs no YAML parser, so a command whose document comes from the cache never imports PyYAML.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medic.kernel.issues import Issue

Mark = tuple[int, int]  # 1-based line, column


class MarkedDict(dict[str, Any]):
    mark: Mark = (0, 0)
    key_marks: dict[str, Mark]


class MarkedList(list[Any]):
    mark: Mark = (0, 0)
    item_marks: list[Mark]


def mark_of(container: Any, key: str | int | None = None) -> Mark | None:
    """Line/column of ``container[key]`` (or of the container itself) when it was loaded by medic."""
    if key is None:
        return getattr(container, "mark", None)
    if isinstance(container, MarkedDict) and isinstance(key, str):
        return container.key_marks.get(key, container.mark)
    if isinstance(container, MarkedList) and isinstance(key, int) and 0 <= key < len(container.item_marks):
        return container.item_marks[key]
    return getattr(container, "mark", None)


def schema_issues(errors: Iterable[Any], data: Any, source: str, prefix: str = "") -> list[Issue]:
    """One Issue per JSON Schema error (anything with ``path`` and ``message``, e.g. jsonschema's), located at the
    line of the key it is about; ``prefix`` names where ``data`` sits in its file (``channels``)."""
    issues = []
    for error in sorted(errors, key=lambda e: list(map(str, e.path))):
        path = list(error.path)
        container: Any = data
        for part in path[:-1]:
            container = container[part]
        mark = mark_of(container, path[-1] if path else None) if isinstance(container, (dict, list)) else None
        where = ".".join(map(str, [prefix, *path] if prefix else path)) or "(top)"
        issues.append(Issue(f"at {where}: {error.message}", source, *(mark or (None, None))))
    return issues
