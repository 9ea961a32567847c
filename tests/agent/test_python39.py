"""medic-agent runs on Python 3.9 (a user's machine, `python3 medic-agent.pyz`): what it ships needs nothing
newer. vermin reads every module; the StrEnum backport behaves as enum.StrEnum does."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
from pathlib import Path

import pytest
from wheel_helpers import python39

from medic.kernel.compat import StrEnumBackport

REPO = Path(__file__).resolve().parents[2]
# what medic-agent ships: its project's package folders are links to the real ones
SHIPPED = sorted(p.resolve() for p in (REPO / "packaging" / "medic-agent").iterdir() if p.is_symlink())


def test_the_agent_ships_the_kernel_the_probes_and_itself() -> None:
    assert [p.name for p in SHIPPED] == ["agent", "kernel", "probes"]


def test_vermin_finds_nothing_that_needs_python_newer_than_3_9() -> None:
    vermin = Path(sys.executable).with_name("vermin")
    # str.decode: vermin takes ``match["x"].decode()`` on a bytes regex for Python 2's str.decode
    out = subprocess.run([str(vermin), "-t=3.9-", "--no-tips", "--violations", "--eval-annotations",
                          "--exclude", "str.decode", *map(str, SHIPPED)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "not met" not in out.stdout, out.stdout + out.stderr
    assert "Minimum required versions: 3.9" in out.stdout


def test_the_strenum_backport_behaves_as_strenum() -> None:
    class New(enum.StrEnum):
        PASS = "pass"
        FAIL = "fail"

    class Old(StrEnumBackport):
        PASS = "pass"
        FAIL = "fail"

    for new, old in zip(New, Old, strict=True):
        assert str(old) == str(new) == old == new.value
        assert f"{old}" == f"{new}" and f"{old:>6}" == f"{new:>6}" and format(old, "") == format(new, "")
        assert json.dumps({old: [old]}) == json.dumps({new: [new]})
        assert Old(new.value) is old and hash(old) == hash(new.value) and isinstance(old, str)


PYTHON39 = python39()


@pytest.mark.skipif(PYTHON39 is None, reason="no Python 3.9 interpreter on this machine")
def test_every_shipped_module_compiles_under_python_3_9() -> None:
    files = [str(f) for folder in SHIPPED for f in sorted(folder.rglob("*.py"))]
    code = ("import sys\n"
            "for f in sys.argv[1:]:\n"
            "    with open(f, encoding='utf-8') as fh:\n"
            "        compile(fh.read(), f, 'exec')\n")
    out = subprocess.run([str(PYTHON39), "-c", code, *files], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr


@pytest.mark.skipif(PYTHON39 is None, reason="no Python 3.9 interpreter on this machine")
def test_under_python_3_9_the_kernel_s_strenum_is_the_backport_and_behaves() -> None:
    code = ("import importlib.util, json, sys\n"
            "spec = importlib.util.spec_from_file_location('compat', sys.argv[1])\n"
            "compat = importlib.util.module_from_spec(spec); spec.loader.exec_module(compat)\n"
            "Status = compat.StrEnum('Status', {'PASS': 'pass'})\n"
            "assert compat.StrEnum is compat.StrEnumBackport\n"
            "print(str(Status.PASS), f'{Status.PASS:>5}', json.dumps([Status.PASS]), Status.PASS == 'pass')\n")
    out = subprocess.run([str(PYTHON39), "-c", code, str(REPO / "kernel" / "compat.py")], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.split() == ["pass", "pass", '["pass"]', "True"], out.stderr
