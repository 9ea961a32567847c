"""Which files a log entry names: a file, a directory (walked), or a glob pattern.

In a pattern, ``*``, ``?`` and ``[...]`` match within one path component and ``**`` matches any number of
components, so ``DIR/**`` is every file below DIR. Wildcards match dotfiles too: an application's ``.env.log``
or ``.cache/x.log`` is as much its log as any other, and a support bundle should not silently miss it. A
directory that matches is walked. Symbolic links to directories are not followed while walking.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass, field

WILDCARDS = "*?["


def has_wildcard(text: str) -> bool:
    return any(c in text for c in WILDCARDS)


@dataclass
class Expansion:
    files: list[str] = field(default_factory=list)
    capped: bool = False  # stopped at the file limit or when ``stop()`` said so


class _Walk:
    def __init__(self, limit: int, stop: Callable[[], bool]) -> None:
        self.limit, self.stop = limit, stop
        self.result = Expansion()
        self.seen: set[str] = set()

    def full(self) -> bool:
        if len(self.result.files) >= self.limit or self.stop():
            self.result.capped = True
        return self.result.capped

    def add(self, path: str) -> None:
        if path not in self.seen and not self.full():
            self.seen.add(path)
            self.result.files.append(path)

    def directory(self, top: str) -> None:
        """Every file below ``top``, in sorted order."""
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                self.add(os.path.join(dirpath, name))
            if self.full():
                return


def expand(pattern: str, *, literal: bool = False, limit: int = 1000,
           stop: Callable[[], bool] = lambda: False) -> Expansion:
    """The files ``pattern`` names (at most ``limit``); ``literal`` takes wildcard characters as they are."""
    walk = _Walk(limit, stop)
    if literal or not has_wildcard(pattern):
        if os.path.isdir(pattern):
            walk.directory(pattern)
        elif os.path.lexists(pattern):
            walk.add(pattern)
        return walk.result
    parts = pattern.split("/")
    first = next(i for i, part in enumerate(parts) if has_wildcard(part))
    base = "/".join(parts[:first]) or ("/" if pattern.startswith("/") else ".")
    rest = [p for p in parts[first:] if p]
    recursive = "**" in rest
    for dirpath, dirnames, filenames in os.walk(base):
        rel = os.path.relpath(dirpath, base)
        rel_parts = [] if rel == "." else rel.split(os.sep)
        dirnames.sort()
        for name in sorted(filenames):
            if matches(rest, [*rel_parts, name]):
                walk.add(os.path.normpath(os.path.join(dirpath, name)))
        for name in list(dirnames):
            if matches(rest, [*rel_parts, name]):
                walk.directory(os.path.normpath(os.path.join(dirpath, name)))
                dirnames.remove(name)  # walked already
        if not recursive and len(rel_parts) + 1 >= len(rest):
            dirnames[:] = []  # deeper paths cannot match a pattern without **
        if walk.full():
            break
    return walk.result


def matches(pattern: list[str], path: list[str]) -> bool:
    """Whether path components match pattern components (``**`` spans zero or more of them)."""
    if not pattern:
        return not path
    head, tail = pattern[0], pattern[1:]
    if head == "**":
        return any(matches(tail, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and matches(tail, path[1:])
