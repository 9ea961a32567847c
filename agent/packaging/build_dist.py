"""Build the ``medic-agent`` wheel: the agent, the probes it shares with medic, and the few core modules they use.

The endpoint agent must not pull in Prefect, paramiko, pluggy, rich or a web server. Rather than a second source
tree, this script stages the needed files of this repository under the ``medic.`` namespace with a small
pyproject and builds a wheel from it:

    python -m medic.agent.packaging.build_dist --out dist/
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from medic.agent import __version__

# the only core modules the agent's import path may use: stdlib + PyYAML + psutil
CORE_MODULES = ("__init__", "target")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "medic-agent"
version = "{version}"
description = "medic's endpoint agent: one command collects a redacted, checksummed diagnostics bundle."
requires-python = ">=3.11"
dependencies = ["psutil>=5.9", "pyyaml>=6.0"]

[project.scripts]
medic-agent = "medic.agent.cli:entry"

[tool.setuptools.packages.find]
include = ["medic*"]
namespaces = true

[tool.setuptools.package-data]
"*" = ["py.typed", "*.yaml", "*.json"]
"""


def source_dirs() -> tuple[Path, Path, Path]:
    """Where medic.agent, medic.core and medic.plugins.probes live (the repository or an installed tree)."""
    import medic.agent
    import medic.core
    import medic.plugins.probes

    return (Path(medic.agent.__file__).parent, Path(medic.core.__file__).parent,
            Path(medic.plugins.probes.__file__).parent)


def kernel_dir() -> Path:
    import medic.kernel

    return Path(medic.kernel.__file__).parent


def stage(into: Path) -> Path:
    agent_dir, core_dir, probes_dir = source_dirs()
    medic = into / "medic"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "packaging")
    shutil.copytree(agent_dir, medic / "agent", ignore=ignore)
    shutil.copytree(kernel_dir(), medic / "kernel", ignore=ignore)
    (medic / "core").mkdir(parents=True)
    for name in CORE_MODULES:
        shutil.copy2(core_dir / f"{name}.py", medic / "core" / f"{name}.py")
    shutil.copy2(core_dir / "py.typed", medic / "core" / "py.typed")
    (medic / "plugins").mkdir()
    shutil.copy2(probes_dir.parent / "__init__.py", medic / "plugins" / "__init__.py")
    shutil.copytree(probes_dir, medic / "plugins" / "probes", ignore=shutil.ignore_patterns("__pycache__", "plugin.py"))
    (into / "pyproject.toml").write_text(PYPROJECT.format(version=__version__) + probe_entry_points())
    return into


def probe_entry_points() -> str:
    """The built-in probe modules as the full medic declares them (group medic.probes): the agent finds its probes
    through the same registry, medic.kernel.probes."""
    from medic.kernel.probes import GROUP, declared

    lines = [f'"{s.entry}" = "{s.module}"' for s in declared() if s.module.startswith("medic.plugins.probes.")]
    return f'\n[project.entry-points."{GROUP}"]\n' + "\n".join(lines) + "\n"


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="medic-agent-build-") as tmp:
        staged = stage(Path(tmp) / "src")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(out), str(staged)], check=True)
    wheels = sorted(out.glob(f"medic_agent-{__version__}-*.whl"))
    if not wheels:
        raise SystemExit(f"no medic-agent wheel was built in {out}")
    return wheels[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("dist"))
    print(build(ap.parse_args().out))


if __name__ == "__main__":
    main()
