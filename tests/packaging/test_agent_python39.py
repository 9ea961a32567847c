"""medic-agent's wheel on Python 3.9, the oldest Python it supports: installed alone, every module imports and
`medic-agent collect` writes a bundle that medic reads. Skipped on a machine without a Python 3.9."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from wheel_helpers import Wheels, import_all_code, modules, python39

from medic.kernel.bundle import open_bundle

pytestmark = pytest.mark.slow


PYTHON39 = python39()


@pytest.mark.skipif(PYTHON39 is None, reason="no Python 3.9 interpreter on this machine")
def test_agent_wheel_on_python_3_9_imports_and_collects(tmp_path: Path, wheels: Wheels) -> None:
    venv = tmp_path / "venv39"
    subprocess.run([str(PYTHON39), "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                          str(wheels.agent)], capture_output=True, text=True, timeout=600)
    if pip.returncode != 0 and "requires a different Python" not in pip.stderr:
        pytest.skip(f"cannot install psutil and PyYAML for Python 3.9 here: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr[-2000:]
    python = str(venv / "bin" / "python")
    imported = subprocess.run([python, "-I", "-c", import_all_code(modules(wheels.agent))], capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr[-2000:]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    collected = subprocess.run([str(venv / "bin" / "medic-agent"), "collect", "-q", "--output", str(out_dir),
                                "--note", "python 3.9"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert collected.returncode == 0, collected.stderr[-2000:]
    (bundle,) = out_dir.glob("medic-bundle-*.tar.gz")
    with open_bundle(bundle) as opened:
        results = opened.probe_results()
        assert len(results) >= 10
        failed = {c.key: r.error for c, r in results.items() if not r.ok and not r.unavailable}
        assert not failed, failed  # a probe that breaks on 3.9 reports failed, not unavailable
        assert opened.read_text("note.txt") == "python 3.9\n"
