"""The light medic-agent distribution (packaging/medic-agent): installed alone, it imports and collects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from wheel_helpers import Wheels, import_all_code, modules

pytestmark = pytest.mark.slow
HEAVY = ("prefect", "paramiko", "fastapi", "starlette", "uvicorn", "httpx", "rich", "pluggy", "pydantic")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory other users can enter (pytest's own tmp is private to root), for the unprivileged run."""
    path = Path(tempfile.mkdtemp(prefix="medic-agent-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_agent_wheel_installs_alone_and_collects(tmp_path: Path, open_dir: Path, wheels: Wheels) -> None:
    wheel = wheels.agent
    venv = open_dir / "venv"
    # the system Python when there is one: an unprivileged user can run it (this one lives under /root)
    base = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
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
    # every module the wheel ships imports with only psutil and PyYAML beside it, and none pulls in a heavy library
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", import_all_code(modules(wheel), HEAVY)],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert f"IMPORTED {len(modules(wheel))}" in imported.stdout and "HEAVY []" in imported.stdout
    (bundle,) = out_dir.glob("medic-bundle-*.tar.gz")
    version = subprocess.run([str(venv / "bin" / "medic-agent"), "--version"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert version.stdout.startswith("medic-agent ")
    # and the full medic reads what the light agent wrote
    inspect = subprocess.run([sys.executable, "-m", "medic.cli.main", "bundles", "inspect", str(bundle)],
                             capture_output=True, text=True, timeout=120)
    assert inspect.returncode == 0 and "verified" in inspect.stdout, inspect.stderr

    if os.geteuid() == 0 and shutil.which("setpriv") and base == "/usr/bin/python3":
        unprivileged_collection(venv, open_dir, env)


def unprivileged_collection(venv: Path, work: Path, env: dict[str, str]) -> None:
    """As nobody: what may be read is collected, what may not is listed with the reason; the bundle is written."""
    secret = work / "root-only.log"
    secret.write_text("only root reads this\n")
    secret.chmod(0o600)
    public = work / "public.log"
    public.write_text("anyone reads this\n")
    public.chmod(0o644)
    profile = work / "p.yaml"
    profile.write_text(f"name: t\nprobes: [memory, processes, listening_sockets]\n"
                       f"logs: [{{path: {secret}}}, {{path: {public}}}]\n")
    profile.chmod(0o644)
    out = work / "nobody-out"
    out.mkdir()
    out.chmod(0o777)
    ran = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(venv / "bin" /
                          "medic-agent"), "collect", "--profile", str(profile), "--output", str(out), "--quiet"],
                         capture_output=True, text=True, env={**env, "HOME": str(out)}, cwd=out, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    (bundle,) = out.glob("medic-bundle-*.tar.gz")
    manifest = subprocess.run([sys.executable, "-m", "medic.cli.main", "bundles", "inspect", "--json",
                               str(bundle)], capture_output=True, text=True, timeout=120)
    doc = json.loads(manifest.stdout)
    skipped = {s["item"]: s["reason"] for s in doc["skipped"]}
    assert "permission denied" in skipped[f"log:{secret}"]
    assert any(m["path"] == f"logs{public}" for m in doc["members"])
    assert {p["key"] for p in doc["probes"]} == {"memory", "processes", "listening_sockets"}
