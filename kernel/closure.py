"""Which modules to ship with a module to another Python: it and every module it imports, found by reading its
import statements (``ast``), dependencies first.

The SSH runner ships probe modules (built-in or a third party's) and change code to a host's ``python3`` this
way, instead of keeping lists of modules by hand. Imports inside functions count too (a module a host lacks a
library for, such as PyYAML, fails only when used). Packages are not shipped: the receiver makes empty ones, so
a probe module never drags in its package's ``__init__`` (which may import pluggy).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
from collections.abc import Iterable
from functools import cache

ROOT = "medic"


@cache
def module_source(name: str) -> str:
    module = sys.modules.get(name)
    if module is None:
        __import__(name)
        module = sys.modules[name]
    return inspect.getsource(module)


@cache
def imports(name: str, roots: frozenset[str] = frozenset({ROOT})) -> tuple[str, ...]:
    """Modules under ``roots`` (top-level package names) that ``name`` imports, packages left out."""
    found: list[str] = []
    for node in ast.walk(ast.parse(module_source(name))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                node.module.split(".")[0] in roots:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append(sub if _is_module(sub) else node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in roots]
    return tuple(m for m in dict.fromkeys(found) if not _is_package(m))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _is_package(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.submodule_search_locations is not None


def closure(names: Iterable[str]) -> list[str]:
    """``names`` and the modules they import from medic or from their own top-level package (a third-party
    probe module's helpers), dependencies first."""
    wanted = list(names)
    roots = frozenset({ROOT, *(n.split(".")[0] for n in wanted)})
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered or name in path:
            return
        for dep in imports(name, roots):
            visit(dep, (*path, name))
        ordered.append(name)

    for name in wanted:
        visit(name, ())
    return ordered
