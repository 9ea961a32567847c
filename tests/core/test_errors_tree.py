"""The tree of errors in medic.kernel.errors' docstring names every MedicError subclass, its module and exit code.

Modules are found by walking every part of the ``medic`` package (the parts listed in pyproject.toml's package-dir,
plus whatever an installed ``medic`` namespace holds), so a new module or a moved class cannot slip past the tree.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import medic.kernel.errors

ROOT = Path(__file__).resolve().parents[2]

# run in a child interpreter: importing every module (Prefect flows, the SSH plugin) must not leak into this one
FIND_ERRORS = r"""
import importlib, json, pkgutil, sys
import medic
from medic.kernel.errors import MedicError

parts = set(sys.argv[1:]) | {m.name for m in pkgutil.iter_modules(medic.__path__, "medic.")}
failed = []
for part in sorted(parts):
    package = importlib.import_module(part)
    names = [part] + [m.name for m in pkgutil.walk_packages(package.__path__, part + ".", onerror=failed.append)]
    for name in names:
        if name.rsplit(".", 1)[-1] != "__main__":
            importlib.import_module(name)

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

found = sorted({(c.__name__, c.__module__, c.exit_code) for c in [MedicError, *subclasses(MedicError)]
                if c.__module__.startswith("medic.")})
print(json.dumps({"errors": found, "modules_failed": failed}))
"""

TREE_LINE = re.compile(r"^[\s│├└─]*(\w+)\s+(medic\.[\w.]+)\s+exit (\d)\b", re.M)


def _parts() -> list[str]:
    """Every part of both distributions: medic (pyproject.toml) and medic-agent (packaging/medic-agent)."""
    parts: set[str] = set()
    for project in (ROOT / "pyproject.toml", ROOT / "packaging" / "medic-agent" / "pyproject.toml"):
        config = tomllib.loads(project.read_text(encoding="utf-8"))
        parts.update(config["tool"]["setuptools"].get("package-dir", {}))
    return sorted(parts)


def _drawn() -> set[tuple[str, str, int]]:
    doc = medic.kernel.errors.__doc__ or ""
    return {(m.group(1), m.group(2), int(m.group(3))) for m in TREE_LINE.finditer(doc)}


def test_every_medic_error_is_in_the_tree_with_its_module_and_exit_code() -> None:
    parts = _parts()
    assert "medic.kernel" in parts and "medic.agent" in parts, parts  # the walk covers the whole package
    out = subprocess.run([sys.executable, "-c", FIND_ERRORS, *parts], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["modules_failed"] == []
    found = {(name, module, code) for name, module, code in answer["errors"]}
    assert {"MedicError", "ParamError", "ExprError", "BundleCorrupt"} <= {f[0] for f in found}  # the walk got there
    drawn = _drawn()
    missing = [f"{name}  {module}  exit {code}" for name, module, code in sorted(found - drawn)]
    assert not missing, "draw these in medic.kernel.errors' docstring: " + "; ".join(missing)
    assert not drawn - found, f"drawn but gone (or moved): {sorted(drawn - found)}"


def test_parameter_and_expression_errors_are_validation_errors_and_still_value_errors() -> None:
    from medic.core.expr import ExprError
    from medic.kernel.errors import EXIT_USAGE, MedicError
    from medic.kernel.params import ParamError

    for cls in (ParamError, ExprError):
        assert issubclass(cls, MedicError) and issubclass(cls, ValueError)
        assert cls.exit_code == EXIT_USAGE
