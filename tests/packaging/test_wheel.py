"""Build the wheel, install it into a fresh venv, and run medic from there (catches files left out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(REPO)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = dist.glob("medic-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True,
                               text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PYTHONPATH", None)
    medic = venv / "bin" / "medic"
    listed = subprocess.run([str(medic), "playbooks", "list"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert listed.returncode == 0, listed.stderr
    for name in ("triage", "connection-issue", "function-abnormal", "slow-system"):
        assert name in listed.stdout
    # every module of the package imports from the installed wheel (not from the source tree)
    code = ("import importlib, pkgutil, medic.core, medic.plugins, medic.agent, medic.flows, medic.playbooks\n"
            "names = []\n"
            "for pkg in (medic.core, medic.plugins, medic.agent, medic.flows):\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        importlib.import_module(m.name); names.append(m.name)\n"
            "print(medic.core.__file__); print(len(names))\n")
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=300)
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert str(venv) in imported.stdout
    ran = subprocess.run([str(medic), "run", "triage", "--json"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=600)
    assert ran.returncode in (0, 1), ran.stderr[-3000:]
    assert json.loads(ran.stdout)["playbook"] == "triage"
    assert "Traceback" not in ran.stderr
