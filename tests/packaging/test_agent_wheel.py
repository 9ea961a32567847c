"""The light medic-agent distribution: built from this repository, installed alone, collects a bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
HEAVY = ("prefect", "paramiko", "fastapi", "starlette", "uvicorn", "httpx", "rich", "pluggy", "pydantic")


def test_agent_wheel_installs_alone_and_collects(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "medic.agent.packaging.build_dist", "--out", str(tmp_path / "d")],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = Path(built.stdout.strip().splitlines()[-1])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True,
                         timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    listed = subprocess.run([str(venv / "bin" / "pip"), "list", "--format", "json"], capture_output=True,
                            text=True, timeout=120)
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert names - {"pip", "setuptools", "wheel"} == {"medic-agent", "psutil", "pyyaml"}

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code = ("import sys, runpy\nsys.argv = ['medic-agent', 'collect', '--output', sys.argv[1], '--quiet']\n"
            "try:\n    runpy.run_module('medic.agent.cli', run_name='__main__')\nexcept SystemExit as e:\n"
            "    code = e.code\n"
            f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
            "print('EXIT', code)\n")
    ran = subprocess.run([str(venv / "bin" / "python"), "-c", code, str(out_dir)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=300)
    assert "EXIT 0" in ran.stdout, ran.stderr[-3000:]
    assert "HEAVY []" in ran.stdout
    (bundle,) = out_dir.glob("medic-bundle-*.tar.gz")
    version = subprocess.run([str(venv / "bin" / "medic-agent"), "--version"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert version.stdout.startswith("medic-agent ")
    # and the full medic reads what the light agent wrote
    inspect = subprocess.run([sys.executable, "-m", "medic.core.cli.main", "bundles", "inspect", str(bundle)],
                             capture_output=True, text=True, timeout=120)
    assert inspect.returncode == 0 and "verified" in inspect.stdout, inspect.stderr
