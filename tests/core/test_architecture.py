"""The house rules of issue 10, as tests: sizes of modules and functions, and what the light kernel may import.

The import directions between the parts are contracts in `.importlinter`, checked by `lint-imports` in `make test`;
these tests cover what import-linter cannot say ("only the standard library, PyYAML and psutil").
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("kernel", "probes", "core", "cli", "plugins", "agent", "flows")
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60
MAX_CORE_LINES = 3000
KERNEL_MAY_IMPORT = set(sys.stdlib_module_names) | {"yaml", "psutil"}


def _modules(*parts: str) -> list[Path]:
    return sorted(p for part in parts for p in (ROOT / part).rglob("*.py"))


def _imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_is_longer_than_the_limit() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules(*PARTS) if (n := len(p.read_text().splitlines()))
            > MAX_MODULE_LINES}
    assert long == {}, f"modules over {MAX_MODULE_LINES} lines: split them by job"


def test_no_function_is_longer_than_the_limit() -> None:
    long = []
    for path in _modules(*PARTS):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


def test_core_stays_small() -> None:
    lines = sum(len(p.read_text().splitlines()) for p in _modules("core"))
    assert lines <= MAX_CORE_LINES, f"core/ has {lines} lines; move what is not engine, models or plugin manager out"


def test_the_kernel_imports_only_the_standard_library_yaml_and_psutil() -> None:
    bad = []
    for path in _modules("kernel"):
        for name in _imported_names(ast.parse(path.read_text())):
            top = name.split(".")[0]
            if name.startswith("medic."):
                if not name.startswith("medic.kernel"):
                    bad.append(f"{path.relative_to(ROOT)}: {name}")
            elif top not in KERNEL_MAY_IMPORT:
                bad.append(f"{path.relative_to(ROOT)}: {name}")
    assert bad == []


def test_the_import_contracts_cover_every_part() -> None:
    config = (ROOT / ".importlinter").read_text()
    for part in PARTS:
        assert f"medic.{part}" in config
