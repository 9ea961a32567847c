"""Install both wheels into a fresh venv and run medic from there (catches files left out); then uninstall medic
and check that medic-agent, which owns its own files, still works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from wheel_helpers import Wheels, import_all_code, modules

pytestmark = pytest.mark.slow


def run(*argv: str | Path, env: dict[str, str], cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def test_wheels_install_and_run_in_a_fresh_venv(tmp_path: Path, wheels: Wheels) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # medic-agent is on no index: pip takes it from the wheel given beside medic's
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheels.medic), str(wheels.agent)],
                               capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PYTHONPATH", None)
    medic, bindir = venv / "bin" / "medic", venv / "bin"
    listed = run(medic, "playbooks", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in ("triage", "connection-issue", "function-abnormal", "slow-system"):
        assert name in listed.stdout
    # every module of both wheels imports from the installed files (not from the source tree), except the pytest
    # plugin's modules: they need pytest and aiosmtpd, which `medic[testing]` brings and this venv lacks on purpose
    needs_pytest = {"medic.testing.contract", "medic.testing.plugin", "medic.testing.mailcontract",
                    "medic.testing.smtp"}
    shipped = modules(wheels.medic) + modules(wheels.agent)
    assert needs_pytest < set(shipped) and "medic.testing" in shipped
    code = import_all_code([m for m in shipped if m not in needs_pytest])
    code += "import medic.core, medic.kernel; print(medic.core.__file__, medic.kernel.__file__)\n"
    imported = run(bindir / "python", "-c", code, env=env, cwd=tmp_path, timeout=300)
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert imported.stdout.count(str(venv)) == 2
    for command in (medic, bindir / "medic-agent"):
        helped = run(command, "--help", env=env, cwd=tmp_path)
        assert helped.returncode == 0 and helped.stdout.startswith("usage:"), helped.stderr
    bundle = collect_small_bundle(bindir, tmp_path, env)
    inspected = run(medic, "bundles", "inspect", bundle, env=env, cwd=tmp_path)
    assert inspected.returncode == 0 and "verified" in inspected.stdout, inspected.stderr
    ran = run(medic, "run", "triage", "--json", env=env, cwd=tmp_path, timeout=600)
    assert ran.returncode in (0, 1), ran.stderr[-3000:]
    assert json.loads(ran.stdout)["playbook"] == "triage"
    assert "Traceback" not in ran.stderr
    agent_survives_uninstalling_medic(bindir, wheels, tmp_path, env)


def collect_small_bundle(bindir: Path, work: Path, env: dict[str, str]) -> Path:
    profile = work / "small.yaml"
    profile.write_text("name: small\nprobes: [memory, os_info]\n")
    (work / "bundles").mkdir()
    collected = run(bindir / "medic-agent", "collect", "--profile", profile, "--output", work / "bundles", "--quiet",
                    env=env, cwd=work)
    assert collected.returncode == 0, collected.stderr[-2000:]
    (bundle,) = (work / "bundles").glob("medic-bundle-*.tar.gz")
    return bundle


def agent_survives_uninstalling_medic(bindir: Path, wheels: Wheels, work: Path, env: dict[str, str]) -> None:
    removed = run(bindir / "pip", "uninstall", "-q", "-y", "medic", env=env, cwd=work)
    assert removed.returncode == 0, removed.stderr
    assert not (bindir / "medic").exists()
    helped = run(bindir / "medic-agent", "--help", env=env, cwd=work)
    assert helped.returncode == 0 and helped.stdout.startswith("usage:"), helped.stderr
    imported = run(bindir / "python", "-c", import_all_code(modules(wheels.agent)), env=env, cwd=work, timeout=300)
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert f"IMPORTED {len(modules(wheels.agent))}" in imported.stdout
